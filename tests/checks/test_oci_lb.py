"""Load-balancer-hop checks on variations of the shipped scenarios: the edges of each rule."""

from __future__ import annotations

import copy

import yaml

from okedoctor.diagnose import diagnose_snapshot
from okedoctor.model import Target
from okedoctor.overlay import load_document
from okedoctor.snapshot import parse_snapshot
from tests.conftest import SCENARIOS_DIR


def load(name):
    return load_document(SCENARIOS_DIR / f"{name}.yaml")


def run(doc, registry):
    snap = parse_snapshot(yaml.safe_dump(doc), "test")
    return diagnose_snapshot(snap, Target("default", "app"), registry, lb_ocid=(doc.get("target") or {}).get("lbOcid"))


def found(report, code):
    return [f for f in report.findings if f.code == code]


def test_health_port_of_a_service_we_did_not_read_is_believed_when_the_lb_says_ok(builtin_registry):
    doc = load("stale-healthcheck-port")
    for key in doc["oci"]["backendSetHealth"]:
        doc["oci"]["backendSetHealth"][key].update(status="OK", criticalStateBackendNames=[])
    assert not found(run(doc, builtin_registry), "OKD-LB-009")


def test_unserved_health_port_without_health_view_is_only_a_warning(builtin_registry):
    doc = load("stale-healthcheck-port")
    doc["oci"]["backendSetHealth"] = {}
    doc["oci"]["backendHealth"] = {}
    (finding,) = found(run(doc, builtin_registry), "OKD-LB-009")
    assert finding.severity.value == "warning"


def test_health_port_of_another_service_in_the_snapshot_is_served(builtin_registry):
    doc = load("stale-healthcheck-port")
    other = copy.deepcopy(next(o for o in doc["kubernetes"] if o["kind"] == "Service"))
    other["metadata"].update(name="legacy", uid="0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
    other["spec"]["ports"][0]["nodePort"] = 31880
    doc["kubernetes"].append(other)
    report = run(doc, builtin_registry)
    assert not found(report, "OKD-LB-009")
    # the backends still miss the target's live NodePort, and the old port now belongs to legacy
    (stale,) = found(report, "OKD-LB-006")
    assert "default/legacy" in str(stale.evidence["oldPortNowServedBy"])


def test_etp_local_with_no_healthy_node_is_not_by_design(builtin_registry):
    doc = load("healthy-lb-local")
    for value in doc["oci"]["backendHealth"].values():
        value["status"] = "CRITICAL"
        for r in value["healthCheckResults"]:
            r["healthCheckStatus"] = "INVALID_STATUS_CODE"
    for value in doc["oci"]["backendSetHealth"].values():
        value["status"] = "CRITICAL"
    (finding,) = found(run(doc, builtin_registry), "OKD-LB-011")
    assert finding.severity.value == "error"


def test_excluded_node_is_not_reported_missing(builtin_registry):
    doc = load("node-not-added-to-backends")
    node = next(o for o in doc["kubernetes"] if o["kind"] == "Node" and o["metadata"]["name"] == "10.0.10.7")
    node["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"] = "true"
    assert not found(run(doc, builtin_registry), "OKD-LB-008")


def test_ccm_lb_with_the_expected_checker_is_quiet_and_a_console_edit_is_not(builtin_registry):
    doc = load("healthy-nlb")
    assert not found(run(doc, builtin_registry), "OKD-LB-010")
    checker = doc["oci"]["networkLoadBalancers"][0]["backendSets"]["TCP-80"]["healthChecker"]
    checker.update(protocol="TCP", urlPath=None)
    (finding,) = found(run(doc, builtin_registry), "OKD-LB-010")
    assert finding.evidence["expected"] == {"protocol": "HTTP", "port": 10256, "urlPath": "/healthz"}


def test_pending_lb_quotes_the_event_redacted_and_names_the_iam_statement_nsg_mode_needs(builtin_registry):
    doc = load("lb-pending-quota")
    event = next(o for o in doc["kubernetes"] if o["kind"] == "Event" and o.get("reason") == "SyncLoadBalancerFailed")
    event["message"] = ("Error syncing load balancer: failed to ensure load balancer: CreateNetworkSecurityGroup: "
                        "Service error:NotAuthorizedOrNotFound. Authorization failed or requested resource not found. "
                        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.secretpart")
    (finding,) = found(run(doc, builtin_registry), "OKD-LB-001")
    quoted = finding.evidence["lastEvent"]
    assert quoted["object"] == "service/default/app" and quoted["reason"] == "SyncLoadBalancerFailed"
    assert "secretpart" not in quoted["message"] and "NotAuthorizedOrNotFound" in quoted["message"]
    assert "network security groups" in finding.title
    assert "manage network-security-groups" in finding.fix.summary and "request.principal.type = 'cluster'" in \
        finding.fix.summary
