"""Renderers: one module per output format, all named in one registry, `FORMATS`.

Every `-o/--output` choice reads `FORMATS` (through `report_formats()` / `fleet_formats()`), so
a new format is one entry here plus its functions. Entries name their functions as
"module:function" and are imported only when used: listing the formats (click's choices,
`--help`) loads no renderer and no rich.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from okedoctor.model import Report

# `--color auto|always|never`, set once per process by the command line (cliopts.color_option):
# a renderer's signature stays (report, out), and the fleet's renderers share the console. It
# lives here, not in `text`, so setting it loads no rich (a JSON run never imports it).
COLOR = {"mode": "auto"}


@dataclass(frozen=True)
class Format:
    report: str | None  # "module:function" rendering one Service's Report: fn(report, out)
    fleet: str | None  # "module:function" rendering `okedoctor report`'s FleetReport: fn(fleet, out, only_changes=)
    verbose: bool = False  # the report function takes verbose= (-v: every evidence field in full)
    lang: bool = False  # the report function takes lang= for its own labels (sentences come translated)


FORMATS: dict[str, Format] = {
    "text": Format("okedoctor.render.text:render", "okedoctor.fleet.render:render_text", verbose=True,
                   lang=True),
    "json": Format("okedoctor.render.json:render", "okedoctor.fleet.render:render_json"),
    "markdown": Format("okedoctor.render.markdown:render", "okedoctor.fleet.render:render_markdown"),
    "junit": Format("okedoctor.render.junit:render", "okedoctor.render.junit:render_fleet"),
    "html": Format(None, "okedoctor.fleet.html:render_fleet"),
}


def report_formats() -> tuple[str, ...]:
    """The `-o` choices of the commands that render one Service's report (diagnose, demo)."""
    return tuple(name for name, f in FORMATS.items() if f.report)


def fleet_formats() -> tuple[str, ...]:
    """The `-o` choices of `okedoctor report`."""
    return tuple(name for name, f in FORMATS.items() if f.fleet)


def _load(path: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def renderer(fmt: str, verbose: bool = False, lang: str = "en") -> Callable[[Report, IO[str]], None]:
    path = FORMATS[fmt].report if fmt in FORMATS else None
    if not path:
        raise KeyError(f"no report format {fmt!r}; one of {', '.join(report_formats())}")
    fn = _load(path)
    opts: dict[str, Any] = {}
    if verbose and FORMATS[fmt].verbose:
        opts["verbose"] = True
    if lang != "en" and FORMATS[fmt].lang:
        opts["lang"] = lang
    if opts:
        return lambda report, out: fn(report, out, **opts)
    return fn


def fleet_renderer(fmt: str) -> Callable[..., None]:
    path = FORMATS[fmt].fleet if fmt in FORMATS else None
    if not path:
        raise KeyError(f"no fleet report format {fmt!r}; one of {', '.join(fleet_formats())}")
    return _load(path)
