"""The OCI Native Ingress Controller's URL live over the simulator: the IngressClassParameters read
(a CRD), what a denied read or a missing CRD makes of it, and the round trips it costs."""

from __future__ import annotations

import copy

from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli

HEALTHY = SCENARIOS_DIR / "healthy-native-ingress-url.yaml"
URL = "http://shop.example.com/cart"
PARAMS = "/apis/ingress.oraclecloud.com/v1beta1/namespaces/native-ingress-controller-system/ingressclassparameters/" \
         "native-ic-params"


def _without(kinds: tuple[str, ...]):
    doc = copy.deepcopy(load_snapshot(HEALTHY).to_dict())
    doc["kubernetes"] = [o for o in doc["kubernetes"] if o["kind"] not in kinds]
    return snapshot_from_dict(doc, "test")


def test_the_parameters_are_read_once_beside_the_walk(sim_env, tmp_path):
    sim = sim_env(load_snapshot(HEALTHY), tmp_path / "sim")
    out = tmp_path / "snap.yaml"
    run = run_cli("snapshot", URL, "-f", str(out))
    assert run.code == 0, run.stderr
    assert [r["path"] for r in sim.requests].count(PARAMS) == 1
    snap = load_snapshot(out)
    (params,) = [o for o in snap.kubernetes if o["kind"] == "IngressClassParameters"]
    assert params["apiVersion"] == "ingress.oraclecloud.com/v1beta1"
    again = run_cli("diagnose", "--from", str(out), "-o", "json")
    assert again.code == 0 and again.json["route"]["ingressClass"] == "native-ic", again.stdout


def test_parameters_that_do_not_exist_are_reported(sim_env, tmp_path):
    sim_env(_without(("IngressClassParameters",)), tmp_path / "sim")  # the CRD stays: the object is gone
    run = run_cli("diagnose", URL, "-o", "json", "--timeout", "30")
    assert run.code == 1, run.stderr
    assert [f["code"] for f in run.json["findings"] if f["rootCause"]] == ["OKD-NIC-005"]


def test_a_missing_crd_makes_the_ingress_hop_unknown(sim_env, tmp_path):
    sim_env(_without(("IngressClassParameters", "CustomResourceDefinition")), tmp_path / "sim")
    run = run_cli("diagnose", URL, "-o", "json", "--timeout", "30")
    assert run.code == 3, run.stderr
    assert run.json["hops"]["ingress"] == "unknown"
    assert "CRD (ingress.oraclecloud.com/v1beta1) is not installed" in run.json["hopReasons"]["ingress"]


def test_a_denied_read_makes_the_ingress_hop_unknown_with_the_rule(sim_env, tmp_path):
    doc = copy.deepcopy(load_snapshot(HEALTHY).to_dict())
    doc["collection"] = {"kubernetes.ingressclassparameters": {
        "kind": "denied", "reason": 'forbidden to read IngressClassParameters: needs {apiGroups: '
                                    '["ingress.oraclecloud.com"], resources: [ingressclassparameters], verbs: [get]}'}}
    sim = sim_env(snapshot_from_dict(doc, "test"), tmp_path / "sim")
    run = run_cli("diagnose", URL, "-o", "json", "--timeout", "30")
    assert run.code == 3, run.stderr
    assert [r["path"] for r in sim.requests].count(PARAMS) == 1
    assert "resources: [ingressclassparameters]" in run.json["hopReasons"]["ingress"]
