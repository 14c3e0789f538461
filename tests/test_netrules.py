"""The VCN rule engine every security check stands on: union, protocols, ports, CIDRs, NSGs, state."""

from __future__ import annotations

import json
import shlex

import pytest

from okedoctor.netrules import (
    EGRESS,
    INGRESS,
    Peer,
    RuleSet,
    Traffic,
    evaluate,
    find_rule,
    make_rule,
    nsg_rules_add_command,
    oldest,
    rule_matches,
    security_list_update_command,
)

LB_SUBNET = Peer("10.0.20.0/24")
INTERNET = Peer("0.0.0.0/0")


def tcp_in(source: str, lo: int, hi: int | None = None, **extra) -> dict:
    rule = {"protocol": "6", "source": source, "sourceType": "CIDR_BLOCK", "isStateless": False,
            "tcpOptions": {"destinationPortRange": {"min": lo, "max": hi or lo}}}
    rule.update(extra)
    return rule


def sl(ingress=(), egress=(), name="seclist", ocid="ocid1.securitylist.oc1..a", created="2026-01-01T00:00:00.000Z"):
    return {"id": ocid, "displayName": name, "timeCreated": created,
            "ingressSecurityRules": list(ingress), "egressSecurityRules": list(egress)}


def rs(ingress=(), egress=(), **kw) -> RuleSet:
    return RuleSet.from_security_list(sl(ingress, egress, **kw))


# ---- protocols -------------------------------------------------------------------------------

@pytest.mark.parametrize(("protocol", "traffic_protocol", "allowed"), [
    ("6", "6", True),
    ("17", "6", False),
    ("all", "6", True),
    ("all", "17", True),
    ("1", "6", False),
    (6, "6", True),  # a hand-written file with an int protocol still means TCP
])
def test_protocol_numbers(protocol, traffic_protocol, allowed):
    rule = {"protocol": protocol, "source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK", "isStateless": False}
    assert rule_matches(rule, INGRESS, Traffic((80, 80), traffic_protocol), INTERNET) is allowed


def test_udp_rule_reads_udp_options_not_tcp_options():
    rule = {"protocol": "17", "source": "0.0.0.0/0", "udpOptions": {"destinationPortRange": {"min": 53, "max": 53}}}
    assert rule_matches(rule, INGRESS, Traffic((53, 53), "17"), INTERNET)
    assert not rule_matches(rule, INGRESS, Traffic((54, 54), "17"), INTERNET)


# ---- ports -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("lo", "hi", "port", "allowed"), [
    (30000, 32767, 30000, True),
    (30000, 32767, 32767, True),
    (30000, 32767, 31880, True),
    (30000, 32767, 29999, False),
    (30000, 32767, 32768, False),
    (10256, 10256, 10256, True),
    (10256, 10256, 10255, False),
])
def test_destination_port_ranges_are_inclusive(lo, hi, port, allowed):
    assert rule_matches(tcp_in("10.0.20.0/24", lo, hi), INGRESS, Traffic.tcp(port), LB_SUBNET) is allowed


def test_absent_options_mean_all_ports():
    rule = {"protocol": "6", "source": "10.0.20.0/24", "sourceType": "CIDR_BLOCK"}
    assert rule_matches(rule, INGRESS, Traffic.tcp(1), LB_SUBNET)
    assert rule_matches(rule, INGRESS, Traffic.tcp(65535), LB_SUBNET)
    no_range = {"protocol": "6", "source": "10.0.20.0/24", "tcpOptions": {}}
    assert rule_matches(no_range, INGRESS, Traffic.tcp(31880), LB_SUBNET)


def test_source_port_range_must_cover_the_clients_ephemeral_ports():
    narrow = tcp_in("0.0.0.0/0", 80, tcpOptions={"destinationPortRange": {"min": 80, "max": 80},
                                                  "sourcePortRange": {"min": 40000, "max": 50000}})
    assert not rule_matches(narrow, INGRESS, Traffic.tcp(80), INTERNET)
    wide = tcp_in("0.0.0.0/0", 80, tcpOptions={"destinationPortRange": {"min": 80, "max": 80},
                                                "sourcePortRange": {"min": 1024, "max": 65535}})
    assert rule_matches(wide, INGRESS, Traffic.tcp(80), INTERNET)


# ---- CIDR containment --------------------------------------------------------------------------

@pytest.mark.parametrize(("rule_cidr", "peer", "allowed"), [
    ("0.0.0.0/0", "0.0.0.0/0", True),       # everything covers any client
    ("0.0.0.0/0", "10.0.20.0/24", True),
    ("10.0.20.0/24", "10.0.20.0/24", True),   # the LB subnet rule covers the LB subnet
    ("10.0.20.0/24", "0.0.0.0/0", False),     # ...but not the internet
    ("10.0.0.0/16", "10.0.20.0/24", True),
    ("10.0.20.0/25", "10.0.20.0/24", False),  # half the LB subnet is not enough
    ("10.0.20.0/24", "10.0.20.7", True),      # a single address inside
    ("10.0.20.0/24", "10.0.21.7", False),
    ("198.51.100.0/24", "203.0.113.0/24", False),
    ("::/0", "10.0.20.0/24", False),          # IPv6 rules never match IPv4 peers
    ("not-a-cidr", "10.0.20.0/24", False),
])
def test_cidr_containment(rule_cidr, peer, allowed):
    assert rule_matches(tcp_in(rule_cidr, 80), INGRESS, Traffic.tcp(80), Peer(peer)) is allowed


