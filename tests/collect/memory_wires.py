"""Wires that answer from a Snapshot in memory: the collection plan run without a socket.

Kubernetes GETs are answered by the simulator's object store (its selectors and routing), execs
by its shell model, OCI reads by the catalogue's paths, the internet probe by `live.internet`.
Each records what it was asked, so a test can assert the set of reads.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from okedoctor.facts import OCI
from okedoctor.live import oci_api
from okedoctor.live.collectors.wires import Wires
from okedoctor.live.probe import ExecResult
from okedoctor.oci_catalog import (
    BACKEND_HEALTH,
    BACKEND_SET_HEALTH,
    FLAVOR_BY_SECTION,
    NSG_RULES,
    PRIVATE_IPS,
    RESOURCES,
)
from okedoctor.sim import shell, vnicviews
from okedoctor.sim.kubeapi import request_info
from okedoctor.sim.kubepods import _exit_status
from okedoctor.sim.kubestore import Store
from okedoctor.snapshot import Snapshot

LIST_FILTERS = ("compartmentId", "displayName", "instanceId")


@dataclass
class Reads:
    """What a run asked for: (api, path or address, query): api is kubernetes, exec, oci or internet."""

    seen: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, api: str, what: str, query: Any = None) -> None:
        with self.lock:
            self.seen.append((api, what, json.dumps(query, sort_keys=True) if query else ""))

    @property
    def paths(self) -> set[tuple[str, str]]:
        return {(api, what) for api, what, _ in self.seen}


@dataclass
class MemoryKube:
    snap: Snapshot
    reads: Reads

    def __post_init__(self) -> None:
        self.store = Store.from_objects(self.snap.kubernetes)

    def get(self, path: str, query: list[tuple[str, Any]], accept: str, timeout) -> tuple[int, bytes, str | None]:
        self.reads.add("kubernetes", path, query)
        info = request_info("GET", path)
        res = self.store.resource(info.group, info.version, info.plural)
        if res is None:
            return 404, b"", "Not Found"
        q = dict(query)
        if info.name is None:
            items = self.store.list(res, info.namespace, q.get("labelSelector", ""), q.get("fieldSelector", ""))
            body = {"kind": f"{res.kind}List", "apiVersion": res.group_version, "items": items}
            return 200, json.dumps(body).encode(), "OK"
        obj = self.store.get(res, info.namespace, info.name)
        if obj is None:
            return 404, b"", "Not Found"
        if info.sub == "log":
            key = f"{info.namespace}/{info.name}/{q.get('container')}"
            logs = (self.snap.live.get("containers") or {}).get(key) or {}
            text = logs.get("previousLogs" if q.get("previous") else "logs")
            return (404, b"", "Not Found") if text is None else (200, str(text).encode(), "OK")
        return 200, json.dumps(obj).encode(), "OK"

    def exec(self, path: str, query: list[tuple[str, Any]], timeout: float, remaining: float,
             after: tuple[str, float] | None = None) -> ExecResult:
        self.reads.add("exec", path)
        info = request_info("GET", path)
        argv = [v for k, v in query if k == "command"]
        key = f"{info.namespace}/{info.name}/{dict(query)['container']}"
        live = (self.snap.live.get("containers") or {}).get(key)
        result = shell.ExecResult(runtime_error=f"no live.containers entry for {key}") if live is None \
            else shell.run_command(argv, live)
        return ExecResult(result.stdout, result.stderr, _exit_status(argv, result))


@dataclass
class MemoryOci:
    snap: Snapshot
    reads: Reads
    on_request: Any

    def _answer(self, service: str, path: str, query: dict[str, Any]) -> Any:
        oci = self.snap.oci or {}
        segs = path.strip("/").split("/")
        if segs == [PRIVATE_IPS]:
            return vnicviews.filter_private_ips(vnicviews.private_ips(oci), query)
        if len(segs) == 3 and segs[0] == "networkSecurityGroups" and segs[2] == "vnics":
            nsg = next((o for o in oci.get("networkSecurityGroups") or [] if o.get("id") == segs[1]), None)
            return None if nsg is None else vnicviews.nsg_vnics(oci, segs[1])
        res = next((r for r in RESOURCES.values() if not r.keyed and r.collection == segs[0]), None)
        if res is None or res.section not in oci:
            raise oci_api.OciDenied(service, 404, "NotAuthorizedOrNotFound", f"no {segs[0]} in the snapshot")
        if len(segs) == 1:
            items = list(oci[res.section])
            for key in LIST_FILTERS:
                if query.get(key):
                    items = [o for o in items if str(o.get(key)) == query[key]]
            return items
        obj = next((o for o in oci[res.section] if o.get("id") == segs[1]), None)
        rest = segs[2:]
        if rest == ["securityRules"]:
            return (oci.get(NSG_RULES) or {}).get(segs[1])
        if res.section in FLAVOR_BY_SECTION and rest:
            section = BACKEND_SET_HEALTH if len(rest) == 3 else BACKEND_HEALTH
            key = "/".join([segs[1], rest[1]] + ([rest[3]] if len(rest) == 5 else []))
            return (oci.get(section) or {}).get(key)
        return obj

    def get(self, service: str, path: str, path_params: dict[str, str] | None = None,
            query: dict[str, Any] | None = None) -> tuple[Any, dict[str, str]]:
        for key, value in (path_params or {}).items():
            path = path.replace("{" + key + "}", value)
        self.on_request()
        self.reads.add("oci", unquote(path), query)
        body = self._answer(service, path, query or {})
        if body is None:
            raise oci_api.OciDenied(service, 404, "NotAuthorizedOrNotFound", f"{path} is not in the snapshot")
        # OCI answers a single resource's GET with its ETag, as the file recorded it
        etag = ((self.snap.oci or {}).get("etags") or {}).get(body.get("id")) if isinstance(body, dict) else None
        return body, ({"etag": etag} if etag else {})

    def list_all(self, service: str, path: str, path_params: dict[str, str] | None = None,
                 query: dict[str, Any] | None = None) -> list[Any]:
        return list(self.get(service, path, path_params, query)[0])


def memory_wires(snap: Snapshot, reads: Reads) -> Wires:
    def internet(address: str, timeout: float, redirect, tls: bool) -> dict[str, Any] | None:
        reads.add("internet", address)
        return (snap.live.get("internet") or {}).get(address)

    setup = oci_api.OciSetup(auth="api_key", region=snap.context.get("region"))
    # A file without OCI facts was taken without an OCI config: say what it says.
    disabled = oci_api.OciDisabled(((snap.collection or {}).get(OCI) or {}).get("reason", "no OCI config"))
    return Wires(
        kube=lambda kt: MemoryKube(snap, reads),
        oci=lambda setup, region, opts, on_request: MemoryOci(snap, reads, on_request),
        internet=internet,
        oci_setup=lambda opts: setup if snap.oci is not None else disabled,
    )
