"""`--state FILE`: remember the findings of the last run so cron alerts on change only."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from okedoctor.docfile import check_structure, read_text
from okedoctor.errors import UsageError
from okedoctor.fleet.model import Changes, FleetReport, service_key
from okedoctor.fleet.run import exposed_types
from okedoctor.model import Finding, Severity

STATE_VERSION = 1


_ENTRY_FIELDS = ("code", "check", "severity", "hop", "title", "subject", "firstSeen", "lastSeen", "note")


def load_state(path: str | Path) -> dict[str, Any] | None:
    """The previous run's state, or None on the first run (no file yet)."""
    p = Path(path)
    if not p.exists():
        return None
    afresh = "; delete it to start afresh"
    text = read_text(p, what="state file", hint="")
    try:
        doc = check_structure(json.loads(text), f"state file {p}")
    except RecursionError:
        raise UsageError(f"state file {p} is nested too deeply{afresh}") from None
    except ValueError as exc:
        raise UsageError(f"state file {p} is unreadable ({str(exc)[:120]}){afresh}") from None
    if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
        raise UsageError(f"state file {p} was written by another okedoctor version{afresh}")
    problem = _state_problem(doc)
    if problem:
        raise UsageError(f"state file {p} is malformed ({problem}){afresh}")
    return doc


def _state_problem(doc: dict[str, Any]) -> str | None:
    """What in a state file is not of the type this module writes (None when all is)."""
    if not isinstance(doc.get("lastRun", ""), str | None):
        return "lastRun is not a string"
    services = doc.get("services", {})
    if not isinstance(services, dict) or not all(
            isinstance(v, dict) and all(isinstance(e, dict) for e in v.values()) for v in services.values()):
        return "services is not a map of findings"
    for key, findings in services.items():
        for fkey, entry in findings.items():
            wrong = [f for f in _ENTRY_FIELDS if f in entry and not isinstance(entry[f], str)]
            if wrong or not isinstance(entry.get("code"), str) or not isinstance(entry.get("title"), str):
                return f"finding {fkey[:80]!r} of {key[:80]!r} lacks a string code and title, or has " + \
                    f"a non-string {', '.join(wrong) or 'field'}"
    return None


def _entry(f: Finding, first_seen: str, now: str) -> dict[str, Any]:
    return {"code": f.code, "check": f.check, "severity": f.severity.value, "hop": f.hop.value, "title": f.title,
            "subject": f.subject, "firstSeen": first_seen, "lastSeen": now}


def _carried(key: str, old: dict[str, Any], why: str, reason: str, last_run: str | None) -> dict[str, Any]:
    """A previous finding this run could not verify: kept as it was, with why."""
    out = {k: v for k, v in old.items() if k not in ("why", "reason")}
    out.setdefault("lastSeen", last_run or old.get("firstSeen", ""))
    return {**out, "key": key, "why": why, "reason": reason}


def _resolved(key: str, old: dict[str, Any], note: str | None = None) -> dict[str, Any]:
    out = {**old, "key": key}
    if note:
        out["note"] = note
    return out


