"""Issue #10 items 2 and 4: a load balancer made by hand is found by its backends, live and from a
file, in every compartment the cluster spans; when none is found the LB hop says where it looked."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths
from tests.live.conftest import finding_keys, run_cli

SCENARIOS = {p.stem: p for p in scenario_paths()}


def root_causes(report: dict) -> list[tuple[str, str]]:
    return sorted((f["code"], f["subject"]) for f in report["findings"]
                  if f["rootCause"] and f["severity"] in ("error", "warning"))


def without_lb_ocid(name: str):
    snap = load_snapshot(SCENARIOS[name])
    snap = copy.deepcopy(snap)
    snap.target.pop("lbOcid", None)
    return snap


@pytest.mark.parametrize("name", ["stale-healthcheck-port", "backend-stale-nodeport", "hand-made-nlb-etp-local",
                                  "backends-replaced-nodes"])
def test_hand_made_nlb_found_by_backends_live_without_lb_ocid(name, sim_env, tmp_path):
    with_ocid = run_cli("diagnose", "--from", str(SCENARIOS[name]), "-o", "json")
    sim = sim_env(without_lb_ocid(name), tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "-n", "default", "-o", "json", "--timeout", "30")
    assert live.code == with_ocid.code == 2, live.stderr
    assert root_causes(live.json) == root_causes(with_ocid.json)
    search = live.json["context"]["lbSearch"]
    assert search["foundBy"] == "backends"
    assert search["compartments"] == ["ocid1.compartment.oc1..aaaaaaaademocompartment"]
    nlb = load_snapshot(SCENARIOS[name]).target["lbOcid"]
    assert [lb["id"] for lb in search["loadBalancers"]] == [nlb]
    # No read per LB beyond what the diagnosis needs: one list per kind and compartment, then the
    # matched NLB's own reads (GET, backend-set health...), none of another LB.
    paths = [r["path"] for r in sim.requests if r["api"] == "oci"]
    assert sum(p.endswith("/networkLoadBalancers") for p in paths) == 1
    assert sum(p.endswith("/loadBalancers") for p in paths) == 1
    per_lb = [p for p in paths if "/networkLoadBalancers/" in p or "/loadBalancers/" in p]
    assert per_lb and all(nlb in p for p in per_lb)
    assert max(Counter(p for p in paths if "/subnets/" in p).values()) == 1


def test_stale_healthcheck_port_snapshot_finds_the_same_from_file(sim_env, tmp_path):
    sim_env(without_lb_ocid("stale-healthcheck-port"), tmp_path / "sim")
    out = tmp_path / "snap.yaml"
    assert run_cli("snapshot", "svc/app", "-f", str(out)).code == 0
    live = run_cli("diagnose", "svc/app", "-o", "json")
    from_file = run_cli("diagnose", "--from", str(out), "-o", "json")
    assert from_file.code == live.code == 2
    assert finding_keys(from_file.json) == finding_keys(live.json)
    assert from_file.json["context"]["lbSearch"] == live.json["context"]["lbSearch"]
    snap = load_snapshot(out)
    assert snap.context["lbSearch"]["foundBy"] == "backends"
    assert "lbOcid" not in snap.target


def test_hand_made_nlb_with_no_backend_gives_the_hint(sim_env, tmp_path):
    # An empty backend set: nothing ties the NLB to the Service. The LB hop is then unknown with a hint.
    sim = sim_env(without_lb_ocid("backend-set-empty"), tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "-o", "json")
    search = live.json["context"]["lbSearch"]
    assert search["foundBy"] is None
    assert search["hint"] == ("no load balancer found for this Service in compartment "
                              "ocid1.compartment.oc1..aaaaaaaademocompartment; pass --lb-ocid OCID if one was "
                              "made by hand (candidates: NLB ops-app-nlb "
                              "(ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaaopsnlb): it has no backend at all "
                              "and listens on port 80, like this Service)")
    # Never ok: the LB and internet hops are unknown with the hint, and so is the verdict.
    assert live.code == 3, live.stdout
    assert live.json["hops"]["loadbalancer"] == live.json["hops"]["internet"] == "unknown"
    assert live.json["hopReasons"]["loadbalancer"] == live.json["hopReasons"]["internet"] == search["hint"]
    out = tmp_path / "snap.yaml"
    assert run_cli("snapshot", "svc/app", "-f", str(out)).code == 0
    assert run_cli("diagnose", "--from", str(out), "-o", "json").json["context"]["lbSearch"] == search
    paths = [r["path"] for r in sim.requests if r["api"] == "oci"]
    assert not [p for p in paths if "/networkLoadBalancers/" in p or "/loadBalancers/" in p]


A = "ocid1.compartment.oc1..aaaaaaaademocompartment"
B = "ocid1.compartment.oc1..aaaaaaaanodepoolcompartment"


def test_node_pools_in_another_compartment_use_the_clusters_compartment(sim_env, tmp_path):
    snap = load_snapshot(SCENARIOS["node-pool-other-compartment"])
    sim = sim_env(snap, tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "-o", "json")
    assert live.code == 0, live.stdout
    assert live.json["context"]["lbSearch"]["foundBy"] == "display-name"
    assert live.json["context"]["compartmentId"] == A
    paths = [r["path"] for r in sim.requests if r["api"] == "oci"]
    assert paths.count("/20180222/clusters/" + snap.context["cluster"]) == 1


def test_compartment_id_adds_a_compartment_and_lb001_names_those_searched(sim_env, tmp_path):
    snap = copy.deepcopy(load_snapshot(SCENARIOS["node-pool-other-compartment"]))
    third = "ocid1.compartment.oc1..aaaaaaaanetworkcompartment"
    snap.oci["networkLoadBalancers"][0]["compartmentId"] = third
    sim = sim_env(snap, tmp_path / "sim")
    missing = run_cli("diagnose", "svc/app", "-o", "json")
    assert missing.code == 1, missing.stdout
    lb001 = next(f for f in missing.json["findings"] if f["code"] == "OKD-LB-001")
    assert lb001["evidence"]["compartmentsSearched"] == [A, B]
    assert A in lb001["title"] and B in lb001["title"]
    paths = [r["path"] for r in sim.requests if r["api"] == "oci"]
    # The CCM's name in the cluster's compartment, then each kind listed once per compartment.
    assert sum(p == "/20200501/networkLoadBalancers" for p in paths) == 3
    assert sum(p == "/20170115/loadBalancers" for p in paths) == 2
    found = run_cli("diagnose", "svc/app", "--compartment-id", third, "-o", "json")
    assert found.code == 0, found.stdout
    assert found.json["context"]["lbSearch"]["compartments"] == [A, B, third]
    assert found.json["context"]["lbSearch"]["foundBy"] == "display-name"


def test_report_include_nodeport_finds_the_hand_made_nlb_and_lists_once(sim_env, tmp_path):
    snap = without_lb_ocid("hand-made-nlb-by-backends")
    sim = sim_env(snap, tmp_path / "sim")
    out = tmp_path / "fleet.yaml"
    live = run_cli("report", "-A", "--include-nodeport", "-o", "json", "--compartment-id", A)
    verdicts = {f"{s['target']['namespace']}/{s['target']['service']}": s["verdict"] for s in live.json["services"]}
    assert verdicts["default/app"] == "failure"
    app = next(s for s in live.json["services"] if s["target"]["service"] == "app")
    assert any(f["code"] == "OKD-LB-009" and f["rootCause"] for f in app["findings"])
    paths = [r["path"] for r in sim.requests]
    # Two Services searched, one list per kind and compartment, one cluster-wide Service list.
    assert paths.count("/20200501/networkLoadBalancers") == 1 and paths.count("/20170115/loadBalancers") == 1
    assert paths.count("/api/v1/services") == 1
    assert run_cli("snapshot", "svc/app", "-f", str(out), "--compartment-id", A).code == 0


def test_compartment_id_is_an_option_of_every_live_command():
    for command in ("diagnose", "snapshot", "report"):
        assert "--compartment-id" in run_cli(command, "--help").stdout
