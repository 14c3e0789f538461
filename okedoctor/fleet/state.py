"""`--state FILE`: remember the findings of the last run so cron alerts on change only."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from okedoctor.errors import UsageError
from okedoctor.fleet.model import Changes, FleetReport, service_key
from okedoctor.model import Severity

STATE_VERSION = 1


def load_state(path: str | Path) -> dict[str, Any] | None:
    """The previous run's state, or None on the first run (no file yet)."""
    p = Path(path)
    if not p.exists():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"state file {p} is unreadable ({exc}); delete it to start afresh") from None
    if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
        raise UsageError(f"state file {p} was written by another okedoctor version; delete it to start afresh")
    return doc


def compare(fleet: FleetReport, previous: dict[str, Any] | None) -> Changes:
    """New, resolved and persisting warning/error findings, per Service."""
    before: dict[str, dict[str, Any]] = (previous or {}).get("services", {})
    changes = Changes(first_run=previous is None)
    seen: set[str] = set()
    for report in fleet.services:
        key = service_key(report)
        seen.add(key)
        old = before.get(key, {})
        now = [f for f in report.findings if f.severity is not Severity.INFO]
        new = [f for f in now if f.key not in old]
        kept = [f for f in now if f.key in old]
        gone = [v for k, v in old.items() if k not in {f.key for f in now}]
        if new:
            changes.new[key] = new
        if kept:
            changes.persisting[key] = kept
        if gone:
            changes.resolved[key] = gone
    for key, old in before.items():
        # A Service that disappeared (deleted, or no longer exposed) resolves what it had.
        if key not in seen and old:
            changes.resolved[key] = list(old.values())
    return changes


def save_state(path: str | Path, fleet: FleetReport, previous: dict[str, Any] | None) -> None:
    """Write atomically, keeping when each finding was first seen."""
    before = (previous or {}).get("services", {})
    now = datetime.now(UTC).isoformat(timespec="seconds")
    services: dict[str, dict[str, Any]] = {}
    for report in fleet.services:
        key = service_key(report)
        services[key] = {
            f.key: {
                "code": f.code, "severity": f.severity.value, "hop": f.hop.value, "title": f.title,
                "subject": f.subject,
                "firstSeen": before.get(key, {}).get(f.key, {}).get("firstSeen", now),
            }
            for f in report.findings if f.severity is not Severity.INFO
        }
    doc = {"version": STATE_VERSION, "lastRun": now, "verdict": fleet.verdict.value, "services": services}
    atomic_write(Path(path), json.dumps(doc, indent=2, sort_keys=True) + "\n")


def check_writable(path: str | Path, what: str) -> None:
    """Refuse, before any collection, a path a run could not write its result to."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{what} {p} is a directory; give a file path")
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {p}: cannot create it under {parent}; give a writable path")


def atomic_write(path: Path, text: str) -> None:
    """Write beside the target, then rename: readers never see half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
