"""OKD-LB-002: Service annotations the cloud controller manager rejects."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.annotations import annotation_problems, kubectl_fix
from okedoctor.chain.lb import spec
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class InvalidLbAnnotation(Check):
    """A Service annotation value the cloud controller manager rejects.

    What it checks
        The load-balancer annotations of a Service of type LoadBalancer against what the
        cloud controller manager (CCM) accepts: oci.oraclecloud.com/security-rule-management-mode
        (SL-All, SL-Frontend, NSG, None), the NLB security-list-management-mode (All, Frontend,
        None), is-preserve-source (only with externalTrafficPolicy Local), health-check
        interval (NLB 10000..1800000 ms, LB 1000..1800000), integer retries/timeout, UDP ports
        on an L7 load balancer, and the flexible shape without its min/max.

    Why it breaks
        The CCM validates these values on every sync and stops at the first error: a new
        Service never gets its load balancer (status.loadBalancer stays empty, the events say
        SyncLoadBalancerFailed), and an existing one stops being updated (new nodes, NodePort
        changes and rule changes are no longer applied).

    How to fix
        Correct or remove the annotation with the printed `kubectl annotate` command; the CCM
        retries on its own and the next sync creates or updates the load balancer.
    """

    code = "OKD-LB-002"
    name = "invalid-lb-annotation"
    hop = Hop.LOADBALANCER

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        if not svc or spec(svc).get("type") != "LoadBalancer":
            return
        problems = annotation_problems(svc)
        if not problems:
            return
        yield self.finding(
            "The cloud controller manager rejects " + "; ".join(
                f"{p.key}={p.value!r} ({p.why})" if p.value is not None else f"missing {p.key} ({p.why})"
                for p in problems),
            evidence={"annotations": {p.key: p.value for p in problems},
                      "problems": [{"annotation": p.key, "value": p.value, "why": p.why, "suggested": p.suggested}
                                   for p in problems],
                      "externalTrafficPolicy": spec(svc).get("externalTrafficPolicy", "Cluster")},
            fix=Fix(summary="Correct the annotation(s); the CCM retries the sync by itself.",
                    commands=(kubectl_fix(svc, problems),)),
            subject=subject_of(svc),
        )
