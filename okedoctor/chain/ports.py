"""Where a Service port lands in the pods: shared by the targetPort, swap and probe-port checks."""

from __future__ import annotations

from dataclasses import dataclass

from okedoctor.facts import Facts, Obj, per_target
from okedoctor.kube import container_ports, containers, name_of, resolve_target_port, service_ports


@dataclass(frozen=True)
class PortProblem:
    kind: str  # "named-missing" | "not-declared" | "swapped"
    service_port: Obj
    index: int  # position in spec.ports, for JSON patches
    target: int | str
    declared: tuple[int, ...]
    example: str  # the pod (or Deployment template) it was read from


@per_target
def templates(facts: Facts) -> list[tuple[str, Obj]]:
    """(label, pod-or-template) to read containers from: the selected pods, else the Deployments' templates."""
    seen: set[str] = set()
    out: list[tuple[str, Obj]] = []
    for pod in facts.pods:
        shape = repr([(c.get("name"), c.get("ports")) for c in containers(pod)])
        if shape not in seen:
            seen.add(shape)
            out.append((f"pod/{name_of(pod)}", pod))
    if not out:
        for dep in facts.deployments:
            out.append((f"deployment/{name_of(dep)}", (dep.get("spec") or {}).get("template") or {}))
    return out


@per_target
def port_problems(facts: Facts) -> list[PortProblem]:
    svc = facts.service
    if not svc:
        return []
    out = []
    for i, sp in enumerate(service_ports(svc)):
        target = sp.get("targetPort", sp.get("port"))
        for label, pod in templates(facts):
            declared = tuple(cp.port for cp in container_ports(pod) if cp.protocol == (sp.get("protocol") or "TCP"))
            resolved = resolve_target_port(sp, pod)
            if resolved is None:
                out.append(PortProblem("named-missing", sp, i, target, declared, label))
                break
            if not declared or resolved in declared:
                continue  # ports undeclared: only the in-pod probe can tell
            if any("status" in r for r in live_ports(facts, label, resolved).values()):
                continue  # the app answers there: the port is only undeclared, which Kubernetes allows
            if sp.get("port") in declared and resolved != sp.get("port"):
                out.append(PortProblem("swapped", sp, i, target, declared, label))
            else:
                out.append(PortProblem("not-declared", sp, i, target, declared, label))
            break
    return out


def live_ports(facts: Facts, pod_label: str, port: int | None = None) -> dict:
    """What the in-pod probe saw on localhost for the example pod (all ports, or one)."""
    if not pod_label.startswith("pod/"):
        return {}
    name = pod_label[4:]
    pod = facts.get("Pod", facts.target.namespace, name)
    seen: dict = {}
    for c in containers(pod or {}):
        live = facts.container_live(facts.target.namespace, name, c.get("name", "")) or {}
        for p, res in (live.get("localhost") or {}).items():
            if port is None or str(port) == str(p):
                seen[f"{c.get('name')}:{p}"] = res
    return seen
