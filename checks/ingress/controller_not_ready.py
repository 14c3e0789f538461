"""OKD-ING-005: the ingress controller behind the URL's load balancer has no ready pod."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import admission
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.kube import pod_ready
from okedoctor.model import Finding, Fix, Hop
from okedoctor.redact import redact


class ControllerNotReady(Check):
    """The ingress controller's pods are not ready, or its Service has no ready endpoint.

    What it checks
        The pods the edge Service (the one whose load balancer holds the URL's address)
        selects, when they run an ingress controller: at least one must be Ready and listed
        as a ready address in the Service's Endpoints.
    Why it breaks
        Every request for every host passes through the controller: with no ready pod the
        load balancer's backends fail their health checks and the URL times out or answers
        502/503, whatever the Ingress rules and backend pods say.
    How to fix
        Look at why the controller pods are not ready (`kubectl describe pod`, its logs: an
        admission webhook certificate, RBAC after an upgrade, a crash on a bad annotation);
        `okedoctor diagnose svc/NAME -n NS` diagnoses the controller's own Service.
    """

    code = "OKD-ING-005"
    name = "controller-not-ready"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.controller is None or walk.edge is None:
            return
        pods = facts.pods_selected_by(walk.edge)
        ready = [p for p in pods if pod_ready(p)]
        endpoints = facts.endpoints(walk.edge) or {}
        addresses = [a for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []]
        if ready and addresses:
            return
        meta = walk.edge["metadata"]
        ns, name = meta.get("namespace") or "default", meta["name"]
        evidence = {"controller": walk.controller.name, "pods": len(pods), "readyPods": len(ready),
                    "readyEndpoints": len(addresses)}
        if waiting := _waiting(pods):
            evidence["waiting"] = waiting
        # What the controller said last before it stopped: its crash, or why it is not ready.
        lines = admission.controller_lines(facts, pods, previous=True) or admission.controller_lines(facts, pods)
        if lines:
            evidence["lastLogLine"] = redact(lines[-1][1])[:400]
        yield self.finding(
            f"the {walk.controller.name} controller behind {walk.url.host} has "
            + ("no ready pod" if not ready else "no ready endpoint")
            + (f" ({', '.join(sorted(set(waiting.values())))})" if waiting else ""),
            subject=subject_of(walk.edge),
            evidence=evidence,
            fix=Fix("Make the controller's pods ready (their last log lines say why they are not); diagnose its "
                    "Service for the cause.",
                    (f"okedoctor diagnose svc/{name} -n {ns}", f"kubectl get pods -n {ns} -o wide",
                     f"kubectl logs -n {ns} {pods[0]['metadata']['name']} --previous" if pods else
                     f"kubectl get events -n {ns}")),
        )


def _waiting(pods: list[dict]) -> dict[str, str]:
    """pod -> the reason its first waiting container gives (CrashLoopBackOff, ImagePullBackOff...)."""
    out = {}
    for pod in pods:
        for st in (pod.get("status") or {}).get("containerStatuses") or []:
            reason = ((st.get("state") or {}).get("waiting") or {}).get("reason")
            if reason:
                out[pod["metadata"]["name"]] = reason
                break
    return out
