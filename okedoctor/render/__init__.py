"""Renderers: one module per output format, chosen through one lookup table."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from okedoctor.model import Report

FORMATS = ("text", "json", "markdown")


def renderer(fmt: str) -> Callable[[Report, IO[str]], None]:
    if fmt == "json":
        from okedoctor.render.json import render
    elif fmt == "markdown":
        from okedoctor.render.markdown import render
    else:
        from okedoctor.render.text import render
    return render
