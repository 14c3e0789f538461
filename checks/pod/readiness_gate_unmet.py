"""OKD-POD-020: the pod's containers are ready but a readiness gate is not."""

from __future__ import annotations

import json
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain import native as nat
from okedoctor.chain.causes import unmet_gates
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import condition, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class ReadinessGateUnmet(Check):
    """The pod's containers are ready but a readiness gate is not, so the pod never becomes Ready.

    What it checks
        Pods of the Service with `spec.readinessGates` whose gate condition is missing or not
        True while the pod is not Ready. It names each gate and says which controller is
        expected to set it (AWS Load Balancer Controller, GKE NEG, the OCI Native Ingress
        Controller). An OCI Native Ingress Controller gate its controller has set to False is
        OKD-NIC-004's: something does set it.

    Why it breaks
        A pod is Ready only when its containers are ready AND every readiness gate's condition
        is True. Gates are set by an external controller; when none runs on this cluster (a
        manifest brought from EKS or GKE, a namespace labelled for injection by the OCI Native
        Ingress Controller that is not installed) the pod waits forever and never becomes an
        endpoint, with no failing probe and no error event.

    How to fix
        Install (or repair) the controller that owns the gate, or remove the gate from the pod
        template (and the namespace injection label) when nothing on OKE uses it.
    """

    code = "OKD-POD-020"
    name = "readiness-gate-unmet"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        severity = Severity.WARNING if _causes.service_serving(facts) else Severity.ERROR
        seen: dict[str, list[Obj]] = {}
        for pod in facts.pods:
            if _unset(pod):
                seen.setdefault(workload_ref(facts, pod), []).append(pod)
        for ref, pods in seen.items():
            pod = pods[0]
            ns = pod["metadata"].get("namespace", "")
            gates = _unset(pod)
            ready = condition(pod, "Ready") or {}
            owners = sorted({_owner(g) for g in gates})
            op = [{"op": "remove", "path": "/spec/template/spec/readinessGates"}]
            commands = [f"kubectl -n {ns} patch {ref} --type=json -p '{json.dumps(op)}'"] \
                if ref.startswith(("deployment/", "statefulset/", "daemonset/")) else []
            commands.append(f"kubectl get namespace {ns} --show-labels")
            yield self.finding(
                f"{len(pods)} pod(s) of {ref} wait on readiness gate(s) {', '.join(gates)} that nothing sets "
                f"(owner: {', '.join(owners)})",
                subject=f"{ref.replace('/', f'/{ns}/', 1)}",
                evidence={"pods": [p["metadata"]["name"] for p in pods], "unmetGates": gates,
                          "containersReady": (condition(pod, "ContainersReady") or {}).get("status"),
                          "readyCondition": ready.get("message") or ready.get("reason")},
                fix=Fix("Run the controller that owns the gate, or remove the gate from the pod template (and the "
                        "namespace's injection label) if nothing on this cluster sets it.", tuple(commands)),
                severity=severity,
            )


def _unset(pod: Obj) -> list[str]:
    """The unmet gates nothing has set: a native ingress gate its controller set False is OKD-NIC-004's."""
    return [g for g in unmet_gates(pod)
            if not (g.startswith(nat.GATE_PREFIX + "/") and nat.gate_status(pod, g) is not None)]


def _owner(gate: str) -> str:
    if "elbv2.k8s.aws" in gate:
        return "AWS Load Balancer Controller (EKS only)"
    if "cloud.google.com" in gate:
        return "GKE NEG controller (GKE only)"
    if "ingress.oraclecloud.com" in gate:
        return "OCI Native Ingress Controller"
    return "an external controller"
