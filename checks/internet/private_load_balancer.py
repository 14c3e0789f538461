"""OKD-INET-003: the load balancer is private: not reachable from the internet, by design."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import kind_name
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class PrivateLoadBalancer(Check):
    """The load balancer is private, so the internet hop does not apply (information).

    What it checks
        Whether the Service's LB/NLB is private (isPrivate, or no public IP address), as asked
        for with service.beta.kubernetes.io/oci-load-balancer-internal or
        oci-network-load-balancer.oraclecloud.com/internal.

    Why it breaks
        It does not: a private load balancer only has addresses in its VCN subnet and answers
        clients that can route to it (the VCN, peered VCNs, on-premises over FastConnect/VPN).
        Probing it from the internet would time out by design, so the internet checks are not
        run against it.

    How to fix
        Nothing, if private is intended. Test from a client inside the network. If it should
        be public, the LB must be recreated: remove the internal annotation (the controller
        cannot turn a private LB public in place).
    """

    code = "OKD-INET-003"
    name = "private-load-balancer"
    hop = Hop.INTERNET
    severity = Severity.INFO
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref or not ref.is_private:
            return
        ips = [a.get("ipAddress") for a in ref.body.get("ipAddresses") or []]
        ports = sorted({int(lis["port"]) for lis in ref.listeners.values() if lis.get("port")})
        yield self.finding(
            f"The {kind_name(ref)} is private ({', '.join(ips) or 'no address'}): reachable from inside the network "
            f"only, so it was not probed from the internet",
            evidence={"lb": ref.id, "ipAddresses": ips, "listenerPorts": ports},
            fix=Fix(summary="Nothing to fix if private is intended; test from a client in the VCN.",
                    commands=tuple(f"curl -v --max-time 10 http://{ip}:{port}/  # from a host in the VCN"
                                   for ip in ips[:1] for port in ports)),
            subject=ref.id,
        )