def compare(fleet: FleetReport, previous: dict[str, Any] | None) -> Changes:
    """New, resolved, persisting and unverified warning/error findings, per Service.

    A previous finding is resolved only when this run verified it gone: its Service was in
    scope and diagnosed, the check that raised it ran there (was registered and not skipped,
    whatever the skip's kind) and did not raise it again; or the Service is no longer in the
    listing of a namespace the run covered (deleted). Anything else (another namespace, a
    skipped check, a NodePort Service without --include-nodeport) is unverified: kept open.
    """
    before: dict[str, dict[str, Any]] = (previous or {}).get("services", {})
    last_run = (previous or {}).get("lastRun")
    changes = Changes(first_run=previous is None)
    seen: set[str] = set()
    for report in fleet.services:
        key = service_key(report)
        seen.add(key)
        old = before.get(key, {})
        now = [f for f in report.findings if f.severity is not Severity.INFO]
        # A silenced finding is still there: neither new nor resolved, and it keeps its first sighting.
        now_keys = {f.key for f in now} | {s.finding.key for s in report.silenced}
        new = [f for f in now if f.key not in old]
        kept = [f for f in now if f.key in old]
        skipped = {s.code: s for s in report.skipped if s.code}
        gone, unverified = [], []
        for fkey, entry in old.items():
            if fkey in now_keys:
                continue
            code = str(entry.get("code", ""))
            if code in fleet.probe_codes and key in fleet.partly_probed:
                unverified.append(_carried(fkey, entry, "not-probed",
                                           "the in-pod probe ran in only some of the Service's pods", last_run))
            elif code in skipped:
                unverified.append(_carried(fkey, entry, "check-skipped",
                                           f"check skipped: {skipped[code].reason}", last_run))
            elif code not in fleet.check_codes:
                unverified.append(_carried(fkey, entry, "check-not-run",
                                           f"check {code} did not run (not loaded in this run)", last_run))
            else:
                gone.append(_resolved(fkey, entry))
        if new:
            changes.new[key] = new
        if kept:
            changes.persisting[key] = kept
        if gone:
            changes.resolved[key] = gone
        if unverified:
            changes.unverified[key] = unverified
    types = exposed_types(fleet.include_nodeport)
    for key, old in before.items():
        if key in seen or not old:
            continue
        ns = key.split("/", 1)[0]
        if fleet.scope is not None and ns != fleet.scope:
            reason = f"out of scope: this run covered namespace {fleet.scope} only"
            changes.unverified[key] = [_carried(k, v, "out-of-scope", reason, last_run) for k, v in old.items()]
        elif key not in fleet.listed:
            changes.resolved[key] = [_resolved(k, v, "Service deleted") for k, v in old.items()]
        elif fleet.listed[key] not in types and fleet.listed[key] == "NodePort":
            reason = "not covered: a NodePort Service, and this run had no --include-nodeport"
            changes.unverified[key] = [_carried(k, v, "not-covered", reason, last_run) for k, v in old.items()]
        elif fleet.listed[key] not in types:
            note = f"Service no longer exposed (type {fleet.listed[key]})"
            changes.resolved[key] = [_resolved(k, v, note) for k, v in old.items()]
        else:
            # Listed and exposed, yet not diagnosed: nothing was verified.
            reason = "not diagnosed in this run"
            changes.unverified[key] = [_carried(k, v, "not-covered", reason, last_run) for k, v in old.items()]
    return changes


def open_probe_findings(previous: dict[str, Any] | None, probe_codes: frozenset[str]) -> frozenset[str]:
    """The Services ("<ns>/<name>") whose previous run left a finding of the in-pod probe open:
    a fleet run probes every pod of these, so that such a finding can be verified gone."""
    out = set()
    for key, entries in ((previous or {}).get("services") or {}).items():
        if any(str(e.get("code", "")) in probe_codes for e in (entries or {}).values()):
            out.add(key)
    return frozenset(out)


def first_seen(fleet: FleetReport, previous: dict[str, Any] | None, now: datetime | None = None) -> dict[str, str]:
    """Per Service with a warning or error: since when (ISO, UTC), the earliest first sighting
    of the findings it has now; a finding this run saw first counts from now."""
    before = (previous or {}).get("services", {})
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    out = {}
    for report in fleet.services:
        key = service_key(report)
        seen = [str(before.get(key, {}).get(f.key, {}).get("firstSeen") or stamp)
                for f in report.findings if f.severity is not Severity.INFO]
        if seen:
            out[key] = min(seen)
    return out


def save_state(path: str | Path, fleet: FleetReport, previous: dict[str, Any] | None) -> None:
    """Write atomically, keeping when each finding was first seen, and every unverified one."""
    before = (previous or {}).get("services", {})
    changes = fleet.changes if fleet.changes is not None else compare(fleet, previous)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    services: dict[str, dict[str, Any]] = {}
    for report in fleet.services:
        key = service_key(report)
        present = [f for f in report.findings if f.severity is not Severity.INFO]
        present += [s.finding for s in report.silenced if s.finding.key in before.get(key, {})]
        services[key] = {
            f.key: _entry(f, before.get(key, {}).get(f.key, {}).get("firstSeen", now), now) for f in present
        }
    for key, entries in changes.unverified.items():
        kept = services.setdefault(key, {})
        for e in entries:
            kept[e["key"]] = {k: v for k, v in e.items() if k not in ("key", "why", "reason")}
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
