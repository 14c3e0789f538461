"""Internet-hop checks on variations of the healthy NLB scenario: quiet when right, loud when not."""

from __future__ import annotations

import copy

import yaml

from okedoctor.diagnose import diagnose_snapshot
from okedoctor.model import Target
from okedoctor.overlay import load_document
from okedoctor.snapshot import parse_snapshot
from tests.conftest import SCENARIOS_DIR

HEALTHY = load_document(SCENARIOS_DIR / "healthy-nlb.yaml")
IGW = "ocid1.internetgateway.oc1.ap-tokyo-1.aaaaaaaademoigw"


def run(doc, registry):
    snap = parse_snapshot(yaml.safe_dump(doc), "test")
    return diagnose_snapshot(snap, Target("default", "app"), registry)


def with_route(target: str | None):
    doc = copy.deepcopy(HEALTHY)
    rules = [] if target is None else [
        {"destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "networkEntityId": target}]
    doc["oci"]["routeTables"] = [{"id": "ocid1.routetable.oc1.ap-tokyo-1.aaaaaaaapublicrt",
                                  "displayName": "oke-public-routetable", "routeRules": rules}]
    return doc


def codes(report):
    return {f.code for f in report.findings}


def test_internet_gateway_route_is_quiet(builtin_registry):
    report = run(with_route(IGW), builtin_registry)
    assert "OKD-INET-002" not in codes(report) and report.verdict.value == "ok"


def test_no_default_route_is_reported(builtin_registry):
    report = run(with_route(None), builtin_registry)
    (finding,) = [f for f in report.findings if f.code == "OKD-INET-002"]
    assert "has no route for 0.0.0.0/0" in finding.title


def test_refused_address_is_a_symptom(builtin_registry):
    doc = copy.deepcopy(HEALTHY)
    doc["live"]["internet"] = {"203.0.113.10:80": {"error": "refused"}}
    report = run(doc, builtin_registry)
    (finding,) = [f for f in report.findings if f.code == "OKD-INET-001"]
    assert finding.symptom and "refused" in finding.title and "every backend healthy" in finding.title


def test_l7_lb_502_with_critical_backends_is_the_lbs_own_answer(builtin_registry):
    doc = load_document(SCENARIOS_DIR / "healthy-lb-local.yaml")
    lb = doc["oci"]["loadBalancers"][0]
    key = f"{lb['id']}/TCP-80"
    doc["oci"]["backendSetHealth"][key]["status"] = "CRITICAL"
    doc["live"]["internet"] = {"203.0.113.30:80": {"status": 502, "body": "<html>502 Bad Gateway</html>"}}
    report = run(doc, builtin_registry)
    (finding,) = [f for f in report.findings if f.code == "OKD-INET-004"]
    assert "L7 load balancer itself" in finding.title
