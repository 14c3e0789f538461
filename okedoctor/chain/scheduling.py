"""Reading the scheduler's FailedScheduling message, and node room for a pod."""

from __future__ import annotations

import re
from dataclasses import dataclass

from okedoctor.chain import causes as _causes
from okedoctor.facts import Facts, Obj, per_target
from okedoctor.kube import (
    Resources,
    event_message,
    events_with_reason,
    node_allocatable,
    node_ready,
    pod_holds_resources,
    pod_requests,
)


def scheduling_message(facts: Facts, pod: Obj) -> str:
    """The scheduler's latest word on a Pending pod (FailedScheduling event, else the PodScheduled condition)."""
    evs = events_with_reason(facts.events_for(pod), "FailedScheduling")
    if evs:
        return event_message(evs[-1])
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "PodScheduled":
            return c.get("message") or ""
    return ""


# (?<!\d): a count starts at its first digit, so a run of digits is not re-scanned from each one.
_REASONS = (
    ("insufficient", re.compile(r"(?<!\d)(\d+) Insufficient ([\w./-]*[\w/-])")),
    ("taint", re.compile(r"(?<!\d)(\d+) node\(s\) had untolerated taint \{([^}]{0,200})\}")),
    ("selector", re.compile(r"(?<!\d)(\d+) node\(s\) didn't match Pod's node affinity/selector")),
    ("unbound-pvc", re.compile(r"()pod has unbound immediate PersistentVolumeClaims")),
    ("volume-binding", re.compile(r"()(?:binding volumes|didn't find available persistent volumes)")),
    ("volume-zone", re.compile(r"(?<!\d)(\d+) node\(s\) had volume node affinity conflict")),
    ("unschedulable", re.compile(r"(?<!\d)(\d+) node\(s\) were unschedulable")),
    ("too-many-pods", re.compile(r"(?<!\d)(\d+) Too many pods")),
    ("ports", re.compile(r"(?<!\d)(\d+) node\(s\) didn't have free ports")),
)


def parse_reasons(message: str) -> list[dict]:
    """The reasons listed in a FailedScheduling message (before the preemption part)."""
    head = message.split("preemption:")[0]
    out = []
    for kind, pattern in _REASONS:
        for m in pattern.finditer(head):
            d: dict = {"kind": kind}
            if m.group(1):
                d["nodes"] = int(m.group(1))
            if kind == "insufficient":
                d["resource"] = m.group(2)
            if kind == "taint":
                d["taint"] = m.group(2)
            out.append(d)
    return out


@dataclass(frozen=True)
class NodeRoom:
    node: str
    allocatable: Resources
    requested: Resources
    ready: bool
    unschedulable: bool

    @property
    def free(self) -> Resources:
        return self.allocatable - self.requested

    def show(self) -> dict:
        return {"allocatable": self.allocatable.show(), "requested": self.requested.show(),
                "free": self.free.show(), **({"unschedulable": True} if self.unschedulable else {}),
                **({} if self.ready else {"ready": False})}


@per_target
def node_room(facts: Facts) -> list[NodeRoom]:
    """Per node: allocatable, the sum of requests of the pods in the snapshot scheduled there, what is free."""
    used: dict[str, Resources] = {}
    for pod in facts.objects("Pod"):
        if pod_holds_resources(pod):
            node = pod["spec"]["nodeName"]
            used[node] = used.get(node, Resources()) + pod_requests(pod.get("spec") or {})
    return [NodeRoom(n["metadata"]["name"], node_allocatable(n), used.get(n["metadata"]["name"], Resources()),
                     node_ready(n), bool((n.get("spec") or {}).get("unschedulable")))
            for n in facts.nodes]


def other_pods_collected(facts: Facts) -> bool:
    """Whether the snapshot holds pods besides the Service's own, so per-node sums can be trusted.

    A live collection reads the Service's pods only; then what other workloads request on a
    node is unknown and the free room computed here is an upper bound.
    """
    mine = {id(p) for p in facts.pods}
    return any(id(p) not in mine for p in facts.objects("Pod"))


@dataclass(frozen=True)
class Blocked:
    deployment: Obj
    new_rs: Obj
    pending: list[Obj]
    request: Resources
    message: str
    rooms: list[NodeRoom]


def _revision(obj: Obj) -> int:
    return int(((obj.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision") or 0)


@per_target
def blocked_rollouts(facts: Facts) -> list[Blocked]:
    """Deployments whose newest ReplicaSet has a pod the scheduler cannot place for lack of cpu/memory."""
    out = []
    for dep in facts.deployments:
        if ((dep.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            continue
        sets = sorted(facts.replicasets_of(dep), key=_revision)
        if len(sets) < 2:
            continue  # no rollout in progress: the first ReplicaSet has nothing to surge past
        new = sets[-1]
        pending = [p for p in facts.pods_of(new) if _causes.is_unschedulable(p)]
        msgs = [scheduling_message(facts, p) for p in pending]
        hit = next((m for m in msgs if any(r["kind"] == "insufficient" for r in parse_reasons(m))), None)
        if pending and hit:
            out.append(Blocked(dep, new, pending, pod_requests(pending[0].get("spec") or {}), hit, node_room(facts)))
    return out