def test_egress_matches_on_destination():
    rule = {"protocol": "6", "destination": "10.0.10.0/24", "destinationType": "CIDR_BLOCK",
            "tcpOptions": {"destinationPortRange": {"min": 30000, "max": 32767}}}
    assert rule_matches(rule, EGRESS, Traffic.tcp(31880), Peer("10.0.10.5"))
    assert not rule_matches(rule, EGRESS, Traffic.tcp(31880), Peer("10.0.11.5"))
    # An egress rule has no `source`: evaluating it as ingress never matches.
    assert not rule_matches(rule, INGRESS, Traffic.tcp(31880), Peer("10.0.10.5"))


def test_service_cidr_block_never_matches_a_vcn_peer():
    rule = {"protocol": "all", "destination": "all-nrt-services-in-oracle-services-network",
            "destinationType": "SERVICE_CIDR_BLOCK"}
    assert not rule_matches(rule, EGRESS, Traffic.tcp(443), Peer("0.0.0.0/0"))


# ---- NSGs ---------------------------------------------------------------------------------------

LB_NSG = "ocid1.networksecuritygroup.oc1..lb"
WORKER_NSG = "ocid1.networksecuritygroup.oc1..workers"


def nsg_ruleset(rules):
    return RuleSet.from_nsg({"id": WORKER_NSG, "displayName": "workers"}, rules)


def test_nsg_source_allows_peer_in_that_nsg_only():
    rule = {"id": "A1", "direction": "INGRESS", "protocol": "6", "source": LB_NSG,
            "sourceType": "NETWORK_SECURITY_GROUP", "isStateless": False, "isValid": True,
            "tcpOptions": {"destinationPortRange": {"min": 10256, "max": 10256}}}
    group = nsg_ruleset([rule])
    in_nsg = Peer("10.0.20.0/24", frozenset({LB_NSG}))
    assert find_rule([group], INGRESS, Traffic.tcp(10256), in_nsg) is not None
    # Same subnet, but the peer's VNIC is not in the NSG: not allowed.
    assert find_rule([group], INGRESS, Traffic.tcp(10256), LB_SUBNET) is None


def test_nsg_rules_split_by_direction_and_invalid_rules_ignored():
    rules = [
        {"direction": "EGRESS", "protocol": "6", "destination": WORKER_NSG, "destinationType": "NETWORK_SECURITY_GROUP",
         "tcpOptions": {"destinationPortRange": {"min": 30000, "max": 32767}}},
        {"direction": "INGRESS", "protocol": "6", "source": "0.0.0.0/0", "isValid": False},
    ]
    group = RuleSet.from_nsg({"id": LB_NSG, "displayName": "lb"}, rules)
    worker = Peer("10.0.10.5", frozenset({WORKER_NSG}))
    assert find_rule([group], EGRESS, Traffic.tcp(31880), worker) is not None
    assert find_rule([group], INGRESS, Traffic.tcp(31880), worker) is None  # only an egress rule
    assert find_rule([group], INGRESS, Traffic.tcp(80), INTERNET) is None  # isValid false


def test_union_of_security_lists_and_nsgs():
    empty_list = rs()
    group = nsg_ruleset([{"direction": "INGRESS", "protocol": "6", "source": "10.0.20.0/24",
                          "tcpOptions": {"destinationPortRange": {"min": 31880, "max": 31880}}}])
    match = find_rule([empty_list, group], INGRESS, Traffic.tcp(31880), LB_SUBNET)
    assert match is not None and match.ruleset.kind == "NSG"
    assert find_rule([empty_list], INGRESS, Traffic.tcp(31880), LB_SUBNET) is None


# ---- stateful / stateless -----------------------------------------------------------------------

def test_stateful_rule_needs_no_return_rule():
    result = evaluate([rs([tcp_in("10.0.20.0/24", 30000, 32767)])], INGRESS, Traffic.tcp(31880), LB_SUBNET)
    assert result.ok and not result.allowed_by.stateless


def test_stateless_ingress_without_return_rule_is_reported():
    rule = tcp_in("10.0.20.0/24", 30000, 32767, isStateless=True)
    result = evaluate([rs([rule])], INGRESS, Traffic.tcp(31880), LB_SUBNET)
    assert result.forward_allowed and result.return_missing and not result.ok


def test_stateless_ingress_with_matching_stateless_egress():
    inbound = tcp_in("10.0.20.0/24", 30000, 32767, isStateless=True)
    outbound = {"protocol": "6", "destination": "10.0.20.0/24", "isStateless": True,
                "tcpOptions": {"sourcePortRange": {"min": 30000, "max": 32767}}}
    result = evaluate([rs([inbound], [outbound])], INGRESS, Traffic.tcp(31880), LB_SUBNET)
    assert result.ok and result.return_by is not None and result.return_by.direction == EGRESS


