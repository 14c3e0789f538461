"""OKD-NP-002: the workers' rules let the LB reach the NodePort and the health-check port."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import backend_workers, lb_peer, preserves_source, traffic_ports
from okedoctor.chain.rules import add_rules_fix, worker_groups
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Hop
from okedoctor.netrules import INGRESS, Traffic, find_rule


class WorkerIngressFromLb(Check):
    """The workers' security lists / NSGs do not let the LB reach the NodePort or health-check port.

    What it checks
        For every worker the LB sends to, evaluates the security lists of the worker's subnet
        plus the NSGs of its VNIC (a union, as the VCN does) for TCP ingress from the LB's
        subnet CIDR (or the LB's NSG) on the Service's NodePort and on the port the LB health
        checker probes (10256 for externalTrafficPolicy Cluster, healthCheckNodePort for Local).
        When an NLB preserves the client address, only the health-check port is checked here
        (the NodePort traffic then comes from the clients: see OKD-NP-003).

    Why it breaks
        OKE's NLBs default to security-rule management mode "None", and hand-made load
        balancers are never managed: nobody adds the worker rules, or a narrowed/rewritten
        security list drops them. Without the NodePort rule the health check may still pass
        (10256 open) while every real connection times out; without the health-port rule every
        backend turns Critical (TIMED_OUT) and the LB sends nothing.

    How to fix
        Add a stateful ingress rule on the workers' (oldest) security list or NSG: TCP from the
        LB subnet CIDR to 30000-32767 (covers every NodePort and healthCheckNodePort) and, for
        externalTrafficPolicy Cluster, to 10256. `oci network security-list update` replaces
        the whole list, so the printed command carries the existing rules too. For a Service
        whose LB the cloud controller manager made, the annotation
        oci.oraclecloud.com/security-rule-management-mode: "SL-All" (or "NSG" with a backend
        NSG) makes it write these rules itself.
    """

    code = "OKD-NP-002"
    name = "worker-ingress-from-lb-blocked"
    hop = Hop.NODEPORT
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        peer = lb_peer(facts, ref) if ref else None
        if not ref or not peer or not facts.service:
            return
        ports = traffic_ports(facts)
        if preserves_source(facts):
            ports = [(what, p) for what, p in ports if what == "health-check port"]
        for group in worker_groups(facts, backend_workers(facts)):
            missing = [(what, port) for what, port in ports
                       if find_rule(group.endpoint.rulesets, INGRESS, Traffic.tcp(port), peer) is None]
            if not missing:
                continue
            nums = [p for _, p in missing]
            yield self.finding(
                f"The rules of {group.endpoint.label} do not allow TCP from the LB "
                f"({'subnet ' + peer.cidr + (', its NSG' if peer.nsg_ids else '')}) on "
                f"{' and '.join(f'{what} {p}' for what, p in missing)}",
                evidence={
                    "lb": ref.id,
                    "lbSubnetCidr": peer.cidr,
                    "lbNsgs": sorted(peer.nsg_ids),
                    "workers": group.endpoint.ips,
                    "missing": [{"what": what, "port": p, "protocol": "TCP"} for what, p in missing],
                    "evaluated": group.endpoint.names(),
                },
                fix=add_rules_fix(group.endpoint, INGRESS, peer.cidr, nums, ref,
                                  what="from the load balancer", svc=facts.service,
                                  peer_nsg=ref.nsg_ids[0] if ref.nsg_ids and group.endpoint.nsgs else None),
                subject=f"subnet/{group.endpoint.subnet_id}",
            )
