"""Group per-pod findings by workload and container, so two replicas with one fault give one finding."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from okedoctor.facts import Facts, Obj, iter_containers, iter_init_containers, per_target
from okedoctor.kube import workload_ref


@dataclass
class Group:
    ref: str  # deployment/app
    container: Obj
    pods: list[Obj] = field(default_factory=list)
    statuses: list[Obj] = field(default_factory=list)

    @property
    def pod_names(self) -> list[str]:
        return [p["metadata"]["name"] for p in self.pods]

    @property
    def first(self) -> tuple[Obj, Obj]:
        return self.pods[0], self.statuses[0]


def live_pod(pod: Obj) -> bool:
    """Not finished (Evicted, Completed) and not being deleted: its state still says something."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Failed", "Succeeded") and not pod["metadata"].get("deletionTimestamp")


def containers_where(facts: Facts, test: Callable[[Obj, Obj | None], bool], *,
                     init: bool = False) -> Iterator[Group]:
    """Groups of (workload, container) among the Service's pods whose container status passes `test`;
    `init` looks at the init containers too (an image that cannot be pulled blocks a pod either way)."""
    groups: dict[tuple[str, str], Group] = {}
    for pod, inits, apps in _live_pod_containers(facts):
        for c, status in (inits + apps if init else apps):
            if test(pod, status):
                key = (workload_ref(facts, pod), c.get("name", ""))
                g = groups.setdefault(key, Group(key[0], c))
                g.pods.append(pod)
                g.statuses.append(status or {})
    yield from groups.values()


@per_target
def _live_pod_containers(facts: Facts) -> tuple[tuple[Obj, tuple, tuple], ...]:
    """(pod, its init (container, status) pairs, its app ones) for each live pod of the Service:
    worked out once per Service for the several checks that group containers."""
    return tuple((pod, tuple(iter_init_containers(pod)), tuple(iter_containers(pod)))
                 for pod in facts.pods if live_pod(pod))
