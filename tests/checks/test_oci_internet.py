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


def _http_lb(status, localhost=None):
    """healthy-lb-local with an HTTP listener, the given internet status and in-pod answers."""
    doc = load_document(SCENARIOS_DIR / "lb-504-nodeport-blocked.yaml")
    doc["live"]["internet"] = {"203.0.113.30:80": {"status": status, "body": "x"}}
    for c in doc["live"]["containers"].values():
        if localhost is None:
            c.pop("localhost", None)
            c["tools"] = []
        else:
            c["localhost"] = {"8080": dict(localhost)}
    return doc


def _inet_004(report):
    (finding,) = [f for f in report.findings if f.code == "OKD-INET-004"]
    return finding


def test_l7_504_while_the_app_answers_quickly_is_the_path(builtin_registry):
    finding = _inet_004(run(_http_lb(504, {"status": 200, "body": "ok", "elapsedMs": 4}), builtin_registry))
    assert finding.evidence["answeredBy"] == "loadBalancer"
    assert "not the application" in finding.title and "application behind" not in finding.title


def test_l7_504_while_the_app_answers_slowly_points_at_the_timeouts(builtin_registry):
    finding = _inet_004(run(_http_lb(504, {"status": 200, "body": "ok", "elapsedMs": 65000}), builtin_registry))
    assert finding.evidence["answeredBy"] == "loadBalancer"
    assert "slowly" in " ".join(finding.evidence["decidedBy"])


def test_l7_504_with_no_in_pod_answer_is_not_blamed_on_the_app(builtin_registry):
    finding = _inet_004(run(_http_lb(504), builtin_registry))
    assert finding.evidence["answeredBy"] == "undecided"
    assert "application behind" not in finding.title


def test_a_500_is_the_apps_even_behind_an_l7_lb(builtin_registry):
    finding = _inet_004(run(_http_lb(500, {"status": 200, "body": "ok"}), builtin_registry))
    assert finding.evidence["answeredBy"] == "application"


def test_an_nlb_never_writes_the_502_itself(builtin_registry):
    doc = copy.deepcopy(HEALTHY)
    doc["live"]["internet"] = {"203.0.113.10:80": {"status": 502, "body": "bad gateway"}}
    finding = _inet_004(run(doc, builtin_registry))
    assert finding.evidence["answeredBy"] == "application"
    assert "network load balancer" in finding.evidence["decidedBy"][0]
