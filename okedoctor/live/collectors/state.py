"""What one collection has read so far; every collector of the run writes here under one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from okedoctor.facts import KUBERNETES, LIVE_CONTAINERS, LIVE_INTERNET, LIVE_PROBE, OCI
from okedoctor.live.engine import Engine
from okedoctor.live.kube import KubeTarget
from okedoctor.live.oci_api import OciSetup
from okedoctor.model import Target
from okedoctor.oci_catalog import COLLECTED_SECTIONS, RESOURCES
from okedoctor.options import LiveOptions

# The facts a deadline cut is reported on; any other task's fact is part of `kubernetes`.
TOP_FACTS = (KUBERNETES, OCI, LIVE_CONTAINERS, LIVE_PROBE, LIVE_INTERNET)

# The keys of the shared reads (Engine.once) this thread works for, outermost first: a gap it
# records belongs to every Service whose collection waits on one of them, not only to the one that
# started it. A task submitted from a shared read works for it too (a worker's VNIC read, started
# by the worker's shared read, is needed by every Service that needs the worker).
_SHARED = threading.local()


def _chain() -> tuple:
    return getattr(_SHARED, "keys", ())


def reported_fact(fact: str) -> str:
    """The fact a cut or failed task is reported on: a top fact, a `kubernetes.<resource>`, else kubernetes."""
    return fact if fact in TOP_FACTS or fact.startswith(f"{KUBERNETES}.") else KUBERNETES


class RunEngine:
    """One Service's view of the run's shared engine: it remembers what this Service waits on.

    A deadline cut or a failed shared read is then charged to the Services that depend on it,
    not to every Service of a fleet run.
    """

    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = threading.Lock()
        self.tracked: list[tuple[str, Future, Any]] = []  # (fact, future, once-key or None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def submit(self, fact: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        keys = _chain()
        fut = self._engine.submit(fact, _as_shared, keys, fn, *args, **kwargs) if keys else \
            self._engine.submit(fact, fn, *args, **kwargs)
        with self._lock:
            self.tracked.append((fact, fut, None))
        return fut

    def once(self, key: Any, fact: str, fn: Callable[..., Any], *args: Any) -> Future:
        fut = self._engine.once(key, fact, _as_shared, _chain() + (key,), fn, *args)
        with self._lock:
            self.tracked.append((fact, fut, key))
        return fut

    def cut(self) -> list[str]:
        """The facts of this Service's reads the deadline cut."""
        with self._lock:
            return sorted({reported_fact(fact) for fact, fut, _ in self.tracked if not fut.done()})

    def shared_gaps(self) -> list[tuple[str, str, str]]:
        """Gaps recorded by the shared reads this Service used, whichever Service started them."""
        with self._lock:
            keys = [key for _, fut, key in self.tracked if key is not None and fut.done()]
        return [gap for key in keys for gap in self._engine.shared_gaps(key)]


def _as_shared(keys: tuple, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    outer = _chain()
    _SHARED.keys = keys
    try:
        return fn(*args, **kwargs)
    finally:
        _SHARED.keys = outer


def _empty_oci() -> dict[str, Any]:
    return {section: RESOURCES[section].kind() for section in COLLECTED_SECTIONS}


@dataclass
class RunState:
    kt: KubeTarget
    target: Target
    opts: LiveOptions
    engine: RunEngine
    lock: threading.Lock = field(default_factory=threading.Lock)
    kube: dict[str, Any] = field(default_factory=dict)  # what -> object or list
    futs: dict[str, Future] = field(default_factory=dict)  # namespace-wide reads, stored at the end
    oci: dict[str, Any] = field(default_factory=_empty_oci)
    oci_used: bool = False
    oci_setup: OciSetup | None = None
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    internet: dict[str, Any] | None = None
    collection: dict[str, dict[str, str]] = field(default_factory=dict)
    region: str | None = None
    compartment: str | None = None  # where the cloud controller manager makes the Service's LB
    lb_search: dict[str, Any] | None = None  # context.lbSearch: the compartments listed, and why
    cluster_body: dict | None = None
    cluster_services: list[dict] | None = None  # every Service of the cluster, once listed
    nodes: list[dict] = field(default_factory=list)
    node_instances: list[str] = field(default_factory=list)
    lb_depth: int = 2  # the internet probe's depth: after the Service, or after the LB when there is one
    fleet: bool = False  # one of many Services of a report: shared lists, one probe per Service
    _ids: dict[str, set] = field(default_factory=dict, repr=False)  # per `oci` list section (see add)

    def __post_init__(self) -> None:
        self.region = self.region or self.opts.region

    def note(self, fact: str, kind: str, reason: str) -> None:
        """Record why a fact is missing; denials win over other kinds, reasons accumulate."""
        for key in _chain():
            self.engine.add_shared_gap(key, (fact, kind, reason))
        with self.lock:
            prev = self.collection.get(fact)
            if prev is None:
                self.collection[fact] = {"kind": kind, "reason": reason}
                return
            if reason not in prev["reason"]:
                prev["reason"] = f"{prev['reason']}; {reason}"
            if kind == "denied":
                prev["kind"] = "denied"

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.kube[key] = value

    def add(self, section: str, body: dict | list | None) -> None:
        """Bodies into an `oci:` list section, each id once."""
        if not body:
            return
        with self.lock:
            bodies = self.oci.setdefault(section, [])
            # The ids already there, kept beside the section: a fleet adds hundreds of workers
            # one by one, and a scan of the section for each was quadratic.
            ids = self._ids.setdefault(section, {x.get("id") for x in bodies})
            for b in body if isinstance(body, list) else [body]:
                if b.get("id") not in ids:
                    ids.add(b.get("id"))
                    bodies.append(b)

    def put_keyed(self, section: str, key: str, value: Any) -> None:
        with self.lock:
            self.oci.setdefault(section, {})[key] = value

    def container(self, key: str) -> dict[str, Any]:
        """The live.containers entry of `ns/pod/container` (call under the lock)."""
        return self.containers.setdefault(key, {})
