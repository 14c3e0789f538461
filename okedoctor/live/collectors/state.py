"""What one collection has read so far; every collector of the run writes here under one lock."""

from __future__ import annotations

import threading
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


def _empty_oci() -> dict[str, Any]:
    return {section: RESOURCES[section].kind() for section in COLLECTED_SECTIONS}


@dataclass
class RunState:
    kt: KubeTarget
    target: Target
    opts: LiveOptions
    engine: Engine
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

    def __post_init__(self) -> None:
        self.region = self.region or self.opts.region

    def note(self, fact: str, kind: str, reason: str) -> None:
        """Record why a fact is missing; denials win over other kinds, reasons accumulate."""
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
            bodies = self.oci[section]
            for b in body if isinstance(body, list) else [body]:
                if not any(x.get("id") == b.get("id") for x in bodies):
                    bodies.append(b)

    def put_keyed(self, section: str, key: str, value: Any) -> None:
        with self.lock:
            self.oci[section][key] = value

    def container(self, key: str) -> dict[str, Any]:
        """The live.containers entry of `ns/pod/container` (call under the lock)."""
        return self.containers.setdefault(key, {})
