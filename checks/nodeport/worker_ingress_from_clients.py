"""OKD-NP-003: with source preservation, the workers must let the clients themselves in."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import backend_workers, port_pairs, preserves_source, source_ranges
from okedoctor.chain.rules import add_rules_fix, ports_text, worker_groups
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Hop
from okedoctor.netrules import INGRESS, Peer, Traffic, find_rule


class WorkerIngressFromClients(Check):
    """The NLB preserves client addresses, and the workers' rules do not let the clients reach the NodePort.

    What it checks
        For a Network Load Balancer whose backend set has isPreserveSource (the cloud
        controller manager sets it for externalTrafficPolicy Local, unless
        oci-network-load-balancer.oraclecloud.com/is-preserve-source is "false"), evaluates the
        workers' security lists and NSGs for TCP ingress from every client range
        (spec.loadBalancerSourceRanges, else 0.0.0.0/0) on the Service's NodePort.

    Why it breaks
        With source preservation the NLB forwards packets with the client's own address, so
        the worker sees the internet, not the NLB subnet. A worker rule that allows only the
        NLB subnet on the NodePort range keeps the health checks passing (they do come from
        the NLB) while every real connection is silently dropped: the backends are all OK and
        the public address times out. NLBs default to security-rule management mode "None",
        so nobody adds this rule unless asked.

    How to fix
        Add a stateful ingress rule on the workers' (oldest) security list or NSG: TCP from
        each client range (0.0.0.0/0 for a public service) to 30000-32767. Or set
        oci.oraclecloud.com/security-rule-management-mode: "SL-All" on the Service so the cloud
        controller manager writes it, or stop preserving the source with
        oci-network-load-balancer.oraclecloud.com/is-preserve-source: "false" (the pods then see
        the NLB's address instead of the client's).
    """

    code = "OKD-NP-003"
    name = "worker-ingress-from-clients-blocked"
    hop = Hop.NODEPORT
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        svc = facts.service
        if not ref or not svc or not preserves_source(facts):
            return
        if ref.is_private and not (svc.get("spec") or {}).get("loadBalancerSourceRanges"):
            return  # a private NLB's clients are not known; 0.0.0.0/0 would be a guess
        node_ports = [p.node_port for p in port_pairs(facts) if p.node_port]
        clients = source_ranges(svc)
        for group in worker_groups(facts, backend_workers(facts)):
            for cidr in clients:
                missing = [p for p in node_ports
                           if find_rule(group.endpoint.rulesets, INGRESS, Traffic.tcp(p), Peer(cidr)) is None]
                if not missing:
                    continue
                yield self.finding(
                    f"The NLB preserves client addresses, but the rules of {group.endpoint.label} do not allow TCP "
                    f"from the clients {cidr} on NodePort {ports_text(missing)}: health checks pass, real traffic "
                    f"is dropped",
                    evidence={
                        "lb": ref.id,
                        "isPreserveSource": True,
                        "externalTrafficPolicy": "Local",
                        "clients": cidr,
                        "nodePorts": missing,
                        "workers": group.endpoint.ips,
                        "evaluated": group.endpoint.names(),
                    },
                    fix=add_rules_fix(group.endpoint, INGRESS, cidr, missing, ref,
                                      what="from the clients (NLB preserves the source)", svc=svc),
                    subject=f"subnet/{group.endpoint.subnet_id}/{cidr}",
                )
