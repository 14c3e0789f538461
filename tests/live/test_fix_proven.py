"""The fixes are proven: for every shipped scenario whose fix the simulator can apply, start the
simulator, diagnose (failure), `okedoctor fix --yes`, diagnose again: ok.

PROVEN lists those scenarios; the others are listed with the reason they are not (yet), and a
test keeps both lists honest: a scenario with applicable actions must be in one of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths
from tests.live.conftest import run_cli
from tests.live.test_live_scenarios import _target_args

PROVEN = (
    "missing-nodeport-rule",  # OCI network: worker ingress from the LB
    "blocked-10256",  # OCI network: the kube-proxy health port
    "lb-504-nodeport-blocked",
    "lb-egress-blocked",  # OCI network: the LB subnet's egress
    "lb-ingress-blocked",  # OCI network: the LB subnet's ingress from clients
    "stateless-no-return",  # OCI network: a stateless rule's return path
    "nlb-preserve-source",  # OCI network: client addresses reach the workers
    "lb-subnet-private-route",  # OCI network: the LB subnet's route table
    "backend-stale-nodeport",  # backends: a recreated Service's NodePort
    "backends-replaced-nodes",  # backends: nodes replaced by the pool
    "backend-set-empty",  # backends: a hand-emptied set
    "hand-made-lb-by-backends",  # backends: a hand-made LB on a dead NodePort
    "hand-made-nlb-by-backends",  # backends: a hand-made NLB on a dead NodePort
    "nsg-mode-health-rule-deleted",  # OCI network: an NSG rule added
    "stale-healthcheck-port",  # health check: a hand-made NLB's checker port
    "etp-local-stale-health-checker",  # health check: ETP Local's healthCheckNodePort
    "selector-mismatch",  # Service spec: a selector no pod matches
    "targetport-mismatch",  # Service spec: a targetPort no container declares
    "app-ignores-port",  # Service spec: the app listens elsewhere than the targetPort
)


def _paths() -> dict[str, Path]:
    return {p.stem: p for p in scenario_paths()}


@pytest.mark.parametrize("name", PROVEN)
def test_fix_makes_the_diagnosis_ok(name, sim_env, tmp_path):
    snap = load_snapshot(_paths()[name])
    sim = sim_env(snap, tmp_path / "sim")
    before = run_cli("diagnose", *_target_args(snap), "-o", "json", "--timeout", "30")
    assert before.json["verdict"] in ("failure", "warning"), before.stderr
    fixed = run_cli("fix", *_target_args(snap), "--yes", "--timeout", "30")
    assert "FAILED" not in fixed.stdout, fixed.stdout
    after = run_cli("diagnose", *_target_args(snap), "-o", "json", "--timeout", "30")
    left = [(f["code"], f["title"]) for f in after.json["findings"] if f["severity"] != "info"]
    assert after.json["verdict"] == "ok", (fixed.stdout[-300:], left)
    assert fixed.code == 0
    writes = [r for r in sim.requests if r["method"] in ("PUT", "POST", "PATCH") and not r["path"].endswith("/exec")]
    assert writes and all(r["status"] in (200, 202) for r in writes)


def test_dry_run_sends_nothing(sim_env, tmp_path):
    snap = load_snapshot(_paths()["missing-nodeport-rule"])
    sim = sim_env(snap, tmp_path / "sim")
    out = run_cli("fix", *_target_args(snap), "--dry-run")
    assert "PUT /securityLists/" in out.stdout and "If-Match" in out.stdout and out.code == 2
    assert [r for r in sim.requests if r["api"] != "internet" and r["method"] != "GET"
            and not r["path"].endswith("/exec")] == []


def test_a_list_changed_since_the_read_is_not_overwritten(sim_env, tmp_path, monkeypatch):
    """A rule added between the diagnosis and the confirmation (the CCM in SL-All mode does this)
    makes the update fail with 412 rather than wipe it."""
    import click
    import oci

    from tests.sim.test_sim_oci_sdk import client

    snap = load_snapshot(_paths()["missing-nodeport-rule"])
    sim = sim_env(snap, tmp_path / "sim")
    sl_id = "ocid1.securitylist.oc1.ap-tokyo-1.aaaaaaaanodeseclist"

    def someone_adds_a_rule(*_args, **_kw):
        vn = client(oci.core.VirtualNetworkClient, sim)
        rules = vn.get_security_list(sl_id).data.ingress_security_rules
        rules.append(oci.core.models.IngressSecurityRule(protocol="6", source="192.0.2.0/24"))
        vn.update_security_list(sl_id, oci.core.models.UpdateSecurityListDetails(ingress_security_rules=rules))
        return True

    monkeypatch.setattr(click, "confirm", someone_adds_a_rule)
    fixed = run_cli("fix", *_target_args(snap))
    assert "412" in fixed.stdout and "FAILED" in fixed.stdout and fixed.code == 2
    kept = client(oci.core.VirtualNetworkClient, sim).get_security_list(sl_id).data.ingress_security_rules
    assert any(r.source == "192.0.2.0/24" for r in kept)


def test_fix_refuses_another_context(sim_env, tmp_path):
    snap = load_snapshot(_paths()["missing-nodeport-rule"])
    sim = sim_env(snap, tmp_path / "sim")
    out = run_cli("fix", *_target_args(snap), "--yes", "--expect-context", "production")
    assert out.code == 64 and "refusing to run" in out.stderr
    assert [r for r in sim.requests if r["method"] != "GET"] == []
