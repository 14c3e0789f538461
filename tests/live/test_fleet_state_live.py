"""`okedoctor report --state` over the simulated OKE: RESOLVED only for what the run verified gone,
and a report over nothing (a missing namespace, a namespace with no exposed Service) said in words."""

from __future__ import annotations

import copy
import json

from okedoctor.fleet.generate import generate_fleet
from okedoctor.snapshot import Snapshot
from tests.fleet.test_report_offline import Receiver
from tests.live.conftest import run_cli

OCI_DOWN = [{"api": "oci", "path": "networkLoadBalancers", "status": 503}]
# generate_fleet(10): team-1/svc-001 selects no pod, team-7/svc-007 has a stale backend port
# (OKD-LB-006), team-9/svc-009 has no load balancer; team-0/svc-000 is healthy.


def _fleet() -> Snapshot:
    snap, _ = generate_fleet(services=10, nodes=3)
    return snap


def _without(snap: Snapshot, ns: str, name: str) -> Snapshot:
    """The same cluster with one Service deleted."""
    out = copy.deepcopy(snap)
    out.kubernetes = [o for o in out.kubernetes
                      if not (o["kind"] == "Service" and o["metadata"].get("namespace") == ns
                              and o["metadata"]["name"] == name)]
    return out


def _report(state, *argv):
    return run_cli("report", *argv, "--state", str(state), "--no-exec", "--timeout", "60", "-o", "json")


def _codes(entries: dict) -> dict[str, list[str]]:
    return {svc: sorted(e["code"] if isinstance(e, dict) else e for e in v) for svc, v in entries.items()}


def test_a_narrower_namespace_resolves_nothing_elsewhere(sim_env, tmp_path):
    state = tmp_path / "state.json"
    sim_env(_fleet(), tmp_path / "sim")
    first = _report(state, "-A")
    assert "OKD-POD-001" in _codes(first.json["changes"]["new"])["team-1/svc-001"]
    first_seen = json.loads(state.read_text())["services"]["team-1/svc-001"]

    narrow = _report(state, "-n", "team-7")
    changes = narrow.json["changes"]
    assert changes["resolved"] == {} and changes["new"] == {}
    unverified = changes["unverified"]["team-1/svc-001"]
    assert {e["code"] for e in unverified} >= {"OKD-POD-001"}
    assert all(e["why"] == "out-of-scope" and "covered namespace team-7" in e["reason"] for e in unverified)
    assert "team-7/svc-007" not in changes["unverified"]  # diagnosed: its findings persist

    # Back to the whole cluster: nothing is new again, and the first-seen dates survived.
    again = _report(state, "-A")
    assert again.json["changes"]["new"] == {} and again.json["changes"]["resolved"] == {}
    kept = json.loads(state.read_text())["services"]["team-1/svc-001"]
    assert {k: v["firstSeen"] for k, v in kept.items()} == {k: v["firstSeen"] for k, v in first_seen.items()}


def test_text_output_shows_unverified_and_no_resolved(sim_env, tmp_path):
    state = tmp_path / "state.json"
    sim_env(_fleet(), tmp_path / "sim")
    _report(state, "-A")
    out = run_cli("report", "-n", "team-7", "--state", str(state), "--no-exec", "--only-changes")
    assert "RESOLVED" not in out.stdout
    line = next(x for x in out.stdout.splitlines() if "UNVERIFIED team-1/svc-001" in x and "OKD-POD-001" in x)
    assert "first seen" in out.stdout and "out of scope" in out.stdout, line


def test_oci_503_keeps_the_lb_finding_unverified_and_the_webhook_is_not_told_resolved(sim_env, tmp_path):
    state, prom = tmp_path / "state.json", tmp_path / "okedoctor.prom"
    snap = _fleet()
    sim = sim_env(snap, tmp_path / "sim1")
    assert "OKD-LB-006" in _codes(_report(state, "-A").json["changes"]["new"])["team-7/svc-007"]
    sim.stop()
    # OCI answers 503 to every NLB read, and team-9/svc-009 was deleted: a real change to post.
    sim_env(_without(snap, "team-9", "svc-009"), tmp_path / "sim2", faults=OCI_DOWN)
    rx = Receiver()
    try:
        down = _report(state, "-A", "--webhook", rx.url, "--prometheus-file", str(prom))
    finally:
        rx.close()
    changes = down.json["changes"]
    assert down.code == 2 and down.stderr == ""
    assert "team-7/svc-007" not in changes["resolved"]
    (lb,) = [e for e in changes["unverified"]["team-7/svc-007"] if e["code"] == "OKD-LB-006"]
    assert lb["why"] == "check-skipped" and "503" in lb["reason"]
    # The deleted Service is resolved, and says why.
    assert {e["note"] for e in changes["resolved"]["team-9/svc-009"]} == {"Service deleted"}
    (msg,) = rx.bodies
    body = msg["blocks"][1]["text"]["text"]
    assert "RESOLVED team-9/svc-009" in body and "Service deleted" in body
    assert not [x for x in body.splitlines() if "RESOLVED" in x and "OKD-LB-006" in x]
    assert "NOT VERIFIED team-7/svc-007: `OKD-LB-006`" in body
    assert 'okedoctor_unverified_findings{severity="error",hop="loadbalancer",why="check-skipped"} 1' \
        in prom.read_text()
    sim.stop()

    # OCI back, the port still stale: the finding persists (not NEW), first seen kept.
    sim_env(_without(snap, "team-9", "svc-009"), tmp_path / "sim3")
    back = _report(state, "-A")
    assert back.json["changes"]["new"] == {} and back.json["changes"]["unverified"] == {}
    assert "OKD-LB-006" in [k.split(":")[0] for k in back.json["changes"]["persisting"]["team-7/svc-007"]]


