"""OKD-INET-004: the public address answers, with a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.coverage import probed_addresses
from okedoctor.chain.health import BACKENDS_UNHEALTHY, assess, backend_health_summary
from okedoctor.check import Check
from okedoctor.facts import LIVE_INTERNET, Facts
from okedoctor.model import Finding, Fix, Hop
from okedoctor.redact import redact


class ListenerReturnsServerError(Check):
    """The public address answers, but with an HTTP 5xx.

    What it checks
        What a client on the internet got at each public address and listener port: an HTTP
        status of 500 or more. The start of the body is quoted, redacted.

    Why it breaks
        The network path works: the load balancer accepted the connection and something
        answered. A 5xx passed through an NLB (layer 4) is the pod's own answer: the
        application fails (a dependency down, a bug, a bad config) while its readiness probe
        may still pass. An L7 load balancer answers 502/503 itself when no backend is healthy;
        then the cause is in its backend health. Either way this is an effect, tied to the
        pod-hop (or LB) finding that explains it.

    How to fix
        Follow the root cause it is tied to. Alone: look at the application's logs and its
        answer on localhost in the pod (`kubectl exec POD -- curl -sv localhost:PORT/`), and
        make the readiness probe exercise the same dependencies so a failing pod leaves the
        rotation.
    """

    code = "OKD-INET-004"
    name = "listener-returns-server-error"
    hop = Hop.INTERNET
    needs = ("kubernetes", LIVE_INTERNET)
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        health = backend_health_summary(facts)
        for address, seen in probed_addresses(facts):
            status = seen.get("status")
            if not isinstance(status, int) or status < 500:
                continue
            lb_answer = bool(ref and ref.flavor == "lb" and status in (502, 503)
                             and health and all(s == "CRITICAL" for s in health.values()))
            who = ("the L7 load balancer itself (no healthy backend)" if lb_answer
                   else "the application behind the load balancer")
            tied = BACKENDS_UNHEALTHY if lb_answer and any(a.loud for a in assess(facts)) else None
            # A scenario or an older snapshot may hold the body as the app sent it.
            body = redact(str(seen.get("body") or ""))
            yield self.finding(
                f"{address} answers HTTP {status} from the internet: the answer comes from {who}, not the network",
                evidence={"address": address, "status": status, "bodyPrefix": body[:200],
                          "backendSetHealth": health},
                fix=Fix(summary=(f"Fix {tied} (the load balancer's unhealthy backends) first; the LB answers "
                                 "for itself while no backend passes its health check.") if tied else
                        "Read the app's logs and what it answers on localhost inside its pod.",
                        commands=(f"curl -sv --max-time 10 http://{address}/",)),
                subject=f"address/{address}",
                caused_by=tied,
            )
