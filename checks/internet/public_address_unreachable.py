"""OKD-INET-001: the public address refuses or times out."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.coverage import probed_addresses
from okedoctor.chain.health import BACKENDS_UNHEALTHY, assess, backend_health_summary
from okedoctor.chain.lb import port_pairs
from okedoctor.check import Check
from okedoctor.facts import LIVE_INTERNET, Facts
from okedoctor.model import Finding, Fix, Hop


class PublicAddressUnreachable(Check):
    """The Service's public address refuses or times out from the internet.

    What it checks
        What a client on the internet saw at each public address of the Service's load
        balancer (its public IPs, or the Service's status.loadBalancer.ingress) on each
        listener port: a timeout, a refused or a reset connection is reported, together with
        the LB's own view of its backends.

    Why it breaks
        This is an effect, not a cause. When the backends are Critical the cause is further in
        (health checker, security rules toward the workers, nodes, pods) and this finding is
        tied to it. When the LB reports every backend healthy and the address still times
        out, the packets die before the LB: the LB subnet's (or NSG's) ingress rules do not
        allow the client on the listener port, or the LB subnet's route table has no route to
        an internet gateway. With a Network Load Balancer that preserves the client address,
        the workers' rules must also allow the clients (health checks pass, traffic does not).

    How to fix
        Follow the root cause this finding is tied to. If it stands alone: allow the clients
        (0.0.0.0/0 or spec.loadBalancerSourceRanges) on the listener port in the LB subnet's
        security list or NSG, check that the LB subnet's route table sends 0.0.0.0/0 to an
        internet gateway, and retry with `curl -v http://ADDRESS:PORT/`.
    """

    code = "OKD-INET-001"
    name = "public-address-unreachable"
    hop = Hop.INTERNET
    needs = ("kubernetes", LIVE_INTERNET)
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if ref and ref.is_private:
            return
        health = backend_health_summary(facts)
        all_ok = bool(health) and all(s == "OK" for s in health.values())
        # Unhealthy backends explain a dead address: tie to that finding, which is itself tied to
        # its configuration cause when one was found (one broken hop, one root cause).
        caused_by = BACKENDS_UNHEALTHY if any(a.loud for a in assess(facts)) else None
        for address, seen in probed_addresses(facts):
            error = seen.get("error")
            if not error:
                continue
            if all_ok:
                state = "while the load balancer reports every backend healthy"
            elif health:
                state = f"and the load balancer's backend sets are {', '.join(f'{k} {v}' for k, v in health.items())}"
            else:
                state = "(the load balancer's backend health was not read)"
            yield self.finding(
                f"{address} {'timed out' if error == 'timeout' else error} from the internet {state}",
                evidence={"address": address, "observed": seen, "backendSetHealth": health,
                          "listeners": [p.label for p in port_pairs(facts)]},
                fix=Fix(summary=_where_to_look(error, all_ok, bool(health), caused_by),
                        commands=(f"curl -v --max-time 10 http://{address}/",)),
                subject=f"address/{address}",
                caused_by=caused_by,
            )


def _where_to_look(error: str, all_ok: bool, health_read: bool, caused_by: str | None) -> str:
    """The fix when this effect stands alone; a cause found elsewhere replaces it (runner)."""
    if caused_by:
        return f"Fix {caused_by} (the load balancer's unhealthy backends) first; the address answers once they pass."
    if not health_read:
        return ("Read the load balancer's side (an OCI config, or --lb-ocid for one made by hand) to see where the "
                "packets stop; meanwhile check the LB subnet's ingress rule for the listener port and its route table.")
    if error == "timeout":
        return ("The packets are dropped before or after the LB: allow the clients (0.0.0.0/0 or "
                "spec.loadBalancerSourceRanges) on the listener port in the LB subnet's security list or NSG, check "
                "that its route table sends 0.0.0.0/0 to an internet gateway, and with an NLB that preserves the "
                "client address allow the clients on the workers' NodePorts.")
    return ("Something resets the connection behind healthy backends: the backend sets forward to a port nothing "
            "serves (a stale NodePort) or the listener is missing; compare the backend ports with "
            "`kubectl get svc -o wide` and the listeners with the Service's ports.")
