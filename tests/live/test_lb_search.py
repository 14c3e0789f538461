"""Issue #10 items 2 and 4: a load balancer made by hand is found by its backends, live and from a
file, in every compartment the cluster spans; when none is found the LB hop says where it looked."""

from __future__ import annotations

import copy

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


@pytest.mark.parametrize("name", ["stale-healthcheck-port", "backend-stale-nodeport", "hand-made-nlb-etp-local"])
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
