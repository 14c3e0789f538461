"""OKD-LB-012: the LB subnet / LB NSGs let the clients in on each listener port."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import kind_name, source_ranges, spec
from okedoctor.chain.rules import add_rules_fix, lb_endpoint, ports_text
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Hop
from okedoctor.netrules import EGRESS, INGRESS, UDP, Peer, Traffic, evaluate


class LbIngressBlocksClients(Check):
    """The LB subnet's security lists / the LB's NSGs do not let the clients reach a listener port.

    What it checks
        Evaluates the security lists of the LB's subnet plus the LB's NSGs (a union, as the VCN
        does) for ingress from every client range on every listener port: the clients are
        spec.loadBalancerSourceRanges (or the load-balancer-source-ranges annotation), else
        0.0.0.0/0 for a public load balancer. A rule must contain the whole client range: a
        rule for 10.0.0.0/16 does not let the internet in. A listener allowed only by a
        stateless rule also needs the stateless egress rule for its answers.

    Why it breaks
        Network Load Balancers default to security-rule management mode "None", and hand-made
        load balancers are never managed, so nobody opens the listener port; a template-made
        list may allow 443 while the Service listens on 80. The LB then looks perfectly healthy
        (its backends are OK) while every client times out.

    How to fix
        Add a stateful ingress rule to the LB subnet's (oldest) security list or the LB's NSG:
        TCP from the client range to the listener port. `oci network security-list update`
        replaces the whole list, so the printed command carries the existing rules too. For a
        Service whose LB the cloud controller manager made, the annotation
        oci.oraclecloud.com/security-rule-management-mode: "SL-Frontend" (or "SL-All" / "NSG")
        makes it open the listener ports to loadBalancerSourceRanges itself.
    """

    code = "OKD-LB-012"
    name = "lb-ingress-blocks-clients"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        svc = facts.service
        endpoint = lb_endpoint(facts, ref) if ref else None
        if not ref or not svc or not endpoint:
            return
        explicit = bool(spec(svc).get("loadBalancerSourceRanges"))
        if ref.is_private and not explicit:
            return  # a private LB's clients are not known; 0.0.0.0/0 would be a guess
        listeners = sorted((lis for lis in ref.listeners.values() if lis.get("port")), key=lambda x: x["port"])
        for cidr in source_ranges(svc):
            blocked, no_return = [], []
            for lis in listeners:
                proto = UDP if (lis.get("protocol") or "").upper() == "UDP" else "6"
                result = evaluate(endpoint.rulesets, INGRESS, Traffic((lis["port"], lis["port"]), proto), Peer(cidr))
                if not result.forward_allowed:
                    blocked.append(int(lis["port"]))
                elif result.return_missing:
                    no_return.append(int(lis["port"]))
            evidence = {"lb": ref.id, "clients": cidr, "publicIps": ref.public_ips,
                        "listeners": {lis.get("name"): lis.get("port") for lis in listeners},
                        "evaluated": endpoint.names()}
            if blocked:
                yield self.finding(
                    f"The rules of {endpoint.label} do not let the clients {cidr} reach the "
                    f"{kind_name(ref)}'s listener port {ports_text(blocked)}",
                    evidence=evidence | {"blockedPorts": blocked},
                    fix=add_rules_fix(endpoint, INGRESS, cidr, blocked, ref, what="from the clients to the listener",
                                      svc=svc, frontend=True),
                    subject=f"{ref.id}/ingress/{cidr}",
                )
            if no_return:
                yield self.finding(
                    f"The rules of {endpoint.label} let the clients {cidr} reach listener port "
                    f"{ports_text(no_return)} only by a stateless rule, and no egress rule lets the answers out",
                    evidence=evidence | {"portsWithoutReturn": no_return},
                    fix=add_rules_fix(endpoint, EGRESS, cidr, no_return, None, reply=True,
                                      what="answers to the stateless listener rule"),
                    subject=f"{ref.id}/return/{cidr}",
                )
