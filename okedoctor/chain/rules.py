"""Writing the fix for a missing security rule: which security list or NSG to change, and the
exact oci CLI command. Shared by the security checks of the loadbalancer and nodeport hops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from okedoctor.chain.lb import NODEPORT_RANGE, ccm_annotation_fix
from okedoctor.facts import LoadBalancerRef, shared_by
from okedoctor.model import Fix
from okedoctor.netrules import (
    INGRESS,
    Peer,
    RuleSet,
    Traffic,
    make_rule,
    nsg_rules_add_command,
    oldest,
    security_list_update_command,
)

Obj = dict[str, Any]


@dataclass
class Endpoint:
    """One end of a flow as the VCN sees it: a subnet's security lists plus a VNIC's NSGs."""

    label: str  # "LB subnet oke-svclbsubnet (10.0.20.0/24)"
    rulesets: list[RuleSet]
    cidr: str = ""
    subnet_id: str = ""
    ips: list[str] = field(default_factory=list)

    @property
    def security_lists(self) -> list[Obj]:
        return [rs.body for rs in self.rulesets if rs.kind == "security list"]

    @property
    def nsgs(self) -> list[RuleSet]:
        return [rs for rs in self.rulesets if rs.kind == "NSG"]

    def names(self) -> list[str]:
        return [rs.label() for rs in self.rulesets]


def rule_traffic(ports: Iterable[int]) -> list[Traffic]:
    """The rules to add for these ports: one rule for the whole NodePort range when any port
    is in it (it also survives the next NodePort change), single-port rules for the rest."""
    ports = sorted(set(ports))
    out = []
    if any(NODEPORT_RANGE[0] <= p <= NODEPORT_RANGE[1] for p in ports):
        out.append(Traffic(NODEPORT_RANGE))
    out += [Traffic.tcp(p) for p in ports if not NODEPORT_RANGE[0] <= p <= NODEPORT_RANGE[1]]
    return out


def ports_text(ports: Iterable[int]) -> str:
    return ", ".join(str(p) for p in sorted(set(ports)))


def add_rules_fix(
    endpoint: Endpoint,
    direction: str,
    peer_cidr: str,
    ports: Sequence[int],
    ref: LoadBalancerRef | None,
    *,
    what: str,
    peer_nsg: str | None = None,
    reply: bool = False,
    svc: Obj | None = None,
    frontend: bool = False,
) -> Fix:
    """The fix adding rules that allow `ports` with the peer, on the endpoint's own rules.

    A VNIC in NSGs gets an NSG rule (`nsg rules add` only adds); otherwise the subnet's oldest
    security list (the one the CCM edits) is rewritten with its rules plus the new ones.
    """
    # A return rule for stateless traffic: stateless too, from the service port back to any client port.
    traffic = [t.reply() for t in rule_traffic(ports)] if reply else rule_traffic(ports)
    annotation = ccm_annotation_fix(ref, svc, frontend=frontend) if ref else ""
    if endpoint.nsgs:
        nsg = endpoint.nsgs[0]
        peer, is_nsg = (peer_nsg, True) if peer_nsg else (peer_cidr, False)
        rules = [make_rule(direction, peer, t, peer_is_nsg=is_nsg, for_nsg=True, stateless=reply,
                           description=f"{t.describe()} {what}")
                 for t in traffic]
        return Fix(
            summary=(f"Add {len(rules)} {direction.lower()} rule(s) to {nsg.label()} allowing "
                     f"{', '.join(t.describe() for t in traffic)} {'from' if direction == INGRESS else 'to'} {peer}."
                     + annotation),
            commands=(nsg_rules_add_command(nsg.id, rules),),
        )
    target_set = min((rs for rs in endpoint.rulesets if rs.kind == "security list"),
                     key=lambda rs: rs.body.get("timeCreated") or "", default=None)
    target = oldest(endpoint.security_lists)
    rules = [make_rule(direction, peer_cidr, t, stateless=reply, description=f"{t.describe()} {what}")
             for t in traffic]
    if target is None:
        return Fix(summary=f"{endpoint.label} has no security list or NSG to add the rule to." + annotation)
    existing = len(target.get("ingressSecurityRules" if direction == INGRESS else "egressSecurityRules") or [])
    return Fix(
        summary=(f"Add {direction.lower()} rule(s) {', '.join(t.describe() for t in traffic)} "
                 f"{'from' if direction == INGRESS else 'to'} {peer_cidr} to security list "
                 f"{target.get('displayName')} ({target.get('id')}). Note: `security-list update` REPLACES "
                 f"all {direction.lower()} rules of the list, so the command carries its {existing} existing "
                 f"rule(s) plus the new one; add --force to skip the prompt."
                 + (" --if-match is the list's ETag as read: OCI refuses the update (412) if a rule was added "
                    "since (the CCM adds some in SL-All mode); diagnose again then." if target_set and target_set.etag
                    else "") + annotation),
        commands=(security_list_update_command(target, direction, rules, target_set.etag if target_set else None),),
    )


def lb_endpoint(facts, ref: LoadBalancerRef) -> Endpoint | None:
    """The LB side: its subnet's security lists plus its own NSGs; None when not read."""
    from okedoctor.chain.lb import lb_rulesets, lb_subnets

    rulesets = lb_rulesets(facts, ref)
    subnets = lb_subnets(facts, ref)
    if rulesets is None or not subnets:
        return None
    sub = subnets[0]
    label = f"LB subnet {sub.get('displayName')} ({sub.get('cidrBlock')})"
    nsg_names = [rs.display_name for rs in rulesets if rs.kind == "NSG"]
    if nsg_names:
        label = f"LB in {label} and NSG {', '.join(nsg_names)}"
    return Endpoint(label, rulesets, sub.get("cidrBlock", ""), sub.get("id", ""))


