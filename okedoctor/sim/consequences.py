"""After a write, what the simulator serves as observations follows the model (okedoctor/sim/model.py).

The baseline is the model's reading of the file as loaded. After each write the model runs
again; an observation whose derived value differs from the baseline is replaced by the
model's (a backend's health, its set's health, a public address's answer), one whose value is
back to the baseline gets the file's own value again.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from okedoctor.oci_catalog import BACKEND_HEALTH, BACKEND_SET_HEALTH, FLAVORS
from okedoctor.sim.model import Derived, derive, endpoints_of, health_bodies, set_health

DEFAULT_ANSWER = {"status": 200, "body": "OK\n"}
# An L7 listener with no backend to send to answers this itself, as OCI's LB does.
BAD_GATEWAY = {"status": 502, "body": "<html><head><title>502 Bad Gateway</title></head><body><center>"
                                      "<h1>502 Bad Gateway</h1></center></body></html>"}


class Consequences:
    """The file's observations and the model's baseline are taken at the first write, just before
    it changes anything (`before_write`): until then the configuration is the file's, so they are
    what loading would have taken, and a simulator nobody writes to (every diagnosis, a fleet
    report) never pays for them. Deriving a 1,000-Service fleet, whose 1,000 NLBs each send to
    1,666 nodes, takes minutes."""

    def __init__(self, kube_objects: Callable[[], list[dict[str, Any]]], oci: dict[str, Any],
                 internet: dict[str, Any], serve_answer: Callable[[str, dict[str, Any]], None],
                 containers: dict[str, Any] | None = None) -> None:
        self.kube_objects, self.oci, self.serve_answer = kube_objects, oci, serve_answer
        self.containers = containers or {}
        self.internet = internet
        self.lock = threading.Lock()
        self._taken = False

    def before_write(self) -> None:
        """Called before a write changes the configuration: take the file's state if not yet taken."""
        with self.lock:
            self._take()

    def _take(self) -> None:
        if self._taken:
            return
        self.file_backend_health = copy.deepcopy(self.oci.get(BACKEND_HEALTH) or {})
        self.file_set_health = copy.deepcopy(self.oci.get(BACKEND_SET_HEALTH) or {})
        self.file_answers = copy.deepcopy(self.internet)
        self.served = copy.deepcopy(self.internet)
        self.file_services = {self._key(o): copy.deepcopy(o.get("spec")) for o in self.kube_objects()
                              if o.get("kind") == "Service"}
        self.baseline = self._derive()
        self._taken = True

    @staticmethod
    def _key(obj: dict[str, Any]) -> tuple[str, str]:
        return (obj["metadata"].get("namespace") or "", obj["metadata"]["name"])

    def _derive(self) -> Derived:
        return derive(self.kube_objects(), self.oci, list(self.file_answers), self.containers)

    def recompute(self) -> None:
        with self.lock:
            self._take()  # a write that did not announce itself: too late to be exact, but never skipped
            self._endpoints()
            now = self._derive()
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            moved = self._backends(now, stamp)
            self._sets(moved)
            self._answers(now)

    def _endpoints(self) -> None:
        """The endpoints controller: a Service whose spec a write changed gets its endpoints again."""
        objects = self.kube_objects()
        pods = [o for o in objects if o.get("kind") == "Pod"]
        for svc in (o for o in objects if o.get("kind") == "Service"):
            if self.file_services.get(self._key(svc)) == svc.get("spec"):
                continue
            slice_endpoints, subsets, ports = endpoints_of(svc, pods)
            for obj in objects:
                meta = obj.get("metadata") or {}
                if meta.get("namespace") != svc["metadata"].get("namespace"):
                    continue
                if obj.get("kind") == "Endpoints" and meta.get("name") == svc["metadata"]["name"]:
                    obj["subsets"] = subsets
                elif obj.get("kind") == "EndpointSlice" and \
                        (meta.get("labels") or {}).get("kubernetes.io/service-name") == svc["metadata"]["name"]:
                    obj["endpoints"], obj["ports"] = slice_endpoints, ports

    def _backends(self, now: Derived, stamp: str) -> set[str]:
        """Each backend's health; the sets ("<lb>/<set>") where one was derived rather than filed."""
        health = self.oci.setdefault(BACKEND_HEALTH, {})
        moved = set()
        for key in set(health) - set(now.backends):
            health.pop(key)  # a backend that is gone
        for key, ok in now.backends.items():
            if key in self.baseline.backends and self.baseline.backends[key] == ok and key in self.file_backend_health:
                health[key] = copy.deepcopy(self.file_backend_health[key])
            else:
                health[key] = health_bodies(key, ok, stamp)
                moved.add(key.rsplit("/", 1)[0])
        return moved

    def _sets(self, moved: set[str]) -> None:
        sets = self.oci.setdefault(BACKEND_SET_HEALTH, {})
        health = self.oci.get(BACKEND_HEALTH) or {}
        for flavor in FLAVORS.values():
            for lb in self.oci.get(flavor.section) or []:
                for name, bset in (lb.get("backendSets") or {}).items():
                    key = f"{lb['id']}/{name}"
                    names = [b.get("name") for b in bset.get("backends") or []]
                    filed = self.file_set_health.get(key)
                    if key not in moved and filed is not None and filed.get("totalBackendCount") == len(names):
                        sets[key] = copy.deepcopy(filed)
                        continue
                    ok = {n: (health.get(f"{key}/{n}") or {}).get("status") == "OK" for n in names}
                    sets[key] = set_health(names, ok)

    def _answers(self, now: Derived) -> None:
        for address, kind in now.internet.items():
            if self.baseline.internet.get(address) == kind:
                want = self.file_answers[address]
            elif kind == "answers":
                # the file recorded the failure; what the app answers once reached is not in it
                want = DEFAULT_ANSWER
            elif kind == "bad-gateway":
                want = BAD_GATEWAY
            else:
                want = {"error": kind}
            if want != self.served.get(address):
                self.served[address] = copy.deepcopy(want)
                self.serve_answer(address, want)
