"""One failed read makes unknown only what depends on it, for the Services that depend on it
(issue #13 item 1); `--state` never takes the silence of a run that could not look as RESOLVED."""

from __future__ import annotations

import json

from okedoctor.fleet.generate import generate_fleet
from tests.live.conftest import run_cli

# generate_fleet(10): one Service per namespace team-N, svc-00N; svc-001 selects no pod,
# svc-003 crash-loops, svc-005 answers 500, svc-007 has a stale backend port, svc-009 has no LB
# (a LimitExceeded SyncLoadBalancerFailed event); the even ones are healthy.


def _verdicts(report: dict) -> dict[str, str]:
    return {f"{s['target']['namespace']}/{s['target']['service']}": s["verdict"] for s in report["services"]}


def _report(*argv: str):
    return run_cli("report", "-A", "--no-exec", "--timeout", "60", "-o", "json", *argv)


def test_a_failed_pod_list_blinds_only_its_service(sim_env, tmp_path):
    snap, expected = generate_fleet(services=10, nodes=3)
    sim_env(snap, tmp_path / "sim", faults=[{"api": "kubernetes", "path": "/namespaces/team-2/pods$",
                                              "status": 500}])
    run = _report()
    verdicts = _verdicts(run.json)
    assert verdicts.pop("team-2/svc-002") == "unknown"
    assert verdicts == {k: e.verdict for k, e in expected.items() if k != "team-2/svc-002"}
    assert run.code == 2  # the broken Services still fail the run


def test_a_failed_nlb_health_read_blinds_only_that_nlbs_service(sim_env, tmp_path):
    snap, expected = generate_fleet(services=10, nodes=3)
    sim_env(snap, tmp_path / "sim", faults=[{"api": "oci", "path": r"\.fleet4/backendSets/.*/health",
                                              "status": 500}])
    verdicts = _verdicts(_report().json)
    assert verdicts.pop("team-4/svc-004") == "unknown"
    assert verdicts == {k: e.verdict for k, e in expected.items() if k != "team-4/svc-004"}


def test_a_transient_429_is_retried_and_changes_nothing(sim_env, tmp_path):
    snap, expected = generate_fleet(services=10, nodes=3)
    sim = sim_env(snap, tmp_path / "sim", faults=[
        {"api": "kubernetes", "path": "/namespaces/team-3/pods$", "status": 429, "retry_after": 1, "times": 1},
        {"api": "kubernetes", "path": "/namespaces/team-5/replicasets$", "mode": "reset", "times": 1},
        {"api": "kubernetes", "path": "/api/v1/nodes$", "status": 503, "times": 1}])
    run = _report()
    assert _verdicts(run.json) == {k: e.verdict for k, e in expected.items()}
    tries = [r for r in sim.requests if r["path"] == "/api/v1/namespaces/team-3/pods"]
    assert [r["status"] for r in tries] == [429, 200]
    assert tries[1]["time"] - tries[0]["time"] >= 0.9  # Retry-After: 1 was honoured


def test_failed_events_do_not_downgrade_a_missing_lb(sim_env, tmp_path):
    snap, _ = generate_fleet(services=10, nodes=3)
    sim_env(snap, tmp_path / "sim", faults=[{"api": "kubernetes", "path": "/namespaces/team-9/events$",
                                              "status": 500}])
    report = {f"{s['target']['namespace']}/{s['target']['service']}": s for s in _report().json["services"]}
    lb = [f for f in report["team-9/svc-009"]["findings"] if f["code"] == "OKD-LB-001"]
    assert report["team-9/svc-009"]["verdict"] == "failure" and lb[0]["severity"] == "error"
    assert "events could not be read" in lb[0]["title"]
    assert report["team-8/svc-008"]["verdict"] == "ok"  # its events were read


def test_state_does_not_resolve_what_a_failed_read_hid(sim_env, tmp_path):
    snap, _ = generate_fleet(services=10, nodes=3)
    state = tmp_path / "state.json"
    sim_env(snap, tmp_path / "sim1")
    first = _report("--state", str(state))
    before = json.loads(state.read_text())["services"]
    assert before["team-3/svc-003"] and before["team-7/svc-007"]

    sim_env(snap, tmp_path / "sim2", faults=[
        {"api": "kubernetes", "path": "/namespaces/team-3/pods$", "status": 500},
        {"api": "oci", "path": r"\.fleet7", "status": 503}])
    second = _report("--state", str(state))
    changes = second.json["changes"]
    assert changes["resolved"] == {} and changes["new"] == {}
    assert set(changes["unverified"]) == {"team-3/svc-003", "team-7/svc-007"}
    after = json.loads(state.read_text())["services"]
    for svc in ("team-3/svc-003", "team-7/svc-007"):  # carried, first-seen dates kept
        assert {k: v["firstSeen"] for k, v in after[svc].items()} == \
            {k: v["firstSeen"] for k, v in before[svc].items()}
    assert first.code == second.code == 2


def test_a_failed_vnic_list_reads_each_vnic_instead_and_changes_nothing(sim_env, tmp_path):
    """A fleet run lists the workers' private IPs per subnet (OCI has no ListVnics); when that list
    fails, each worker's VNIC is read on its own, and every verdict is still the generated one."""
    snap, expected = generate_fleet(services=10, nodes=3)
    sim = sim_env(snap, tmp_path / "sim", faults=[{"api": "oci", "path": "/privateIps$", "status": 500}])
    assert _verdicts(_report().json) == {k: e.verdict for k, e in expected.items()}
    got = [r["path"] for r in sim.requests if "/vnics/" in r["path"]]
    assert sorted(got) == sorted(f"/20160918/vnics/ocid1.vnic.oc1.ap-tokyo-1.fleetvnic{i}" for i in range(3))


def test_workers_whose_vnics_cannot_be_read_leave_no_service_ok(sim_env, tmp_path):
    """The list and the reads it falls back to both fail: the workers' network is unknown, and so
    is every Service that would otherwise be ok; those with a fault elsewhere still fail."""
    snap, expected = generate_fleet(services=10, nodes=3)
    sim_env(snap, tmp_path / "sim", faults=[{"api": "oci", "path": "/privateIps$", "status": 503},
                                             {"api": "oci", "path": "/vnics/", "status": 503}])
    verdicts = _verdicts(_report().json)
    assert "ok" not in verdicts.values()
    assert {k for k, v in verdicts.items() if v == "unknown"} == \
        {k for k, e in expected.items() if e.verdict == "ok"}
