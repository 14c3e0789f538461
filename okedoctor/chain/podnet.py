"""The pod network between workers: which CNI the cluster runs, and whether the VCN rules let a
worker forward the Service's traffic to a pod on another worker.

With externalTrafficPolicy Cluster the node that receives a connection (from the LB, on its
NodePort) hands it to any ready pod of the Service, often one on another node. That second leg
crosses the VCN:

- flannel (OKE's "flannel overlay") wraps it in VXLAN: UDP 8472 from node to node, both ways
  (the answer is encapsulated again by the pod's node);
- OCI VCN-native pod networking sends it as is to the pod's own IP, a secondary address on a
  VNIC in the pod subnet: TCP to the target port from the node into the pod subnet.

The CNI is read from what is collected anyway (no extra request): flanneld writes
`flannel.alpha.coreos.com/*` annotations on every node it runs on, and a VCN-native pod's IP
lies in a subnet of one of its node's VNICs. Pod IPs outside the VCN without flannel's
annotations (Calico, Cilium...) are not judged: their overlay port is not known.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from okedoctor.chain.lb import backend_workers, node_peer, node_rulesets, nsg_rulesets
from okedoctor.chain.nodes import etp_local
from okedoctor.facts import Facts, Obj, per_run, per_target
from okedoctor.kube import endpoint_addresses, name_of, resolve_target_port, service_ports
from okedoctor.model import Fix
from okedoctor.netrules import (
    EGRESS,
    EPHEMERAL,
    INGRESS,
    UDP,
    FlowResult,
    Peer,
    RuleSet,
    Traffic,
    evaluate,
    find_rule,
    make_rule,
    nsg_rules_add_command,
    oldest,
    parse_network,
    security_list_update_command,
)

FLANNEL = "flannel"
VCN_NATIVE = "oci-vcn-native"
FLANNEL_ANNOTATION = "flannel.alpha.coreos.com/"
# The kernel's VXLAN port as flannel configures it (the IANA port 4789 is not its default).
VXLAN_PORT = 8472
UDP_BACKEND_PORT = 8285


@dataclass(frozen=True)
class PodNetwork:
    """The CNI and the observation it was recognised by."""

    cni: str | None
    detected_by: str = ""
    overlay: Traffic | None = None  # flannel's encapsulation, when the backend is one


@dataclass
class Side:
    """One VNIC's rules on the forwarded leg: the receiving worker's, or the pod's (node's) VNIC."""

    label: str
    rulesets: list[RuleSet]
    cidr: str
    subnet_id: str


@dataclass
class Gap:
    """Rules of one side that do not let the forwarded leg through, for the flows named."""

    side: Side
    direction: str
    peer_cidr: str
    traffic: list[Traffic]
    flows: list[str] = field(default_factory=list)
    result: FlowResult | None = None  # the last evaluation: which rule half-allowed it, if any
    peer_nsg: str | None = None  # the peer's NSG, the natural source/destination of an NSG rule

    @property
    def return_missing(self) -> bool:
        return bool(self.result and self.result.return_missing)


@dataclass
class CrossNode:
    """The forwarded legs of the Service's traffic and the gaps the rules leave on them."""

    network: PodNetwork
    flows: int  # (receiving node, ready endpoint on another node) pairs
    blocked_share: float  # of new connections, averaged over the receiving nodes
    gaps: list[Gap]


def _flannel(nodes: Iterable[Obj]) -> PodNetwork | None:
    for node in nodes:
        ann = (node.get("metadata") or {}).get("annotations") or {}
        keys = sorted(k for k in ann if k.startswith(FLANNEL_ANNOTATION))
        if not keys:
            continue
        backend = str(ann.get(FLANNEL_ANNOTATION + "backend-type") or "vxlan").lower()
        overlay = {"vxlan": Traffic((VXLAN_PORT, VXLAN_PORT), UDP, EPHEMERAL),
                   "udp": Traffic((UDP_BACKEND_PORT, UDP_BACKEND_PORT), UDP, EPHEMERAL)}.get(backend)
        key = FLANNEL_ANNOTATION + "backend-type" if FLANNEL_ANNOTATION + "backend-type" in ann else keys[0]
        return PodNetwork(FLANNEL, f"node {name_of(node)} carries {key} (backend {backend})", overlay)
    return None


def pod_vnic(facts: Facts, pod: Obj) -> tuple[Obj, Obj] | None:
    """(VNIC, subnet) of the pod's node whose subnet holds the pod's IP: the pod's own VNIC under
    VCN-native pod networking; None when the IP is in none of them (an overlay) or not read."""
    ip = (pod.get("status") or {}).get("podIP")
    node = facts.node((pod.get("spec") or {}).get("nodeName"))
    if not ip or not node or (pod.get("spec") or {}).get("hostNetwork"):
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for vnic in facts.vnics_of_instance((node.get("spec") or {}).get("providerID") or ""):
        subnet = facts.subnet(vnic.get("subnetId", ""))
        cidrs = (subnet or {}).get("ipv4CidrBlocks") or [(subnet or {}).get("cidrBlock")]
        if subnet and any(_contains(c, addr) for c in cidrs):
            return vnic, subnet
    return None


