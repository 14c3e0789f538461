"""Evaluate VCN security rules the way the VCN does.

A VNIC accepts a packet when any rule of any security list of its subnet, or of any network
security group (NSG) the VNIC is in, allows it: the rules form a union, there is no deny and
no order. A rule matches on protocol ("6" TCP, "17" UDP, "1" ICMP or "all"), on the peer (a
CIDR that must *contain* the peer's whole range, or for NSG rules another NSG the peer's VNIC
is in), and for TCP/UDP on the destination and source port ranges (absent = all ports).

A stateful rule lets the answers back in or out on its own. A stateless rule does not: the
return packets (ports swapped, peer the same) need a rule of their own in the other direction,
which is what `evaluate` checks whenever only stateless rules allow a flow.

Everything here works on the raw OCI bodies (camelCase, as the REST API returns them).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from okedoctor import actions

Obj = dict[str, Any]

INGRESS = "INGRESS"
EGRESS = "EGRESS"
TCP = "6"
UDP = "17"
ICMP = "1"
ALL_PORTS = (1, 65535)
# The client side of a connection: an ephemeral port we cannot know, so a rule restricting
# it must cover every port a client may pick (IANA, Linux and Windows ranges together).
EPHEMERAL = (1024, 65535)

_PROTOCOL_NAMES = {TCP: "TCP", UDP: "UDP", ICMP: "ICMP", "58": "ICMPv6", "all": "all protocols"}
_OPTIONS_KEY = {TCP: "tcpOptions", UDP: "udpOptions"}
_PEER_KEYS = {INGRESS: ("source", "sourceType"), EGRESS: ("destination", "destinationType")}


@dataclass(frozen=True)
class Peer:
    """The other end of a flow: an address or CIDR, and the NSGs its VNIC is in (if any)."""

    cidr: str
    nsg_ids: frozenset[str] = frozenset()

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return parse_network(self.cidr)


# A fleet report evaluates hundreds of thousands of rule/peer pairs over a few hundred distinct
# CIDRs; parsing each once keeps rule evaluation from dominating the run (issue #15).
@functools.lru_cache(maxsize=4096)
def parse_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network of a CIDR or address (host bits allowed); ValueError when it is not one."""
    return ipaddress.ip_network(cidr, strict=False)


@functools.lru_cache(maxsize=16384)
def _contains(outer: str, inner: str) -> bool:
    try:
        rule_net, peer_net = parse_network(outer), parse_network(inner)
    except ValueError:
        return False
    return rule_net.version == peer_net.version and peer_net.subnet_of(rule_net)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Traffic:
    """What flows, seen from the VNIC whose rules are evaluated."""

    dst_ports: tuple[int, int]
    protocol: str = TCP
    src_ports: tuple[int, int] = EPHEMERAL

    @classmethod
    def tcp(cls, port: int) -> Traffic:
        return cls((port, port))

    def reply(self) -> Traffic:
        """The answer packets: the ports swapped."""
        return Traffic(self.src_ports, self.protocol, self.dst_ports)

    def describe(self) -> str:
        text = f"{protocol_name(self.protocol)}/{_span(self.dst_ports)}"
        if self.src_ports not in (EPHEMERAL, ALL_PORTS):
            text += f" from port {_span(self.src_ports)}"
        return text


def _span(ports: tuple[int, int]) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"


@dataclass(frozen=True)
class RuleSet:
    """The rules of one security list or one NSG."""

    kind: str  # "security list" or "NSG"
    id: str
    display_name: str
    ingress: tuple[Obj, ...] = ()
    egress: tuple[Obj, ...] = ()
    body: Obj = field(default_factory=dict, compare=False, hash=False)
    etag: str | None = field(default=None, compare=False, hash=False)  # as read, for --if-match
    # (direction, traffic, peer) -> this set's best match: the same flows are asked of the same
    # rule sets once per Service and node in a fleet report (issue #15).
    _memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_security_list(cls, sl: Obj, etag: str | None = None) -> RuleSet:
        return cls(
            "security list", sl.get("id", ""), sl.get("displayName") or "",
            tuple(sl.get("ingressSecurityRules") or ()), tuple(sl.get("egressSecurityRules") or ()), sl, etag=etag,
        )

    @classmethod
    def from_nsg(cls, nsg: Obj, rules: Iterable[Obj]) -> RuleSet:
        rules = list(rules)
        return cls(
            "NSG", nsg.get("id", ""), nsg.get("displayName") or "",
            tuple(r for r in rules if (r.get("direction") or "").upper() == INGRESS),
            tuple(r for r in rules if (r.get("direction") or "").upper() == EGRESS),
            nsg,
        )

    def rules(self, direction: str) -> tuple[Obj, ...]:
        return self.ingress if direction == INGRESS else self.egress

    def label(self) -> str:
        return f"{self.kind} {self.display_name or '?'} ({self.id})"


