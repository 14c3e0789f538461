"""Every shipped scenario, diagnosed from its file, gives what its `expect` block says.

The rules, so that a scenario proves its check and the healthy ones prove there are no false
alarms:
- the verdict is the expected one;
- every expected finding (hop, code, optional rootCause, severity and causedBy, `mentions`
  strings found in the finding's evidence, title or fix) is reported;
- no warning or error root cause is reported that the block does not expect.
"""

from __future__ import annotations

import json

import pytest

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_scenario_matches_expectation(path, builtin_registry):
    snap = load_snapshot(path)
    assert snap.kind == "Scenario" and snap.expect is not None, "a shipped scenario needs an expect block"
    report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), builtin_registry)
    errors = [s for s in report.skipped if s.kind.value == "error"]
    assert not errors, f"checks crashed: {errors}"
    expect = snap.expect
    got = [f.to_dict() for f in report.findings]
    summary = json.dumps([(f["code"], f["hop"], f["severity"], f["rootCause"], f["title"]) for f in got], indent=1)
    for want in expect.get("findings") or []:
        matches = [f for f in got if f["code"] == want["code"] and f["hop"] == want["hop"]]
        assert matches, f"expected {want['code']} at {want['hop']}; got {summary}"
        if "rootCause" in want:
            assert any(f["rootCause"] == want["rootCause"] for f in matches), f"rootCause of {want['code']}"
        if "severity" in want:
            assert any(f["severity"] == want["severity"] for f in matches), f"severity of {want['code']}: {summary}"
        if "causedBy" in want:
            assert any(f.get("causedBy") == want["causedBy"] for f in matches), f"causedBy of {want['code']}: {summary}"
        for text in want.get("mentions") or []:
            assert any(text in json.dumps(f) for f in matches), f"{want['code']} does not mention {text!r}"
    expected_codes = {w["code"] for w in expect.get("findings") or []}
    unexpected = [f for f in got if f["rootCause"] and f["severity"] != "info" and f["code"] not in expected_codes]
    assert not unexpected, f"unexpected root causes: {summary}"
    assert report.verdict.value == expect["verdict"], summary
    hops = report.to_dict()["hops"]
    for hop, state in (expect.get("hops") or {}).items():
        assert hops[hop] == state, f"hop {hop} is {hops[hop]}, expected {state}: {report.to_dict()['hopReasons']}"


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_a_fix_speaks_of_a_cause_only_when_it_names_one(path, builtin_registry):
    snap = load_snapshot(path)
    report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), builtin_registry)
    for f in report.findings:
        summary = f.fix.summary
        if f.caused_by and f.symptom:
            assert f.caused_by in summary, f"{f.code}'s fix does not name its cause {f.caused_by}: {summary}"
        if not f.caused_by:
            assert "tied to" not in summary, f"{f.code} speaks of a cause it is not tied to: {summary}"
