"""OKD-NIC-002: the native ingress LB's health checks fail on the rule's pods."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import native as nat
from okedoctor.chain import route as routes
from okedoctor.check import Check, CheckSkipped
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class NativeBackendsUnhealthy(Check):
    """The OCI Native Ingress Controller's LB finds the rule's pods unhealthy (per pod IP).

    What it checks
        The health of each pod IP in the rule's backend set (GetBackendHealth): CRITICAL, WARNING
        or UNKNOWN is reported per pod with the health checker's result. An error when no pod of
        the rule is OK, a warning when some still are.
    Why it breaks
        The LB sends to the pods' own IPs from its subnet: the VCN's rules must let the LB subnet
        reach the pod subnet on the target port (and back), the pod must listen on its IP, and
        the health check (TCP by default, or the Ingress's healthcheck-* annotations) must pass.
        A CRITICAL pod gets no request; with pod readiness gates its gate turns False too.
    How to fix
        Fix the cause reported with it (the rules between the LB and the pods, the pod itself); the
        printed command shows the LB's view per backend.
    """

    code = "OKD-NIC-002"
    name = "native-backends-unhealthy"
    hop = Hop.LOADBALANCER
    symptom = True
    # OCI is read only for a URL through the native LB: a Service diagnosis never lists these as skipped.
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.native_class is None:
            return
        target = nat.rule_target(facts, walk)
        if target is None or target.body is None:
            return  # OKD-NIC-001 says why there is nothing to judge
        listed = [b for b in target.expected if b.name in target.listed]
        if listed and all(nat.health_of(facts, target, b) is None for b in listed):
            raise CheckSkipped(f"the health of backend set {target.backend_set} was not read")
        bad = nat.unhealthy(facts, target)
        if not bad:
            return
        results = {b.name: [r.get("healthCheckStatus") for r in (facts.backend_health(
            target.ref.id, target.backend_set, b.name) or {}).get("healthCheckResults") or []] for b, _ in bad}
        severity = Severity.ERROR if len(bad) == len(listed) else Severity.WARNING
        yield self.finding(
            f"{len(bad)} of {len(listed)} pod backend(s) of the native ingress LB are "
            f"{'/'.join(sorted({s for _, s in bad}))}: {', '.join(f'{b.pod} ({b.name})' for b, _ in bad)}",
            subject=f"{target.ref.id}/{target.backend_set}",
            evidence={"loadBalancer": target.ref.id, "backendSet": target.backend_set,
                      "backends": [{"pod": b.pod, "backend": b.name, "status": s, "healthChecks": results[b.name]}
                                   for b, s in bad],
                      "healthChecker": (target.body or {}).get("healthChecker")},
            fix=Fix("Fix the cause reported with this (rules between the LB and the pods, the pods); the LB's "
                    "view per backend:",
                    (f"oci lb backend-health get --load-balancer-id {target.ref.id} --backend-set-name "
                     f"{target.backend_set} --backend-name {bad[0][0].name}",)),
            severity=severity,
        )
