"""The healthy scenarios prove the OCI-side checks raise no false alarm: every one of them ran
(none skipped for missing facts) and none reported a warning or an error."""

from __future__ import annotations

import pytest

from tests.checks.test_oci_incidents import diagnose

OCI_PREFIXES = ("OKD-LB-", "OKD-INET-", "OKD-NP-0")


@pytest.mark.parametrize("name", ["healthy-nlb", "healthy-lb-local"])
def test_healthy_scenarios_raise_nothing(name, builtin_registry):
    report = diagnose(name, builtin_registry)
    ours = [c for c in builtin_registry.checks if c.code.startswith(OCI_PREFIXES)]
    assert len(ours) >= 5
    assert not [s for s in report.skipped if s.code.startswith(OCI_PREFIXES)]
    loud = [(f.code, f.title) for f in report.findings
            if f.code.startswith(OCI_PREFIXES) and f.severity.value != "info"]
    assert not loud
    assert report.verdict.value == "ok"


def test_local_policy_503s_are_information(builtin_registry):
    report = diagnose("healthy-lb-local", builtin_registry)
    health = [f for f in report.findings if f.code == "OKD-LB-011"]
    assert len(health) == 1 and health[0].severity.value == "info"
    rows = {r["node"]: r for r in health[0].evidence["backends"]}
    assert rows["10.0.10.7"]["readyEndpointOnNode"] is False
    assert rows["10.0.10.7"]["results"] == ["INVALID_STATUS_CODE", "INVALID_STATUS_CODE"]