def test_return_rule_with_wrong_source_port_does_not_count():
    inbound = tcp_in("10.0.20.0/24", 31880, isStateless=True)
    outbound = {"protocol": "6", "destination": "10.0.20.0/24", "isStateless": True,
                "tcpOptions": {"sourcePortRange": {"min": 80, "max": 80}}}
    assert evaluate([rs([inbound], [outbound])], INGRESS, Traffic.tcp(31880), LB_SUBNET).return_missing


def test_return_rule_to_another_cidr_does_not_count():
    inbound = tcp_in("10.0.20.0/24", 31880, isStateless=True)
    outbound = {"protocol": "6", "destination": "10.0.30.0/24", "isStateless": True}
    assert evaluate([rs([inbound], [outbound])], INGRESS, Traffic.tcp(31880), LB_SUBNET).return_missing


def test_stateful_allow_all_egress_lets_the_answers_out():
    inbound = tcp_in("10.0.20.0/24", 31880, isStateless=True)
    outbound = {"protocol": "all", "destination": "0.0.0.0/0", "isStateless": False}
    assert evaluate([rs([inbound], [outbound])], INGRESS, Traffic.tcp(31880), LB_SUBNET).ok


def test_stateful_rule_preferred_over_stateless_one():
    stateless = tcp_in("10.0.20.0/24", 31880, isStateless=True)
    stateful = tcp_in("10.0.0.0/16", 30000, 32767)
    result = evaluate([rs([stateless, stateful])], INGRESS, Traffic.tcp(31880), LB_SUBNET)
    assert result.ok and result.allowed_by.index == 1


def test_stateless_egress_needs_ingress_for_the_answers():
    out = {"protocol": "6", "destination": "10.0.10.0/24", "isStateless": True,
           "tcpOptions": {"destinationPortRange": {"min": 10256, "max": 10256}}}
    back = {"protocol": "6", "source": "10.0.10.0/24", "isStateless": True,
            "tcpOptions": {"sourcePortRange": {"min": 10256, "max": 10256}}}
    worker = Peer("10.0.10.5")
    assert evaluate([rs(egress=[out])], EGRESS, Traffic.tcp(10256), worker).return_missing
    assert evaluate([rs([back], [out])], EGRESS, Traffic.tcp(10256), worker).ok


def test_nothing_allows():
    result = evaluate([rs([tcp_in("10.0.20.0/24", 80)])], INGRESS, Traffic.tcp(10256), LB_SUBNET)
    assert result.allowed_by is None and not result.ok and not result.return_missing


# ---- writing fixes ------------------------------------------------------------------------------

def test_security_list_update_keeps_existing_rules():
    existing = tcp_in("0.0.0.0/0", 22)
    seclist = sl([existing], ocid="ocid1.securitylist.oc1..nodes")
    new = make_rule(INGRESS, "10.0.20.0/24", Traffic((30000, 32767)), description="NodePorts from the LB subnet")
    cmd = security_list_update_command(seclist, INGRESS, [new])
    argv = shlex.split(cmd)
    assert argv[:5] == ["oci", "network", "security-list", "update", "--security-list-id"]
    assert argv[5] == "ocid1.securitylist.oc1..nodes"
    rules = json.loads(argv[argv.index("--ingress-security-rules") + 1])
    assert rules == [existing, new]
    assert new["tcpOptions"] == {"destinationPortRange": {"min": 30000, "max": 32767}}
    # The new rule is itself allowing what it is meant to allow.
    assert rule_matches(new, INGRESS, Traffic.tcp(31880), LB_SUBNET)


def test_nsg_rule_and_command():
    rule = make_rule(INGRESS, LB_NSG, Traffic.tcp(10256), peer_is_nsg=True, for_nsg=True)
    assert rule["direction"] == "INGRESS" and rule["sourceType"] == "NETWORK_SECURITY_GROUP"
    argv = shlex.split(nsg_rules_add_command(WORKER_NSG, [rule]))
    assert argv[:6] == ["oci", "network", "nsg", "rules", "add", "--nsg-id"]
    assert json.loads(argv[-1]) == [rule]


def test_return_rule_written_with_source_port():
    rule = make_rule(EGRESS, "10.0.20.0/24", Traffic.tcp(31880).reply(), stateless=True)
    assert rule["tcpOptions"]["sourcePortRange"] == {"min": 31880, "max": 31880}
    assert rule["tcpOptions"]["destinationPortRange"] == {"min": 1024, "max": 65535}
    assert rule["isStateless"] is True


def test_oldest_security_list_is_the_ccm_one():
    newer = sl(ocid="b", created="2026-05-01T00:00:00.000Z")
    older = sl(ocid="a", created="2026-01-01T00:00:00.000Z")
    assert oldest([newer, older])["id"] == "a"
    assert oldest([]) is None
