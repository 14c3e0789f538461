"""The four named OCI-side incidents: each yields exactly one root cause, at the right hop,
with the right port numbers in its fix (what the on-call engineer acts on)."""

from __future__ import annotations

import json
import shlex

import pytest

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR


def diagnose(name, registry):
    path = SCENARIOS_DIR / f"{name}.yaml"
    snap = load_snapshot(path)
    return diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), registry)


def the_root_cause(report):
    roots = report.root_causes
    assert len(roots) == 1, [(f.code, f.title) for f in roots]
    return roots[0]


def command_json(command: str, flag: str):
    argv = shlex.split(command)
    return json.loads(argv[argv.index(flag) + 1])


def test_missing_nodeport_rule(builtin_registry):
    report = diagnose("missing-nodeport-rule", builtin_registry)
    root = the_root_cause(report)
    assert (root.code, root.hop.value) == ("OKD-NP-002", "nodeport")
    assert "31880" in root.title and "10.0.20.0/24" in root.title
    rules = command_json(root.fix.commands[0], "--ingress-security-rules")
    added = rules[-1]
    assert added["source"] == "10.0.20.0/24"
    assert added["tcpOptions"]["destinationPortRange"] == {"min": 30000, "max": 32767}
    # update replaces the list: the existing rules must all be carried over
    assert len(rules) == 4 and "REPLACES" in root.fix.summary
    unreachable = [f for f in report.findings if f.code == "OKD-INET-001"]
    assert unreachable and unreachable[0].caused_by == "OKD-NP-002"


def test_blocked_10256(builtin_registry):
    report = diagnose("blocked-10256", builtin_registry)
    root = the_root_cause(report)
    assert (root.code, root.hop.value) == ("OKD-NP-002", "nodeport")
    assert "10256" in root.title
    added = command_json(root.fix.commands[0], "--ingress-security-rules")[-1]
    assert added["source"] == "10.0.20.0/24"
    assert added["tcpOptions"]["destinationPortRange"] == {"min": 10256, "max": 10256}
    health = next(f for f in report.findings if f.code == "OKD-LB-011")
    assert health.caused_by == "OKD-NP-002" and "TIMED_OUT" in health.title


def test_nlb_preserve_source(builtin_registry):
    report = diagnose("nlb-preserve-source", builtin_registry)
    root = the_root_cause(report)
    assert (root.code, root.hop.value) == ("OKD-NP-003", "nodeport")
    assert "31880" in root.title and "0.0.0.0/0" in root.title
    added = command_json(root.fix.commands[0], "--ingress-security-rules")[-1]
    assert added["source"] == "0.0.0.0/0"
    assert added["tcpOptions"]["destinationPortRange"] == {"min": 30000, "max": 32767}
    # The health checks come from the NLB subnet and pass: no rule is missing for them.
    assert not [f for f in report.findings if f.code == "OKD-NP-002"]


def test_stale_healthcheck_port(builtin_registry):
    report = diagnose("stale-healthcheck-port", builtin_registry)
    root = the_root_cause(report)
    assert (root.code, root.hop.value) == ("OKD-LB-009", "loadbalancer")
    assert "31880" in root.title and "30417" in root.title
    command = root.fix.commands[0]
    assert command.startswith("oci nlb backend-set update --network-load-balancer-id "
                              "ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaahandmadenlb")
    assert command_json(command, "--health-checker")["port"] == 30417
    assert {b["port"] for b in command_json(command, "--backends")} == {30417}
    followers = {f.code: f.caused_by for f in report.findings if not f.root_cause and f.severity.value != "info"}
    # the dead address follows from the Critical backends, which follow from the stale port
    assert followers == {"OKD-LB-006": "OKD-LB-009", "OKD-LB-011": "OKD-LB-009", "OKD-INET-001": "OKD-LB-011"}


# Every OCI-side scenario: exactly one root cause, the one its expect block names.
OCI_SCENARIOS = {
    "missing-nodeport-rule": "OKD-NP-002",
    "blocked-10256": "OKD-NP-002",
    "nlb-preserve-source": "OKD-NP-003",
    "stale-healthcheck-port": "OKD-LB-009",
    "lb-egress-blocked": "OKD-NP-001",
    "stateless-no-return": "OKD-NP-004",
    "lb-ingress-blocked": "OKD-LB-012",
    "lb-pending-quota": "OKD-LB-001",
    "lb-invalid-annotation": "OKD-LB-002",
    "nlb-failed-state": "OKD-LB-003",
    "listener-missing-for-port": "OKD-LB-004",
    "backend-set-empty": "OKD-LB-005",
    "backends-replaced-nodes": "OKD-LB-007",
    "node-not-added-to-backends": "OKD-LB-008",
    "etp-local-stale-health-checker": "OKD-LB-010",
    # the node-hop check names the cause; the LB finding follows from it
    "node-without-provider-id": "OKD-NODE-006",
    "lb-subnet-private-route": "OKD-INET-002",
    "app-500-distroless": "OKD-INET-004",
    "backend-stale-nodeport": "OKD-LB-006",
    "healthz-10256-refused": "OKD-LB-011",
    "nsg-mode-health-rule-deleted": "OKD-NP-002",
}


@pytest.mark.parametrize(("name", "code"), sorted(OCI_SCENARIOS.items()))
def test_one_root_cause_per_incident(name, code, builtin_registry):
    root = the_root_cause(diagnose(name, builtin_registry))
    assert root.code == code


def test_a_dead_address_with_no_oci_facts_is_an_effect_whose_cause_was_not_checked(builtin_registry):
    report = diagnose("internet-timeout-no-oci", builtin_registry)
    assert report.root_causes == [] and report.verdict.value == "failure"
    (effect,) = [f for f in report.findings if f.code == "OKD-INET-001"]
    assert "loadbalancer hop could not be checked" in effect.cause_unknown
    assert "root cause this is tied to" not in effect.fix.summary and "--lb-ocid" in effect.fix.summary
    assert report.to_dict()["hops"]["loadbalancer"] == "unknown"


def test_nsg_mode_fix_is_an_nsg_rule_from_the_frontend_nsg(builtin_registry):
    root = the_root_cause(diagnose("nsg-mode-health-rule-deleted", builtin_registry))
    (command,) = root.fix.commands
    assert command.startswith("oci network nsg rules add --nsg-id "
                              "ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaaworkersnsg")
    (rule,) = command_json(command, "--security-rules")
    assert rule["sourceType"] == "NETWORK_SECURITY_GROUP"
    assert rule["source"] == "ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaafrontendnsg"
    assert rule["tcpOptions"]["destinationPortRange"] == {"min": 10256, "max": 10256}
    # NSG mode with a backend NSG: the controller owns this rule, so no annotation is proposed
    assert "security-rule-management-mode:" not in root.fix.summary
