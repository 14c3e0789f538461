"""OKD-LB-011: the LB's own health view of its backends, read the way it has to be read."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.health import MEANING, assess
from okedoctor.chain.lb import (
    KUBE_PROXY_HEALTH_PORT,
    is_local,
)
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class BackendsUnhealthy(Check):
    """The load balancer reports backends Critical or Warning that should be healthy.

    What it checks
        The backend-set health and, per backend, the health-check results the LB/NLB reports
        (OK, TIMED_OUT, CONNECT_FAILED, INVALID_STATUS_CODE, ...), tied to the node behind
        each backend. With externalTrafficPolicy Local, kube-proxy's healthCheckNodePort
        answers 503 on nodes without a ready pod of the Service, so INVALID_STATUS_CODE there
        is by design and reported as information only; the set reading Warning is then normal.

    Why it breaks
        This is an observed effect and is tied to the configuration fault that explains it when
        one was found: a health-check port nothing serves (CONNECT_FAILED everywhere), a
        security rule that drops the probes (TIMED_OUT everywhere; with externalTrafficPolicy
        Cluster that is the kube-proxy port 10256), kube-proxy (or its replacement) not
        serving /healthz, nodes NotReady, or pods not ready.

    How to fix
        Fix the root cause this finding is tied to. Alone: compare the health checker's port
        with what the nodes serve (OKD-LB-009), open the health port from the LB subnet on the
        workers (OKD-NP-002), and on a node run `curl -s -o /dev/null -w '%{http_code}'
        http://127.0.0.1:10256/healthz` (or the healthCheckNodePort) to see what kube-proxy says.
    """

    code = "OKD-LB-011"
    name = "backends-unhealthy"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref or not facts.service:
            return
        local = is_local(facts.service)
        for a in assess(facts):
            pair, set_health = a.pair, a.set_health
            backend_set = pair.backend_set or {}
            hc = backend_set.get("healthChecker") or {}
            evidence = {"lb": ref.id, "backendSet": pair.backend_set_name, "setStatus": set_health.get("status"),
                        "healthChecker": {k: hc.get(k) for k in ("protocol", "port", "urlPath", "returnCode")},
                        "backends": a.rows}
            if not a.unexpected:
                if a.expected and a.healthy:
                    yield self.finding(
                        f"Backend set {pair.backend_set_name} reads {set_health.get('status')}: {len(a.expected)} "
                        f"node(s) hold no ready pod and answer the externalTrafficPolicy Local health check with "
                        f"503, as designed; traffic goes to the {a.healthy} healthy node(s)",
                        evidence=evidence, severity=Severity.INFO,
                        fix=Fix(summary="Nothing to fix: this is how externalTrafficPolicy Local keeps traffic on "
                                        "nodes with a pod (and preserves the client address)."),
                        subject=f"{ref.id}/{pair.backend_set_name}",
                    )
                continue
            kinds = sorted({r for _, got in a.unexpected for r in got} - {"OK"})
            meaning = "; ".join(f"{k}: {MEANING.get(k, 'see the LB health documentation')}" for k in kinds)
            every = a.healthy == 0
            hint = ""
            if every and not local and hc.get("port") == KUBE_PROXY_HEALTH_PORT:
                hint = (" With externalTrafficPolicy Cluster, failing on every node points at port 10256 "
                        "blocked between the LB and the workers, or kube-proxy not serving /healthz.")
            if kinds:
                title = (f"{'Every' if every else 'Some'} backend of {pair.backend_set_name} fails the health check "
                         f"on {hc.get('protocol')} port {hc.get('port')} ({', '.join(kinds)})")
            else:
                title = (f"The load balancer reports {'every' if every else 'some'} backend of "
                         f"{pair.backend_set_name} {set_health.get('status')} with no health-check result")
            yield self.finding(
                title,
                evidence=evidence | {"meaning": meaning + hint},
                severity=Severity.ERROR if every else Severity.WARNING,
                fix=Fix(
                    summary=("See what a node answers on the health-check port "
                             "(the evidence says what each result means)."),
                    commands=(f"curl -s -o /dev/null -w '%{{http_code}}\\n' http://127.0.0.1:{hc.get('port')}"
                              f"{hc.get('urlPath') or '/'}  # on a worker node",),
                ),
                subject=f"{ref.id}/{pair.backend_set_name}",
            )
