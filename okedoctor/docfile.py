"""Read a snapshot-format file's YAML or JSON document, with one-line errors (exit 64).

Shared by the snapshot loader and the scenario overlays' base loader, which sits below it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from okedoctor.errors import UsageError

# libyaml's loader is ~10x faster than the pure-Python one; a fleet snapshot is tens of MB.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"snapshot file not found: {p} (check the path given to --from)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read snapshot file {p}: {exc}") from None


def parse_text(text: str, source: str) -> Any:
    if text.lstrip().startswith("{"):
        try:  # JSON is YAML, but the json module reads it a hundred times faster
            return json.loads(text)
        except ValueError:
            pass  # fall through: YAML reports the error with line and column
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{source}: malformed YAML{where}: {problem}") from None


def read_document(path: str | Path) -> Any:
    """A file's parsed document as written (an overlay not expanded)."""
    p = Path(path)
    return parse_text(read_text(p), str(p))
