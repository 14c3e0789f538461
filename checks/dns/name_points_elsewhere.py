"""OKD-DNS-002: the URL's name resolves to an address no load balancer of the cluster holds."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import route as routes
from okedoctor.check import Check
from okedoctor.facts import LIVE_DNS, Facts
from okedoctor.model import Finding, Fix, Hop


class NamePointsElsewhere(Check):
    """The URL's name resolves to an address no load balancer of the cluster holds.

    What it checks
        That one of the name's A/AAAA answers (`live.dns`) is the address of a load balancer
        the cluster has: a LoadBalancer Service's status.loadBalancer.ingress, or the LB the
        OCI Native Ingress Controller made for an IngressClass (its addresses, or those it wrote
        on the class's Ingresses); every such load balancer is listed in the evidence.
    Why it breaks
        Deleting and re-creating a LoadBalancer Service (a new ingress-nginx install, a changed
        load-balancer-type annotation, a cluster rebuilt) gives it a new public address; a
        record written by hand, or by an ExternalDNS that no longer owns it, still points at
        the old one, which answers nothing or belongs to someone else.
    How to fix
        Point the record at the current address of the load balancer in front of the ingress
        controller (the LoadBalancer Services are listed in the evidence), or let ExternalDNS
        own it; with a reserved public IP (`oci.oraclecloud.com/load-balancer-ip` /
        spec.loadBalancerIP) the address survives a re-creation next time.
    """

    code = "OKD-DNS-002"
    name = "name-points-elsewhere"
    hop = Hop.DNS
    needs = (LIVE_DNS,)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or not walk.answers or walk.edge is not None or walk.native_class is not None:
            return
        host = walk.url.host
        current = [a for lb in walk.lb_services for a in lb["addresses"]]
        yield self.finding(
            f"{host} resolves to {', '.join(walk.answers)}, an address no load balancer of the cluster holds",
            subject=f"dns/{host}",
            evidence={"name": host, "answers": walk.answers, "loadBalancerServices": list(walk.lb_services)},
            fix=Fix(f"Point {host} at the current address of the load balancer in front of the ingress controller"
                    + (f" ({', '.join(current)})" if current else "") + "; a reserved public IP keeps it stable.",
                    (f"dig +short {host}", "kubectl get svc -A --field-selector spec.type=LoadBalancer")),
        )
