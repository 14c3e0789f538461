"""`.okedoctor.yaml` / `--config FILE` / `$OKEDOCTOR_CONFIG`, `--exclude CODE`, `--disable CHECK`:
read and validate into a `Policy`. Every mistake is one line and exit 64, before any collection,
so a typo in a silence never hides a finding nor runs a long diagnosis for nothing.

The file (docs/configuration.md)::

    silences:
      - code: OKD-NODE-001          # any of code, check, namespace, service, object, selector
        namespace: batch            # (all given must match; globs allowed except in selector)
        reason: node pool upgrade, CHG-1234   # required
        expires: 2026-12-31         # optional; after it the finding shows again and says so
    overrides:
      - check: lb-backend-health    # code or check (and the same scope keys)
        severity: warning           # error, warning or info
    disable: [OKD-POD-017]          # checks not to run at all (code or name)
"""

from __future__ import annotations

from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from okedoctor.docfile import parse_text
from okedoctor.errors import UsageError
from okedoctor.model import Severity
from okedoctor.policy import Override, Policy, Scope, Silence, parse_selector
from okedoctor.registry import Registry

DEFAULT_FILE = ".okedoctor.yaml"
TOP_KEYS = ("silences", "overrides", "disable")
SCOPE_KEYS = ("code", "check", "namespace", "service", "object", "selector")
SILENCE_KEYS = (*SCOPE_KEYS, "reason", "expires")
OVERRIDE_KEYS = (*SCOPE_KEYS, "severity")


def load_policy(path: str | None, registry: Registry, excludes: tuple[str, ...] = (),
                disables: tuple[str, ...] = ()) -> Policy:
    """The policy of one run: the file (given, else `.okedoctor.yaml` here if present) plus the flags."""
    doc, source = _read(path)
    silences = [_silence(e, f"{source} silences[{i}]", registry)
                for i, e in enumerate(_list(doc, "silences", source))]
    silences += [Silence(Scope(code=_code(c, "--exclude", registry)), "excluded by --exclude", source="--exclude")
                 for c in excludes]
    overrides = [_override(e, f"{source} overrides[{i}]", registry)
                 for i, e in enumerate(_list(doc, "overrides", source))]
    disabled = {_check_code(str(c), f"{source} disable", registry) for c in _list(doc, "disable", source)}
    disabled |= {_check_code(c, "--disable", registry) for c in disables}
    return Policy(silences=tuple(silences), overrides=tuple(overrides), disabled=frozenset(disabled))


def _read(path: str | None) -> tuple[dict[str, Any], str]:
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return {}, DEFAULT_FILE
        path = DEFAULT_FILE
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"config file not found: {p} (check --config or $OKEDOCTOR_CONFIG)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {p}: {exc}") from None
    doc = parse_text(text, str(p))
    if doc is None:
        return {}, str(p)
    if not isinstance(doc, dict):
        raise UsageError(f"{p}: expected a map with keys {', '.join(TOP_KEYS)}")
    _known(doc, TOP_KEYS, str(p))
    return doc, str(p)


def _list(doc: dict[str, Any], key: str, source: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise UsageError(f"{source}: {key} must be a list")
    return value


def _known(entry: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    unknown = [str(k) for k in entry if k not in keys]
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(keys)})")


def _entry(entry: Any, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a map with some of {', '.join(keys)}")
    _known(entry, keys, where)
    if not any(k in entry for k in SCOPE_KEYS):
        raise UsageError(f"{where}: says nothing to match; give at least one of {', '.join(SCOPE_KEYS)}")
    return entry


def _scope(entry: dict[str, Any], where: str, registry: Registry) -> Scope:
    text = {k: str(entry[k]) for k in SCOPE_KEYS if entry.get(k) is not None}
    if "code" in text:
        text["code"] = _code(text["code"], where, registry)
    if "check" in text and not any(fnmatchcase(c.name, text["check"]) for c in registry.checks):
        raise UsageError(f"{where}: no check named {text['check']!r}; see okedoctor checks list")
    selector = ()
    if "selector" in text:
        try:
            selector = parse_selector(text.pop("selector"))
        except ValueError as exc:
            raise UsageError(f"{where}: selector {exc}") from None
    return Scope(selector=selector, **text)


def _code(code: str, where: str, registry: Registry) -> str:
    """A code or a glob of codes (OKD-POD-*) that names at least one registered check."""
    code = code.strip().upper()
    if not any(fnmatchcase(c.code, code) for c in registry.checks):
        raise UsageError(f"{where}: no check with code {code!r}; see okedoctor checks list")
    return code


def _check_code(name: str, where: str, registry: Registry) -> str:
    check = registry.by_code(name) or next((c for c in registry.checks if c.name == name), None)
    if check is None:
        raise UsageError(f"{where}: no check {name!r} (give a code or a name from okedoctor checks list)")
    return check.code


def _silence(entry: Any, where: str, registry: Registry) -> Silence:
    entry = _entry(entry, SILENCE_KEYS, where)
    reason = str(entry.get("reason") or "").strip()
    if not reason:
        raise UsageError(f"{where}: a silence needs a reason (say why, for whoever reads the report next)")
    return Silence(_scope(entry, where, registry), reason, _expires(entry.get("expires"), where), where)


def _expires(value: Any, where: str) -> date | None:
    if isinstance(value, datetime):  # YAML reads 2026-12-31T00:00:00 as a datetime
        return value.date()
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"{where}: expires {value!r} is not a date (write YYYY-MM-DD)") from None


def _override(entry: Any, where: str, registry: Registry) -> Override:
    entry = _entry(entry, OVERRIDE_KEYS, where)
    try:
        severity = Severity(str(entry.get("severity", "")).lower())
    except ValueError:
        raise UsageError(f"{where}: severity must be one of error, warning, info") from None
    return Override(_scope(entry, where, registry), severity, where)
