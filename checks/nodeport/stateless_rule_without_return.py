"""OKD-NP-004: stateless rules on the LB <-> worker path without the rule for the answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from okedoctor.chain.lb import (
    backend_workers,
    lb_peer,
    node_peer,
    port_pairs,
    preserves_source,
    source_ranges,
    traffic_ports,
)
from okedoctor.chain.rules import Endpoint, add_rules_fix, group_peer, lb_endpoint, ports_text, worker_groups
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Hop
from okedoctor.netrules import EGRESS, INGRESS, Match, Peer, Traffic, evaluate


@dataclass
class Gap:
    endpoint: Endpoint
    direction: str  # direction of the forward flow at this endpoint
    peer_cidr: str
    peer_label: str
    ports: dict[int, Match]


def _gaps(facts: Facts) -> list[Gap]:
    ref = facts.load_balancer
    lb = lb_endpoint(facts, ref) if ref else None
    lb_as_peer = lb_peer(facts, ref) if ref else None
    if not ref or not lb or not lb_as_peer:
        return []
    ports = [p for _, p in traffic_ports(facts)]
    gaps: list[Gap] = []
    for group in worker_groups(facts, backend_workers(facts)):
        out = Gap(lb, EGRESS, group.endpoint.cidr, group.endpoint.label, {})
        for port in ports:
            whole = evaluate(lb.rulesets, EGRESS, Traffic.tcp(port), group_peer(group)).allowed_by
            if whole is not None and not whole.stateless:
                continue  # a stateful rule covers every worker of the group: answers come back
            for node in group.nodes:
                peer = node_peer(facts, node)
                result = evaluate(lb.rulesets, EGRESS, Traffic.tcp(port), peer) if peer else None
                if result and result.return_missing:
                    out.ports[port] = result.allowed_by
        into = Gap(group.endpoint, INGRESS, lb_as_peer.cidr, f"the LB subnet {lb_as_peer.cidr}", {})
        for port in ports:
            result = evaluate(group.endpoint.rulesets, INGRESS, Traffic.tcp(port), lb_as_peer)
            if result.return_missing:
                into.ports[port] = result.allowed_by
        gaps += [g for g in (out, into) if g.ports]
        explicit = bool(((facts.service or {}).get("spec") or {}).get("loadBalancerSourceRanges"))
        if preserves_source(facts) and facts.service and (explicit or not ref.is_private):
            for cidr in source_ranges(facts.service):
                clients = Gap(group.endpoint, INGRESS, cidr, f"the clients {cidr}", {})
                for pair in port_pairs(facts):
                    result = evaluate(group.endpoint.rulesets, INGRESS, Traffic.tcp(pair.node_port or 0), Peer(cidr))
                    if pair.node_port and result.return_missing:
                        clients.ports[pair.node_port] = result.allowed_by
                if clients.ports:
                    gaps.append(clients)
    return gaps


class StatelessRuleWithoutReturn(Check):
    """A stateless rule lets LB <-> worker traffic through one way, and nothing lets the answers back.

    What it checks
        For every flow on the LB -> worker path that the rules allow (LB egress to the
        workers, worker ingress from the LB subnet, and worker ingress from the clients when
        an NLB preserves the source), whether it is allowed only by stateless rules; if so,
        whether a rule in the other direction of the same security list / NSG set lets the
        answer packets (source port = the service port, to the peer) out or in.

    Why it breaks
        A stateless rule does no connection tracking: unlike a stateful rule it does not open
        the way back for the answers. Security lists converted to stateless rules (for
        throughput, or by a template) without the matching return rules let the SYN reach the
        NodePort or 10256 and drop the SYN-ACK: health checks time out, connections hang.

    How to fix
        Either make the forward rule stateful (isStateless false), or add a stateless rule in
        the other direction: to/from the same peer CIDR, TCP, source port range = the service
        port(s) (30000-32767 for NodePorts, 10256), destination ports 1024-65535. The printed
        `oci network security-list update` command carries the list's existing rules (the
        update replaces them all) plus the return rule.
    """

    code = "OKD-NP-004"
    name = "stateless-rule-without-return"
    hop = Hop.NODEPORT
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        for gap in _gaps(facts):
            back = INGRESS if gap.direction == EGRESS else EGRESS
            nums = sorted(gap.ports)
            yield self.finding(
                f"The rules of {gap.endpoint.label} allow {gap.direction.lower()} "
                f"{'to' if gap.direction == EGRESS else 'from'} {gap.peer_label} on port {ports_text(nums)} "
                f"only by stateless rule(s), and no {back.lower()} rule lets the answers "
                f"{'back in' if back == INGRESS else 'back out'}",
                evidence={
                    "statelessRules": sorted({m.describe() for m in gap.ports.values()}),
                    "ports": nums,
                    "peer": gap.peer_cidr,
                    "evaluated": gap.endpoint.names(),
                },
                fix=add_rules_fix(gap.endpoint, back, gap.peer_cidr, nums, None, reply=True,
                                  what=f"answers to the stateless {gap.direction.lower()} rule"),
                subject=f"{gap.endpoint.subnet_id}/{gap.direction}/{gap.peer_cidr}",
            )