@dataclass(frozen=True)
class Match:
    """The rule that allowed a packet."""

    ruleset: RuleSet
    direction: str
    index: int
    rule: Obj

    @property
    def stateless(self) -> bool:
        return bool(self.rule.get("isStateless"))

    def describe(self) -> str:
        where = f"{self.direction.lower()} rule #{self.index + 1} of {self.ruleset.label()}"
        return f"{where}: {describe_rule(self.rule, self.direction)}"


@dataclass(frozen=True)
class FlowResult:
    """Whether a flow gets through one VNIC's rules, both ways."""

    allowed_by: Match | None
    # Only looked for when the flow is allowed by stateless rules alone.
    return_by: Match | None = None

    @property
    def forward_allowed(self) -> bool:
        return self.allowed_by is not None

    @property
    def return_missing(self) -> bool:
        return self.allowed_by is not None and self.allowed_by.stateless and self.return_by is None

    @property
    def ok(self) -> bool:
        return self.forward_allowed and not self.return_missing


def protocol_name(protocol: str) -> str:
    return _PROTOCOL_NAMES.get(str(protocol).lower(), f"protocol {protocol}")


def _range(options: Obj | None, key: str) -> tuple[int, int]:
    rng = (options or {}).get(key)
    if not rng:
        return ALL_PORTS
    return int(rng.get("min", ALL_PORTS[0])), int(rng.get("max", ALL_PORTS[1]))