def _contains(cidr: str | None, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        # Each Service's pods are tried against their nodes' subnets: parsed once per CIDR, not per pod.
        return bool(cidr) and addr in (parse_network(cidr) if isinstance(cidr, str)
                                       else ipaddress.ip_network(cidr, strict=False))
    except ValueError:
        return False  # a hand-written file's malformed CIDR holds nothing


@per_run
def _cluster_flannel(facts: Facts) -> PodNetwork | None:
    return _flannel(facts.nodes)


@per_target
def pod_network(facts: Facts) -> PodNetwork:
    if found := _cluster_flannel(facts):
        return found
    for pod in facts.pods:
        if got := pod_vnic(facts, pod):
            vnic, subnet = got
            return PodNetwork(VCN_NATIVE, f"pod {name_of(pod)}'s IP {pod['status']['podIP']} is an address of "
                                          f"subnet {subnet.get('displayName')} ({subnet.get('cidrBlock')}) "
                                          f"on its node's VNIC {vnic.get('id')}")
    return PodNetwork(None)


def _node_side(facts: Facts, node: Obj) -> Side | None:
    got = node_rulesets(facts, node)
    if not got:
        return None
    vnic, subnet, rulesets = got
    return Side(_label("workers in", subnet, rulesets), rulesets, subnet.get("cidrBlock", ""), subnet["id"])


def _label(what: str, subnet: Obj, rulesets: list[RuleSet]) -> str:
    label = f"{what} subnet {subnet.get('displayName')} ({subnet.get('cidrBlock')})"
    nsgs = [rs.display_name for rs in rulesets if rs.kind == "NSG"]
    return label + (f" and NSG {', '.join(nsgs)}" if nsgs else "")


def pod_side(facts: Facts, pod: Obj) -> tuple[Side, Peer] | None:
    got = pod_vnic(facts, pod)
    if not got:
        return None
    vnic, subnet = got
    nsgs = nsg_rulesets(facts, list(vnic.get("nsgIds") or []))
    if nsgs is None:
        return None
    rulesets = [RuleSet.from_security_list(sl, facts.etag(sl.get("id") or ""))
                for sl in facts.security_lists_of_subnet(subnet)] + nsgs
    side = Side(_label("pods in", subnet, rulesets), rulesets, subnet.get("cidrBlock", ""), subnet["id"])
    return side, Peer(pod["status"]["podIP"], frozenset(vnic.get("nsgIds") or ()))


class Gaps:
    """Collects the failing (side, direction, peer subnet) triples, each once."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str, str], Gap] = {}

    def check(self, side: Side, direction: str, traffic: Traffic, peer: Peer, peer_cidr: str, flow: str,
              *, answered: bool = True) -> bool:
        """answered: the leg is a connection whose answers return through the same rules (stateless rules
        then need their return rule); VXLAN's answers are a leg of their own, checked as such."""
        result = evaluate(side.rulesets, direction, traffic, peer) if answered else \
            FlowResult(find_rule(side.rulesets, direction, traffic, peer))
        if result.ok:
            return True
        gap = self.by_key.setdefault((side.subnet_id + side.label, direction, peer_cidr),
                                     Gap(side, direction, peer_cidr, []))
        if gap.peer_nsg is None and peer.nsg_ids and any(rs.kind == "NSG" for rs in side.rulesets):
            gap.peer_nsg = sorted(peer.nsg_ids)[0]
        if traffic not in gap.traffic:
            gap.traffic.append(traffic)
        if flow not in gap.flows:
            gap.flows.append(flow)
        gap.result = result
        return False


def _flannel_leg(facts: Facts, gaps: Gaps, overlay: Traffic, a: Obj, b: Obj) -> bool:
    """a -> b and the answer b -> a, both encapsulated: egress at the sender, ingress at the receiver."""
    ok = True
    for src, dst in ((a, b), (b, a)):
        s_side, d_side = _node_side(facts, src), _node_side(facts, dst)
        s_peer, d_peer = node_peer(facts, src), node_peer(facts, dst)
        if not (s_side and d_side and s_peer and d_peer):
            continue
        flow = f"{s_peer.cidr} -> {d_peer.cidr}"
        ok &= gaps.check(s_side, EGRESS, overlay, d_peer, d_side.cidr, flow, answered=False)
        ok &= gaps.check(d_side, INGRESS, overlay, s_peer, s_side.cidr, flow, answered=False)
    return ok


def _native_leg(facts: Facts, gaps: Gaps, node: Obj, pod: Obj) -> bool:
    """node -> pod IP on the target ports (stateful answers, or the stateless return rules)."""
    n_side, n_peer, got = _node_side(facts, node), node_peer(facts, node), pod_side(facts, pod)
    if not (n_side and n_peer and got):
        return True
    p_side, p_peer = got
    ok = True
    for sp in service_ports(facts.service or {}):
        port = resolve_target_port(sp, pod)
        if port is None or (sp.get("protocol") or "TCP") != "TCP":
            continue
        flow = f"{n_peer.cidr} -> {p_peer.cidr}:{port}"
        ok &= gaps.check(n_side, EGRESS, Traffic.tcp(port), p_peer, p_side.cidr, flow)
        ok &= gaps.check(p_side, INGRESS, Traffic.tcp(port), n_peer, n_side.cidr, flow)
    return ok


@per_target
def cross_node(facts: Facts) -> CrossNode | None:
    """The legs a receiving node forwards to ready pods on other nodes and what blocks them;
    None when nothing is forwarded across nodes, or the CNI or its leg cannot be judged."""
    svc = facts.service
    if not svc or etp_local(facts) or (svc.get("spec") or {}).get("type") not in ("LoadBalancer", "NodePort"):
        return None
    net = pod_network(facts)
    if net.cni is None or (net.cni == FLANNEL and net.overlay is None):
        return None
    ready = [a for a in endpoint_addresses(facts, svc) if a.ready and a.node and a.pod]
    receivers = backend_workers(facts)
    if not ready or not receivers:
        return None
    gaps, flows, shares = Gaps(), 0, []
    for node in receivers:
        blocked = 0
        for addr in ready:
            pod, pod_node = facts.get("Pod", facts.target.namespace, addr.pod), facts.node(addr.node)
            if addr.node == name_of(node) or not pod or not pod_node or (pod.get("spec") or {}).get("hostNetwork"):
                continue  # a hostNetwork pod is reached at its node's own address: no overlay, no pod subnet
            flows += 1
            ok = (_flannel_leg(facts, gaps, net.overlay, node, pod_node) if net.cni == FLANNEL and net.overlay
                  else _native_leg(facts, gaps, node, pod))
            blocked += not ok
        shares.append(blocked / len(ready))
    if not flows:
        return None
    return CrossNode(net, flows, sum(shares) / len(shares), list(gaps.by_key.values()))


def gap_fix(gap: Gap, what: str) -> Fix:
    """The rule to add on the side's own rules: an NSG rule when the VNIC is in an NSG (added,
    nothing replaced), else the subnet's oldest security list rewritten with its rules plus it."""
    direction, peer = gap.direction, gap.peer_cidr
    towards = "from" if direction == INGRESS else "to"
    if gap.return_missing:
        back = EGRESS if direction == INGRESS else INGRESS
        traffic = [t.reply() for t in gap.traffic]
        return _fix(gap.side, back, peer, traffic, f"the answers of {what}", stateless=True, peer_nsg=gap.peer_nsg)
    return _fix(gap.side, direction, peer, gap.traffic, what, stateless=False, towards=towards,
                peer_nsg=gap.peer_nsg)


def _fix(side: Side, direction: str, peer: str, traffic: list[Traffic], what: str, *,
         stateless: bool, towards: str = "", peer_nsg: str | None = None) -> Fix:
    towards = towards or ("from" if direction == INGRESS else "to")
    allowed = ", ".join(t.describe() for t in traffic)
    nsgs = [rs for rs in side.rulesets if rs.kind == "NSG"]
    if nsgs:
        # Between VNICs in NSGs the peer's NSG is the rule's natural other end: it follows new workers.
        other, is_nsg = (peer_nsg, True) if peer_nsg else (peer, False)
        rules = [make_rule(direction, other, t, peer_is_nsg=is_nsg, for_nsg=True, stateless=stateless,
                           description=f"{t.describe()} {what}") for t in traffic]
        return Fix(f"Add {direction.lower()} rule(s) to {nsgs[0].label()} allowing {allowed} {towards} {other}.",
                   (nsg_rules_add_command(nsgs[0].id, rules),))
    target = oldest(rs.body for rs in side.rulesets if rs.kind == "security list")
    if target is None:
        return Fix(f"{side.label} has no security list or NSG to add the rule to.")
    rules = [make_rule(direction, peer, t, stateless=stateless, description=f"{t.describe()} {what}")
             for t in traffic]
    key = "ingressSecurityRules" if direction == INGRESS else "egressSecurityRules"
    existing = len(target.get(key) or [])
    etag = next((rs.etag for rs in side.rulesets if rs.kind == "security list" and rs.body is target), None)
    return Fix(
        f"Add {direction.lower()} rule(s) {allowed} {towards} {peer} to security list {target.get('displayName')} "
        f"({target.get('id')}). Note: `security-list update` REPLACES all {direction.lower()} rules of the list, "
        f"so the command carries its {existing} existing rule(s) plus the new one; add --force to skip the prompt."
        + (" --if-match is the list's ETag as read: OCI refuses the update (412) if a rule was added since; "
           "diagnose again then." if etag else ""),
        (security_list_update_command(target, direction, rules, etag),),
    )