@dataclass
class WorkerGroup:
    """Workers that share a subnet and NSGs, hence the same rules."""

    endpoint: Endpoint
    nodes: list[Obj]
    nsg_ids: tuple[str, ...]


def group_peer(group: WorkerGroup) -> Peer:
    """The whole group as one peer: a rule that allows its subnet (or its NSGs) allows every
    worker in it, so per-worker evaluation is needed only when this one is refused."""
    return Peer(group.endpoint.cidr, frozenset(group.nsg_ids))


# Keyed by the nodes' identities: they are the run's frozen Node objects, alive as long as the
# cache, and a name walk of every worker for each call cost more than the grouping it saved.
@shared_by(lambda nodes: tuple(map(id, nodes)))
def worker_groups(facts, nodes: list[Obj]) -> list[WorkerGroup]:
    """The given workers grouped by (subnet, NSGs); workers whose network was not read are left out.

    Most Services of a fleet send to the same workers: the grouping is kept per run and set of
    workers. Callers must not mutate it."""
    from okedoctor.chain.lb import node_rulesets

    groups: dict[tuple[str, tuple[str, ...]], WorkerGroup] = {}
    for node in nodes:
        got = node_rulesets(facts, node)
        if not got:
            continue
        vnic, subnet, rulesets = got
        nsg_ids = tuple(sorted(vnic.get("nsgIds") or ()))
        key = (subnet["id"], nsg_ids)
        if key not in groups:
            label = f"worker subnet {subnet.get('displayName')} ({subnet.get('cidrBlock')})"
            nsg_names = [rs.display_name for rs in rulesets if rs.kind == "NSG"]
            if nsg_names:
                label = f"workers in {label} and NSG {', '.join(nsg_names)}"
            endpoint = Endpoint(label, rulesets, subnet.get("cidrBlock", ""), subnet["id"])
            groups[key] = WorkerGroup(endpoint, [], nsg_ids)
        groups[key].nodes.append(node)
        groups[key].endpoint.ips.append(facts.node_internal_ip(node) or vnic.get("privateIp", ""))
    return list(groups.values())