def _covers(outer: tuple[int, int], inner: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def _peer_matches(rule: Obj, direction: str, peer: Peer) -> bool:
    value_key, type_key = _PEER_KEYS[direction]
    value = rule.get(value_key) or ""
    kind = (rule.get(type_key) or "CIDR_BLOCK").upper()
    if kind == "NETWORK_SECURITY_GROUP":
        return value in peer.nsg_ids
    if kind != "CIDR_BLOCK":
        return False  # SERVICE_CIDR_BLOCK names the Oracle Services Network, never a VCN peer
    return _contains(value, peer.cidr)


def _protocol_matches(rule: Obj, traffic: Traffic) -> bool:
    proto = str(rule.get("protocol", "")).lower()
    if proto == "all":
        return True
    if proto != traffic.protocol:
        return False
    options_key = _OPTIONS_KEY.get(proto)
    if not options_key:
        return True  # ICMP and others: no port to compare
    options = rule.get(options_key)
    return (_covers(_range(options, "destinationPortRange"), traffic.dst_ports)
            and _covers(_range(options, "sourcePortRange"), traffic.src_ports))


def rule_matches(rule: Obj, direction: str, traffic: Traffic, peer: Peer) -> bool:
    """Does this one rule allow `traffic` with `peer` in `direction`?"""
    if rule.get("isValid") is False:  # NSG rules the service marks invalid are not applied
        return False
    return _protocol_matches(rule, traffic) and _peer_matches(rule, direction, peer)


def _best_in(rs: RuleSet, direction: str, traffic: Traffic, peer: Peer) -> Match | None:
    """The first stateful rule of one set allowing the packet, else its first stateless one."""
    key = (direction, traffic, peer)
    if key in rs._memo:
        return rs._memo[key]
    stateless: Match | None = None
    found: Match | None = None
    for i, rule in enumerate(rs.rules(direction)):
        if rule_matches(rule, direction, traffic, peer):
            match = Match(rs, direction, i, rule)
            if not match.stateless:
                found = match
                break
            stateless = stateless or match
    rs._memo[key] = found or stateless
    return rs._memo[key]


def find_rule(rulesets: Sequence[RuleSet], direction: str, traffic: Traffic, peer: Peer) -> Match | None:
    """The rule allowing the packet, a stateful one when there is one; None if nothing does."""
    stateless: Match | None = None
    for rs in rulesets:
        match = _best_in(rs, direction, traffic, peer)
        if match is not None and not match.stateless:
            return match
        stateless = stateless or match
    return stateless


def evaluate(rulesets: Sequence[RuleSet], direction: str, traffic: Traffic, peer: Peer) -> FlowResult:
    """Whether `traffic` to/from `peer` passes the VNIC whose rules are `rulesets`, answers included."""
    match = find_rule(rulesets, direction, traffic, peer)
    if match is None or not match.stateless:
        return FlowResult(match)
    back = EGRESS if direction == INGRESS else INGRESS
    return FlowResult(match, find_rule(rulesets, back, traffic.reply(), peer))


# ---- describing and writing rules --------------------------------------------------------------

def _ports_text(options: Obj | None, key: str) -> str:
    lo, hi = _range(options, key)
    if (lo, hi) == ALL_PORTS:
        return "all"
    return str(lo) if lo == hi else f"{lo}-{hi}"


def describe_rule(rule: Obj, direction: str) -> str:
    value_key, _ = _PEER_KEYS[direction]
    proto = str(rule.get("protocol", ""))
    text = f"{'from' if direction == INGRESS else 'to'} {rule.get(value_key)} {protocol_name(proto)}"
    options = rule.get(_OPTIONS_KEY.get(proto, ""), None)
    if proto in _OPTIONS_KEY:
        text += f" dst port {_ports_text(options, 'destinationPortRange')}"
        if (options or {}).get("sourcePortRange"):
            text += f" src port {_ports_text(options, 'sourcePortRange')}"
    return text + (" (stateless)" if rule.get("isStateless") else "")


def make_rule(
    direction: str,
    peer: str,
    traffic: Traffic,
    *,
    peer_is_nsg: bool = False,
    stateless: bool = False,
    description: str = "",
    for_nsg: bool = False,
) -> Obj:
    """A rule body allowing `traffic` with `peer`, in the JSON the API and the oci CLI take."""
    value_key, type_key = _PEER_KEYS[direction]
    rule: Obj = {}
    if for_nsg:
        rule["direction"] = direction
    rule.update({
        "protocol": traffic.protocol,
        value_key: peer,
        type_key: "NETWORK_SECURITY_GROUP" if peer_is_nsg else "CIDR_BLOCK",
        "isStateless": stateless,
    })
    options_key = _OPTIONS_KEY.get(traffic.protocol)
    if options_key:
        opts: Obj = {"destinationPortRange": {"min": traffic.dst_ports[0], "max": traffic.dst_ports[1]}}
        if traffic.src_ports != EPHEMERAL and traffic.src_ports != ALL_PORTS:
            opts["sourcePortRange"] = {"min": traffic.src_ports[0], "max": traffic.src_ports[1]}
        rule[options_key] = opts
    if description:
        rule["description"] = description
    return rule


def security_list_update_command(security_list: Obj, direction: str, new_rules: Sequence[Obj],
                                 etag: str | None = None) -> str:
    """`oci network security-list update` keeping every existing rule and adding `new_rules`.

    The update REPLACES the whole rule list of that direction, so the command carries the
    existing rules too; a command with only the new rule would delete the others. With the
    ETag of the read as --if-match, OCI refuses it (412) when the list changed since.
    """
    key = "ingressSecurityRules" if direction == INGRESS else "egressSecurityRules"
    rules = list(security_list.get(key) or []) + list(new_rules)
    return actions.security_list_update(security_list, key, rules, etag)


def nsg_rules_add_command(nsg_id: str, new_rules: Sequence[Obj]) -> str:
    """`oci network nsg rules add`: NSG rules are added one by one, nothing is replaced."""
    return actions.nsg_rules_add(nsg_id, list(new_rules))


def oldest(security_lists: Iterable[Obj]) -> Obj | None:
    """The subnet's oldest security list: the one the cloud controller manager edits."""
    lists = list(security_lists)
    return min(lists, key=lambda sl: sl.get("timeCreated") or "") if lists else None


IGW_PREFIX = "ocid1.internetgateway."


def default_route_target(route_table: dict) -> str | None:
    """The networkEntityId that 0.0.0.0/0 goes to, or None when no rule covers the internet."""
    for rule in route_table.get("routeRules") or []:
        dest = rule.get("destination") or rule.get("cidrBlock") or ""
        if (rule.get("destinationType") or "CIDR_BLOCK") != "CIDR_BLOCK":
            continue
        try:
            if ipaddress.ip_network(dest, strict=False).prefixlen == 0 and ":" not in dest:
                return rule.get("networkEntityId")
        except ValueError:
            continue
    return None


def has_igw_default_route(route_table: dict) -> bool:
    return (default_route_target(route_table) or "").startswith(IGW_PREFIX)
