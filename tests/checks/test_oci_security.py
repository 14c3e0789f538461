"""Security-rule checks on variations of the shipped scenarios: containment, client ranges, NSGs."""

from __future__ import annotations

import pytest

from tests.checks.test_oci_lb import found, load, run


def seclist(doc, name):
    return next(s for s in doc["oci"]["securityLists"] if s["displayName"] == name)


def nodeport_rule(source):
    return {"protocol": "6", "source": source, "sourceType": "CIDR_BLOCK", "isStateless": False,
            "tcpOptions": {"destinationPortRange": {"min": 30000, "max": 32767}}}


@pytest.mark.parametrize(("source", "reported"), [
    ("10.0.0.0/16", False),    # the VCN contains the LB subnet
    ("10.0.20.0/24", False),
    ("10.0.20.0/25", True),    # half the LB subnet is not enough: the LB may send from the other half
    ("10.0.21.0/24", True),
])
def test_worker_nodeport_rule_must_contain_the_lb_subnet(source, reported, builtin_registry):
    doc = load("missing-nodeport-rule")
    seclist(doc, "oke-nodeseclist")["ingressSecurityRules"].append(nodeport_rule(source))
    report = run(doc, builtin_registry)
    assert bool(found(report, "OKD-NP-002")) is reported


def test_client_ranges_come_from_load_balancer_source_ranges(builtin_registry):
    doc = load("nlb-preserve-source")
    svc = next(o for o in doc["kubernetes"] if o["kind"] == "Service")
    svc["spec"]["loadBalancerSourceRanges"] = ["198.51.100.0/24"]
    seclist(doc, "oke-svclbseclist")["ingressSecurityRules"][0]["source"] = "198.51.100.0/24"
    (finding,) = found(run(doc, builtin_registry), "OKD-NP-003")
    assert finding.evidence["clients"] == "198.51.100.0/24"
    seclist(doc, "oke-nodeseclist")["ingressSecurityRules"].append(nodeport_rule("198.51.100.0/24"))
    assert not found(run(doc, builtin_registry), "OKD-NP-003")


def test_listener_rule_for_other_clients_does_not_count(builtin_registry):
    doc = load("healthy-nlb")
    svc = next(o for o in doc["kubernetes"] if o["kind"] == "Service")
    svc["spec"]["loadBalancerSourceRanges"] = ["198.51.100.0/24"]
    rule = seclist(doc, "oke-svclbseclist")["ingressSecurityRules"][0]
    assert not found(run(doc, builtin_registry), "OKD-LB-012")  # 0.0.0.0/0 covers the range
    rule["source"] = "203.0.113.0/24"
    (finding,) = found(run(doc, builtin_registry), "OKD-LB-012")
    assert finding.evidence["blockedPorts"] == [80]


def test_worker_nsg_rule_from_the_lb_nsg_allows(builtin_registry):
    doc = load("nsg-mode-health-rule-deleted")
    rules = doc["oci"]["networkSecurityGroupRules"]["ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaaworkersnsg"]
    rules.append({"id": "AB12CD", "direction": "INGRESS", "protocol": "6", "isStateless": False, "isValid": True,
                  "source": "ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaafrontendnsg",
                  "sourceType": "NETWORK_SECURITY_GROUP",
                  "tcpOptions": {"destinationPortRange": {"min": 10256, "max": 10256}}})
    assert not found(run(doc, builtin_registry), "OKD-NP-002")


def test_unread_nsg_rules_make_no_claim(builtin_registry):
    doc = load("nsg-mode-health-rule-deleted")
    del doc["oci"]["networkSecurityGroupRules"]["ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaaworkersnsg"]
    assert not found(run(doc, builtin_registry), "OKD-NP-002")
