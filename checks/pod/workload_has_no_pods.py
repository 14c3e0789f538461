"""OKD-POD-021: the Service's workload matches its selector but has no pod."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import event_message, name_of
from okedoctor.model import Finding, Fix, Hop

_QUOTA = re.compile(r"exceeded quota: ([\w.-]+)")
_PSA = re.compile(r'violates PodSecurity "([^"]+)"')
_WEBHOOK = re.compile(r'admission webhook "([^"]+)" denied the request')


def why_no_pods(facts: Facts, dep: Obj) -> dict:
    """Why a Deployment the Service selects has no pod: scaled to zero, or its ReplicaSet cannot create them."""
    replicas = (dep.get("spec") or {}).get("replicas", 1)
    if replicas == 0:
        # "Scaled down replica set app-7d9f8b6c5d to 0 from 2": the count to go back to.
        before = [int(m.group(1)) for e in facts.events_for(dep) if e.get("reason") == "ScalingReplicaSet"
                  if (m := re.search(r"to 0 from (\d+)", event_message(e)))]
        return {"kind": "scaled-to-zero", "replicas": 0, **({"replicasBefore": before[-1]} if before else {})}
    failed = [e for rs in facts.replicasets_of(dep) for e in facts.events_for(rs) if e.get("reason") == "FailedCreate"]
    if failed:
        msg = event_message(failed[-1])
        if m := _QUOTA.search(msg):
            return {"kind": "quota", "quota": m.group(1), "message": msg}
        if m := _PSA.search(msg):
            return {"kind": "pod-security", "level": m.group(1), "message": msg}
        if m := _WEBHOOK.search(msg):
            return {"kind": "webhook", "webhook": m.group(1), "message": msg}
        return {"kind": "failed-create", "message": msg}
    conditions = (dep.get("status") or {}).get("conditions") or []
    cond = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
    if cond:
        return {"kind": "failed-create", "message": cond.get("message", "")}
    if (dep.get("spec") or {}).get("paused"):
        return {"kind": "paused"}
    return {"kind": "unknown"}


class WorkloadHasNoPods(Check):
    """The Deployment the Service selects has no pod: scaled to zero, or its ReplicaSet cannot create pods.

    What it checks
        When the Service selects no pod but a Deployment's pod template matches its selector
        (so the selector is right), why that Deployment has no pod: `replicas: 0`, or the
        ReplicaSet's FailedCreate events (a ResourceQuota exceeded, a PodSecurity admission
        violation, an admission webhook's denial), or a paused Deployment.

    Why it breaks
        No pod, no endpoint: kube-proxy rejects every connection and the load balancer's clients
        get "connection refused". A FailedCreate is only visible on the ReplicaSet's events, never
        on a pod, which makes it easy to miss.

    How to fix
        Scale the Deployment back up; or raise the ResourceQuota (or lower the requests); or make
        the pod template comply with the namespace's Pod Security level (securityContext:
        runAsNonRoot, no privilege escalation, drop ALL capabilities, seccompProfile
        RuntimeDefault); or satisfy the webhook's policy.
    """

    code = "OKD-POD-021"
    name = "workload-has-no-pods"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        if not facts.service or facts.pods:
            return
        for dep in facts.deployments:
            if facts.pods_of(dep) or any(facts.pods_of(rs) for rs in facts.replicasets_of(dep)):
                continue
            yield self._finding(dep, why_no_pods(facts, dep))

    def _finding(self, dep: Obj, why: dict) -> Finding:
        ns, name = dep["metadata"].get("namespace", ""), name_of(dep)
        ref = f"deployment/{name}"
        kind = why["kind"]
        if kind == "scaled-to-zero":
            title = f"Deployment {ns}/{name} is scaled to 0 replicas: the Service has no pod to send to"
            fix = Fix("Scale it back up (and check no HPA or automation set it to 0).",
                      (f"kubectl -n {ns} scale {ref} --replicas={why.get('replicasBefore', 2)}",
                       f"kubectl -n {ns} get hpa"))
        elif kind == "quota":
            title = f"Deployment {ns}/{name} cannot create pods: ResourceQuota {why['quota']} is exhausted"
            fix = Fix("Raise the quota, free some of it, or lower the pods' requests.",
                      (f"kubectl -n {ns} describe resourcequota {why['quota']}",
                       f"kubectl -n {ns} edit resourcequota {why['quota']}"))
        elif kind == "pod-security":
            patch = {"spec": {"template": {"spec": {
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}}}}
            title = (f"Deployment {ns}/{name} cannot create pods: the template violates PodSecurity "
                     f"\"{why['level']}\" of namespace {ns}")
            fix = Fix("Make the pod template comply (runAsNonRoot, allowPrivilegeEscalation: false, capabilities "
                      "drop ALL, seccompProfile RuntimeDefault), or relax the namespace's enforce level if it is "
                      "wrong.",
                      (f"kubectl -n {ns} patch {ref} -p '{json.dumps(patch)}'",
                       f"kubectl get namespace {ns} --show-labels"),
                      "securityContext:  # each container\n  allowPrivilegeEscalation: false\n  capabilities:\n"
                      "    drop: [ALL]\n")
        elif kind == "webhook":
            title = f"Deployment {ns}/{name} cannot create pods: admission webhook {why['webhook']} denies them"
            fix = Fix("Change the pod template to satisfy the webhook's policy (its message says which rule).",
                      (f"kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations | grep -i "
                       f"{why['webhook'].split('.')[0]}",))
        elif kind == "paused":
            title = f"Deployment {ns}/{name} is paused and has no pod"
            fix = Fix("Resume the rollout.", (f"kubectl -n {ns} rollout resume {ref}",))
        else:
            title = f"Deployment {ns}/{name} matches the Service but has no pod"
            fix = Fix("Read the ReplicaSet's events for why it creates no pod.",
                      (f"kubectl -n {ns} describe replicaset -l {','.join(f'{k}={v}' for k, v in _labels(dep))}",))
        return self.finding(title, subject=f"deployment/{ns}/{name}",
                            evidence={"deployment": name, **why}, fix=fix)


def _labels(dep: Obj) -> list[tuple[str, str]]:
    return sorted((((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}).items())
