"""Every Kubernetes-side check is the root cause of at least one shipped scenario, proven by running it."""

from __future__ import annotations

import pytest

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths

PREFIXES = ("OKD-POD-", "OKD-NODE-", "OKD-CL-", "OKD-NP-1")
# The observed effect "no ready endpoint": it is a root cause only when no pod-level cause is
# visible, a case tests/checks/test_k8s_checks.py builds; every scenario shows its cause.
CONSEQUENCE_ONLY = {"OKD-POD-002"}


@pytest.fixture(scope="module")
def root_codes(builtin_registry):
    roots: dict[str, list[str]] = {}
    for path in scenario_paths():
        snap = load_snapshot(path)
        report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), builtin_registry)
        for f in report.findings:
            # An information finding is never a root cause; being reported is its whole job.
            if f.root_cause or f.severity.value == "info":
                roots.setdefault(f.code, []).append(path.stem)
    return roots


def test_every_kubernetes_check_is_a_root_cause_somewhere(builtin_registry, root_codes):
    mine = [c.code for c in builtin_registry.checks if c.code.startswith(PREFIXES)]
    assert len(mine) >= 30
    missing = [code for code in mine if code not in root_codes and code not in CONSEQUENCE_ONLY]
    assert not missing, f"checks with no scenario where they are the root cause: {missing}"
