"""OKD-DNS-001: the URL's name does not resolve."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import route as routes
from okedoctor.check import Check
from okedoctor.facts import LIVE_DNS, Facts
from okedoctor.model import Finding, Fix, Hop


class NameDoesNotResolve(Check):
    """The URL's host name does not resolve (NXDOMAIN): no client reaches the cluster.

    What it checks
        The A/AAAA answers a client got for the URL's host (`live.dns`).
    Why it breaks
        The record was never created, was deleted with an old load balancer, lives in a zone
        that is not delegated, or ExternalDNS has no permission to write it. Everything behind
        the name may be healthy: nobody can find it.
    How to fix
        Create an A record for the host pointing at the public address of the load balancer
        in front of the ingress controller (the cluster's are listed in the evidence), or fix
        ExternalDNS (its logs say why it did not write the record). Check with `dig +short HOST`.
    """

    code = "OKD-DNS-001"
    name = "name-does-not-resolve"
    hop = Hop.DNS
    needs = (LIVE_DNS,)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or not walk.resolved or walk.answers:
            return
        host = walk.url.host
        yield self.finding(
            f"{host} does not resolve (NXDOMAIN): no client reaches the cluster",
            subject=f"dns/{host}",
            evidence={"name": host, "answers": [], "loadBalancerServices": list(walk.lb_services)},
            fix=Fix(f"Create an A record for {host} pointing at the address of the load balancer in front of "
                    "the ingress controller (see loadBalancerServices), or fix the ExternalDNS that should write it.",
                    (f"dig +short {host}", "kubectl get svc -A --field-selector spec.type=LoadBalancer")),
        )
