"""OKD-INET-004: the public address answers, with a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.answers import LOAD_BALANCER, UNDECIDED, AnswerSource, who_answered
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
        status of 500 or more, and who wrote it (okedoctor/chain/answers.py): the evidence
        names what decided it. The start of the body is quoted, redacted.

    Why it breaks
        Something answered, but who depends on the rest of the chain. An NLB, or an L7 load
        balancer's TCP listener, passes the pod's own answer through: the application fails
        (a dependency down, a bug, a bad config) while its readiness probe may still pass. An
        L7 load balancer with an HTTP listener writes 502 itself when no backend is healthy or
        a backend breaks the connection, and 504 when no answer comes back in time: when the
        app answers on localhost inside its pod, or every backend is CRITICAL, the fault is on
        the path (backend health, security rules, timeouts), not in the app. Either way this is
        an effect, tied to the finding that explains it when there is one.

    How to fix
        Follow the root cause it is tied to. Alone, when the application wrote it: look at its
        logs and its answer on localhost in the pod (`kubectl exec POD -- curl -sv
        localhost:PORT/`), and make the readiness probe exercise the same dependencies. When the
        load balancer wrote it: read its backend health, the security rules from the LB subnet
        to the workers' NodePort, and the listener and backend-set timeouts.
    """

    code = "OKD-INET-004"
    name = "listener-returns-server-error"
    hop = Hop.INTERNET
    needs = ("kubernetes", LIVE_INTERNET)
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        health = backend_health_summary(facts)
        for address, seen in probed_addresses(facts):
            status = seen.get("status")
            if not isinstance(status, int) or status < 500:
                continue
            source = who_answered(facts, address, status)
            all_critical = bool(health) and all(s == "CRITICAL" for s in health.values())
            tied = (BACKENDS_UNHEALTHY if source.who == LOAD_BALANCER and all_critical
                    and any(a.loud for a in assess(facts)) else None)
            # A scenario or an older snapshot may hold the body as the app sent it.
            body = redact(str(seen.get("body") or ""))
            yield self.finding(
                f"{address} answers HTTP {status} from the internet: the answer comes from {source.describe}, "
                + ("not the application" if source.who == LOAD_BALANCER else "not the network"),
                evidence={"address": address, "status": status, "bodyPrefix": body[:200],
                          "backendSetHealth": health, "answeredBy": source.who,
                          "decidedBy": list(source.decided_by), "inPodAnswers": list(source.in_pod)},
                fix=self._fix(facts, address, source, tied),
                subject=f"address/{address}",
                caused_by=tied,
            )

    @staticmethod
    def _fix(facts: Facts, address: str, source: AnswerSource, tied: str | None) -> Fix:
        curl = f"curl -sv --max-time 10 http://{address}/"
        if tied:
            return Fix(f"Fix {tied} (the load balancer's unhealthy backends) first; the LB answers for itself "
                       "while no backend passes its health check.", (curl,))
        ref = facts.load_balancer
        if source.who == LOAD_BALANCER and ref:
            timeouts = ("the listener's idle timeout and the backend set's timeouts are longer than the app "
                        "needs to answer" if source.slow_in_pod else
                        "the load balancer's backends are healthy and reachable on the NodePort")
            return Fix(f"The app is not what fails: make sure {timeouts}; read the backend health and the security "
                       "rules from the load balancer's subnet to the workers on the NodePort.",
                       (curl, f"oci lb backend-set-health get --load-balancer-id {ref.id} --backend-set-name "
                              f"{next(iter(sorted(ref.backend_sets)), 'BACKEND_SET')}",
                        f"oci lb load-balancer get --load-balancer-id {ref.id} --query "
                        "'data.listeners.*.\"connection-configuration\"'"))
        if source.who == UNDECIDED:
            return Fix("Ask the app inside its pod what it answers on the same port and path: the same 5xx "
                       "means the app, a 2xx means the path between the load balancer and the pod.",
                       (curl, f"kubectl exec -n {facts.target.namespace} POD -- curl -sv localhost:PORT/"))
        return Fix("Read the app's logs and what it answers on localhost inside its pod.", (curl,))
