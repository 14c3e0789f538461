"""OKD-POD-022: the Service's selector matches pods of more than one workload."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import containers, pod_ready, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class ServiceSelectsSeveralWorkloads(Check):
    """The Service's selector matches pods of more than one workload (a forgotten canary, a debug pod, another app).

    What it checks
        The owners of the pods the target Service selects: pods of two Deployments (or a
        Deployment and bare pods, StatefulSets...) mean the selector is broader than one app.
        It lists each workload with its images and how many of its pods are ready.

    Why it breaks
        The Service spreads connections over every ready pod it selects. A canary left running,
        a `kubectl run` debug pod that copied the labels, or another app reusing `app: web`
        answers a share of the requests: clients see mixed versions, wrong answers or refused
        connections some of the time, which is hard to reproduce.

    How to fix
        Remove the stray workload, or give the intended pods a distinguishing label
        (app.kubernetes.io/instance, a version) and add it to the Service's selector.
    """

    code = "OKD-POD-022"
    name = "service-selects-several-workloads"
    hop = Hop.POD
    severity = Severity.WARNING
    # Pods are grouped by the Deployment their ReplicaSet names: without those objects every pod
    # (or every ReplicaSet of a rollout) would look like a workload of its own.
    needs = ("kubernetes", "kubernetes.replicasets", "kubernetes.deployments")

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        if not svc or len(facts.pods) < 2:
            return
        groups: dict[str, list] = {}
        for pod in facts.pods:
            groups.setdefault(workload_ref(facts, pod), []).append(pod)
        if len(groups) < 2:
            return
        ns, name = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
        workloads = {
            ref: {"pods": len(pods), "ready": sum(1 for p in pods if pod_ready(p)),
                  "images": sorted({c.get("image", "") for p in pods for c in containers(p)})}
            for ref, pods in sorted(groups.items())
        }
        # The main workload is the one with most pods; the others are the strays to look at.
        main = max(groups, key=lambda r: len(groups[r]))
        strays = [r for r in sorted(groups) if r != main]
        selector = ",".join(f"{k}={v}" for k, v in (svc.get("spec") or {}).get("selector", {}).items())
        commands = [f"kubectl -n {ns} get pods -l {selector} -o wide --show-labels"]
        commands += [f"kubectl -n {ns} delete {r}" for r in strays]
        yield self.finding(
            f"Service {ns}/{name} sends traffic to pods of {len(groups)} workloads: {main} and "
            f"{', '.join(strays)}",
            subject=f"service/{ns}/{name}",
            evidence={"selector": selector, "workloads": workloads},
            fix=Fix("Remove the stray workload(s) if they are left over, or add a distinguishing label to the "
                    "intended pods and to the Service's selector.", tuple(commands),
                    "spec:\n  selector:\n    app.kubernetes.io/instance: <the intended release>\n"),
        )
