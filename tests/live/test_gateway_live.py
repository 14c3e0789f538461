"""The Gateway API URL live over the simulator: the Gateways are listed once, beside the routes,
and a denied Gateway list leaves the ingress hop unknown with the RBAC rule, never ok."""

from __future__ import annotations

import copy

from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli

HEALTHY = SCENARIOS_DIR / "healthy-envoy-gateway-url.yaml"
URL = "https://shop.example.com/cart"
GATEWAYS = "/apis/gateway.networking.k8s.io/v1/gateways"


def test_the_gateways_are_listed_once_and_their_status_judged(sim_env, tmp_path):
    sim = sim_env(load_snapshot(SCENARIOS_DIR / "gateway-certificate-refnotpermitted.yaml"), tmp_path / "sim")
    run = run_cli("diagnose", URL, "-o", "json", "--timeout", "30")
    assert run.code == 2, run.stderr
    assert [r["path"] for r in sim.requests].count(GATEWAYS) == 1
    assert [f["code"] for f in run.json["findings"] if f["rootCause"]] == ["OKD-ING-011"]


def test_a_denied_gateway_list_makes_the_ingress_hop_unknown_with_the_rule(sim_env, tmp_path):
    doc = copy.deepcopy(load_snapshot(HEALTHY).to_dict())
    doc["collection"] = {"kubernetes.gateways": {
        "kind": "denied", "reason": 'forbidden to read Gateways: needs {apiGroups: ["gateway.networking.k8s.io"], '
                                    'resources: [gateways], verbs: [list]}'}}
    sim = sim_env(snapshot_from_dict(doc, "test"), tmp_path / "sim")
    run = run_cli("diagnose", URL, "-o", "json", "--timeout", "30")
    assert [r for r in sim.requests if r["path"] == GATEWAYS][0]["status"] == 403
    assert run.code == 3, run.stderr
    assert run.json["hops"]["ingress"] == "unknown"
    assert "resources: [gateways]" in run.json["hopReasons"]["ingress"]
