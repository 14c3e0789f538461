"""Every OCI-side check has a shipped scenario in which it is the root cause (by diagnosis, not
by the expect block alone), and `checks explain` documents every one of them."""

from __future__ import annotations

from click.testing import CliRunner

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths

OCI_PREFIXES = ("OKD-LB-", "OKD-INET-", "OKD-NP-0")
# The dead public address is an effect: in every shipped incident its cause is found (or the hop
# that would hold it could not be read); tests/test_runner.py proves it stands as a root cause
# when every hop toward the pod was checked and none explains it.
EFFECT_ONLY = {"OKD-INET-001"}


def test_every_oci_check_is_a_root_cause_somewhere(builtin_registry):
    mine = {c.code for c in builtin_registry.checks if c.code.startswith(OCI_PREFIXES)}
    roots: set[str] = set()
    for path in scenario_paths():
        snap = load_snapshot(path)
        report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), builtin_registry)
        roots |= {f.code for f in report.findings if f.root_cause or f.severity.value == "info"}
    assert len(mine) >= 20
    assert sorted(mine - roots - EFFECT_ONLY) == []


def test_checks_explain_prints_the_three_sections(builtin_registry):
    from okedoctor.cli import cli

    runner = CliRunner()
    for check in builtin_registry.checks:
        if not check.code.startswith(OCI_PREFIXES):
            continue
        result = runner.invoke(cli, ["checks", "explain", check.code])
        assert result.exit_code == 0, result.output
        for section in ("What it checks", "Why it breaks", "How to fix"):
            assert section in result.output, (check.code, section)
