"""The example check in docs/writing-checks.md works as written."""

from __future__ import annotations

import re

from okedoctor.diagnose import diagnose_snapshot
from okedoctor.model import Target
from okedoctor.registry import load_registry
from okedoctor.snapshot import load_snapshot
from tests.conftest import ROOT, SCENARIOS_DIR


def test_writing_checks_example_runs(tmp_path):
    doc = (ROOT / "docs" / "writing-checks.md").read_text()
    example = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    (tmp_path / "example.py").write_text(example)
    registry = load_registry([tmp_path], builtins=False, entry_points_enabled=False)
    assert registry.load_errors == [] and [c.code for c in registry.checks] == ["ACME-POD-001"]

    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    assert diagnose_snapshot(snap, Target("default", "app"), registry).findings == []
    svc = next(o for o in snap.kubernetes if o["kind"] == "Service")
    del svc["spec"]["selector"]
    (finding,) = diagnose_snapshot(snap, Target("default", "app"), registry).findings
    assert finding.code == "ACME-POD-001" and finding.subject == "service/default/app"
    assert "kubectl patch svc app" in finding.fix.commands[0]


def test_docs_checks_md_lists_every_check(capsys):
    """docs/checks.md is the output of `okedoctor checks list -o markdown`; regenerate it when checks change."""
    import pytest

    from okedoctor.cli import main

    with pytest.raises(SystemExit):
        main(["checks", "list", "-o", "markdown"])
    assert (ROOT / "docs" / "checks.md").read_text() == capsys.readouterr().out