def test_a_missing_namespace_is_a_usage_error_naming_the_namespaces(sim_env, tmp_path):
    sim_env(_fleet(), tmp_path / "sim")
    out = run_cli("report", "-n", "nosuchns", "--no-exec")
    assert out.code == 64 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "okedoctor: namespace nosuchns not found in context oke-demo; namespaces: team-0, team-1, team-2, "
        "team-3, team-4, team-5, team-6, team-7, team-8, team-9"]


def test_a_missing_namespace_when_listing_namespaces_is_forbidden(sim_env, tmp_path):
    sim_env(_fleet(), tmp_path / "sim", faults=[{"api": "kubernetes", "path": "^/api/v1/namespaces$", "status": 403}])
    out = run_cli("report", "-n", "nosuchns", "--no-exec")
    assert out.code == 64 and len(out.stderr.strip().splitlines()) == 1
    assert "namespace nosuchns not found" in out.stderr and "listing namespaces is forbidden" in out.stderr


def test_a_denied_namespace_read_is_not_taken_as_not_found(sim_env, tmp_path):
    sim_env(_fleet(), tmp_path / "sim",
            faults=[{"api": "kubernetes", "path": "^/api/v1/namespaces/nosuchns$", "status": 403}])
    out = run_cli("report", "-n", "nosuchns", "--no-exec", "-o", "json")
    assert out.code == 3, out.stderr
    assert out.json["verdict"] == "unknown" and out.json["services"] == []
    assert "could not tell whether namespace nosuchns exists" in out.json["nothingToCheck"]


def test_a_namespace_without_a_load_balancer_service_says_so(sim_env, tmp_path):
    snap = _fleet()
    svc = next(o for o in snap.kubernetes if o["kind"] == "Service" and o["metadata"]["name"] == "svc-000")
    svc["spec"]["type"] = "NodePort"
    empty = copy.deepcopy(next(o for o in snap.kubernetes if o["kind"] == "Namespace"))
    empty["metadata"].update(name="empty", uid="uid-empty", labels={"kubernetes.io/metadata.name": "empty"})
    snap.kubernetes.append(empty)
    sim_env(snap, tmp_path / "sim")
    text = run_cli("report", "-n", "team-0", "--no-exec")
    assert text.code == 0, text.stderr
    assert ("no Service of type LoadBalancer in namespace team-0 (1 Service of other types: 1 NodePort); "
            "pass --include-nodeport to check NodePort Services too") in " ".join(text.stdout.split())
    assert "SERVICE" not in text.stdout and "verdict: ok (exit 0)  nothing checked" in text.stdout
    as_json = run_cli("report", "-n", "empty", "--no-exec", "-o", "json")
    assert as_json.code == 0 and as_json.json["nothingToCheck"] == "no Service in namespace empty: nothing to check"
    assert as_json.json["scope"] == {"namespace": "empty"}


def test_a_cluster_with_no_exposed_service_says_so(sim_env, tmp_path):
    from okedoctor.snapshot import load_snapshot
    from tests.conftest import SCENARIOS_DIR

    sim_env(load_snapshot(SCENARIOS_DIR / "clusterip-service.yaml"), tmp_path / "sim")
    out = run_cli("report", "-A", "--no-exec", "-o", "json")
    assert out.code == 0, out.stderr
    assert out.json["services"] == [] and out.json["scope"] == {"allNamespaces": True}
    assert out.json["nothingToCheck"].startswith("no Service of type LoadBalancer in any namespace (")
    assert "ClusterIP" in out.json["nothingToCheck"]
