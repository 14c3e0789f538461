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
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from okedoctor.errors import UsageError

# libyaml's loader is ~10x faster than the pure-Python one; a fleet snapshot is tens of MB.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_INPUT_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64  # an API object nests about 12 deep; recursion in the readers and writers ends near 1000
MAX_NODES = 12_000_000  # a 300-Service, 4,800-pod fleet snapshot (49 MB) holds 2.1 million


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
    return check_structure(doc, source, aliases=has_anchors(text))


def check_structure(doc: Any, source: str, *, aliases: bool = False) -> Any:
    """DOC, when it nests at most MAX_DEPTH deep and holds at most MAX_NODES values (aliases expanded).

    A document without YAML anchors (every JSON one) is a tree and walked once; one with anchors
    may share nodes, and is measured by `_shared_size` instead.
    """
    if aliases:
        return _check_shared(doc, source)
    stack: list[tuple[Any, int]] = [(doc, 1)]
    nodes = 0
    while stack:
        value, level = stack.pop()
        nodes += 1
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if nodes > MAX_NODES:
            raise UsageError(f"{source}: more than {MAX_NODES} values; not read")
        if level >= MAX_DEPTH and children:
            raise UsageError(f"{source}: nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, level + 1) for child in children)
    return doc


def has_anchors(text: str) -> bool:
    """Whether YAML text may define an anchor (`&name`), so that its document may share nodes."""
    return _ANCHOR.search(text) is not None


_ANCHOR = re.compile(r"(?:^|[\s\[{,:?-])&[^\s]", re.M)


def _check_shared(doc: Any, source: str) -> Any:
    """Each distinct list or mapping is visited once and its expanded size remembered, so a YAML
    bomb (aliases of aliases) is measured in the time its few distinct nodes take, not in the
    billions it stands for; an alias inside itself is refused as well."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        value, children_done = stack.pop()
        key = id(value)
        children = _children(value)
        if children_done:
            on_path.discard(key)
            nested = [c for c in children if id(c) in size]
            size[key] = 1 + len(children) - len(nested) + sum(size[id(c)] for c in nested)
            depth[key] = 1 + max((depth[id(c)] for c in nested), default=0)
            if size[key] > MAX_NODES:
                raise UsageError(f"{source}: more than {MAX_NODES} values (YAML aliases expanded); not read")
            if depth[key] > MAX_DEPTH:
                raise UsageError(f"{source}: nested deeper than {MAX_DEPTH} levels")
            continue
        if key in size:
            continue
        if key in on_path:
            raise UsageError(f"{source}: a YAML alias refers to itself; not read")
        on_path.add(key)
        stack.append((value, True))
        stack.extend((c, False) for c in children if isinstance(c, dict | list) and id(c) not in size)
    return doc


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return []


def read_document(path: str | Path) -> Any:
    """A file's parsed document as written (an overlay not expanded)."""
    p = Path(path)
    return parse_text(read_text(p), str(p))
