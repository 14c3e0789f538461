"""Every shipped scenario's whole JSON report, compared with the one recorded in tests/golden/.

A refactoring must not change any report: not a finding, an evidence value, a fix command, a
hop state or a skipped check's reason. The scenario tests check what each incident must show;
this one catches everything else that moves. Only run-dependent timing is left out.

A deliberate change of output is recorded with
`OKEDOCTOR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_reports.py`, and the
diff of tests/golden/ is then reviewed like code.
"""

from __future__ import annotations

import json
import os

import pytest

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.snapshot import load_snapshot
from tests.conftest import ROOT, scenario_paths

GOLDEN = ROOT / "tests" / "golden"
TIMING = ("duration_s", "checks_s")


def report_json(path, registry) -> str:
    snap = load_snapshot(path)
    report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), registry).to_dict()
    for key in TIMING:
        report["stats"].pop(key, None)
    return json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_report_is_unchanged(path, builtin_registry):
    got = report_json(path, builtin_registry)
    golden = GOLDEN / f"{path.stem}.json"
    if os.environ.get("OKEDOCTOR_UPDATE_GOLDEN") == "1":
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no recorded report for {path.stem}: record it with OKEDOCTOR_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8"), f"the report of {path.stem} changed"


def test_no_recorded_report_outlives_its_scenario():
    names = {p.stem for p in scenario_paths()}
    assert sorted(g.stem for g in GOLDEN.glob("*.json") if g.stem not in names) == []
