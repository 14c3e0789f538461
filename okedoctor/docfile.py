"""Read a snapshot-format file's YAML or JSON document, with one-line errors (exit 64).

Shared by the snapshot loader, the scenario overlays' base loader, `--state` and the kubeconfig
reader. Every input is bounded before it can cost memory or time (docs/snapshot-format.md,
"Limits"): a regular file only (a FIFO would block, /dev/zero never ends), at most
MAX_INPUT_BYTES, nested at most MAX_DEPTH deep, with at most MAX_NODES values once YAML aliases are
expanded (a "billion laughs" document is a few hundred bytes that expand to billions).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from okedoctor.errors import UsageError

# libyaml's loader is ~10x faster than the pure-Python one; a fleet snapshot is tens of MB.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_INPUT_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64  # an API object nests about 12 deep; recursion in the readers and writers ends near 1000
MAX_NODES = 20_000_000  # a 300-Service fleet snapshot holds about 2 million


def read_text(p: Path, what: str = "snapshot file", hint: str = " (check the path given to --from)") -> str:
    """The file's text; a one-line UsageError when it is missing, not a regular file, too big or not UTF-8."""
    try:
        # O_NONBLOCK: opening a FIFO that no one writes to would otherwise wait forever.
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {p}{hint}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"cannot read {what} {p}: not a regular file (save a pipe or device to a file first)")
        if info.st_size > MAX_INPUT_BYTES:
            raise UsageError(f"{what} {p} is {info.st_size} bytes; at most {MAX_INPUT_BYTES} are read")
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{what} {p} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {what} {p}: not UTF-8 text (byte {exc.start})") from None


def parse_text(text: str, source: str) -> Any:
    if text.lstrip().startswith("{"):
        try:  # JSON is YAML, but the json module reads it a hundred times faster
            return check_structure(json.loads(text), source)
        except RecursionError:
            raise UsageError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
        except ValueError:
            pass  # fall through: YAML reports the error with line and column
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{source}: malformed YAML{where}: {problem}") from None
    except RecursionError:
        raise UsageError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, OverflowError) as exc:  # an integer of more than 4300 digits, a bad timestamp...
        raise UsageError(f"{source}: malformed value: {str(exc)[:120]}") from None
    return check_structure(doc, source)


def check_structure(doc: Any, source: str) -> Any:
    """DOC, when it nests at most MAX_DEPTH deep and holds at most MAX_NODES values (aliases expanded)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise UsageError(f"{source}: more than {MAX_NODES} values (YAML aliases expanded); not read")
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= MAX_DEPTH and children:
            raise UsageError(f"{source}: nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)
    return doc


def read_document(path: str | Path) -> Any:
    """A file's parsed document as written (an overlay not expanded)."""
    p = Path(path)
    return parse_text(read_text(p), str(p))
