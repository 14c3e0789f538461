"""OKD-NODE-009: the VCN rules block what a worker forwards to the Service's pods on other workers."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.podnet import FLANNEL, cross_node, gap_fix
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Hop
from okedoctor.netrules import INGRESS


class CrossNodeRules(Check):
    """The VCN rules block what a worker forwards to the Service's pods on other workers (some requests time out).

    What it checks
        With externalTrafficPolicy Cluster, the node that receives a connection forwards it to
        any ready pod of the Service, also on another node. It detects the CNI from what the
        cluster shows (flanneld's `flannel.alpha.coreos.com/*` node annotations; a pod IP that
        is an address of a subnet of its node's VNICs for OCI VCN-native pod networking) and
        evaluates, with the security lists and NSGs of both ends, the leg each receiving
        node forwards to each pod on another node: flannel's VXLAN (UDP 8472) from node to node
        and back; with VCN-native pods, TCP to the target port from the node into the pod
        subnet. Pod IPs outside the VCN without flannel's annotations (Calico, Cilium) are not
        judged.

    Why it breaks
        The LB health check (kube-proxy on 10256, or the NodePort) passes on every node, so
        every backend is OK; yet each connection kube-proxy sends to a pod on another node is
        dropped by the VCN. Requests fail at random: about the share of pods living elsewhere
        (a 504 or a timeout at the LB), always fine when the pod is local. Typical causes: a
        worker security list narrowed to TCP ("all protocols within the workers' subnet"
        lost, so VXLAN's UDP is dropped), or a pod subnet whose rules admit the pod subnet but
        not the workers.

    How to fix
        Add the rule the evaluation names on the side that lacks it: for flannel, UDP 8472
        (or all protocols) between the workers' subnet and itself, ingress and egress; for
        VCN-native, ingress on the pod subnet from the workers' subnet (TCP to the target
        port, or all protocols as Oracle's "Security rules for worker nodes and pods" lists)
        and egress from the workers' subnet to the pod subnet. `oci network security-list
        update` replaces the whole list, so the printed command carries the existing rules.
    """

    code = "OKD-NODE-009"
    name = "cross-node-pod-traffic-blocked"
    hop = Hop.NODE
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        legs = cross_node(facts)
        if not legs:
            return
        net = legs.network
        what = "VXLAN between the workers (flannel)" if net.cni == FLANNEL else \
            "from the workers to the pods (VCN-native pod networking)"
        share = round(100 * legs.blocked_share)
        for gap in legs.gaps:
            traffic = ", ".join(t.describe() for t in gap.traffic)
            towards = "from" if gap.direction == INGRESS else "to"
            how = "lets it through one way only (stateless, no return rule)" if gap.return_missing else \
                f"does not allow {traffic} {towards} {gap.peer_cidr}"
            match = gap.result.allowed_by if gap.result else None
            yield self.finding(
                f"The rules of {gap.side.label} block traffic forwarded to the Service's pods on other nodes: "
                f"{gap.direction.lower()} {how}; about {share}% of new connections time out (504 at an L7 LB), "
                "the rest work",
                evidence={
                    "cni": net.cni,
                    "cniDetectedBy": net.detected_by,
                    "direction": gap.direction,
                    "missing": [{"protocol": t.describe().split("/")[0], "port": t.dst_ports[0],
                                 "peer": gap.peer_cidr} for t in gap.traffic],
                    "flows": gap.flows,
                    "evaluated": [rs.label() for rs in gap.side.rulesets],
                    **({"onlyStatelessRule": match.describe()} if gap.return_missing and match else {}),
                    "crossNodeFlows": legs.flows,
                    "blockedShare": f"{share}%",
                },
                fix=gap_fix(gap, what),
                subject=f"subnet/{gap.side.subnet_id}",
            )
