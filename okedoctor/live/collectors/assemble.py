"""A run's state, as the Snapshot a file would hold."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from okedoctor import __version__
from okedoctor.facts import LIVE_CONTAINERS
from okedoctor.live.collectors.state import RunState
from okedoctor.live.kube import scrub_object
from okedoctor.live.shapes import assemble_kubernetes
from okedoctor.oci_catalog import CLUSTERS
from okedoctor.snapshot import Snapshot


def assemble(s: RunState) -> Snapshot:
    for fact in s.engine.cut():
        s.note(fact, "unavailable", f"not read within the {s.opts.timeout:g}s deadline (--timeout)")
    for fact, kind, reason in s.engine.shared_gaps():
        s.note(fact, kind, reason)
    for key, fut in s.futs.items():
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            s.put(key, fut.result())
    with s.lock:
        kube = dict(s.kube)
        oci = {k: (list(v) if isinstance(v, list) else dict(v)) for k, v in s.oci.items()}
        containers = {k: dict(v) for k, v in s.containers.items()}
        internet = dict(s.internet) if s.internet is not None else None
        collection = {k: dict(v) for k, v in s.collection.items()}
    live: dict[str, Any] = {}
    if "pods" in kube and LIVE_CONTAINERS not in collection or "pods" in kube:
        live["containers"] = containers
    if internet is not None:
        live["internet"] = internet
    if s.cluster_body is not None and s.oci_used:
        oci[CLUSTERS] = [s.cluster_body]
    target = {"namespace": s.target.namespace, "service": s.target.service}
    if s.opts.lb_ocid:
        target["lbOcid"] = s.opts.lb_ocid
    return Snapshot(
        kind="Snapshot",
        metadata={"name": f"{s.target.namespace}-{s.target.service}",
                  "capturedAt": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "collectedBy": f"okedoctor {__version__}"},
        context=_context(s),
        target=target,
        kubernetes=[scrub_object(o) for o in assemble_kubernetes(kube, s.target, nodes_apart=s.fleet)],
        oci=oci if s.oci_used else None,
        live=live,
        collection=collection,
    )


def _context(s: RunState) -> dict[str, Any]:
    context: dict[str, Any] = {"kubeContext": s.kt.context, "server": s.kt.server, "cluster": s.kt.cluster}
    if s.region:
        context["region"] = s.region
    if s.compartment:
        context["compartmentId"] = s.compartment
    if s.lb_search is not None and not s.opts.lb_ocid:
        context["lbSearch"] = dict(s.lb_search)
    return context


def shared_nodes(s: RunState) -> list[dict]:
    """A fleet run's nodes, as each Service's snapshot would have held them (scrubbed), once."""
    fut = s.futs.get("nodes")
    if fut is None or not fut.done() or fut.cancelled() or fut.exception() is not None:
        return []
    return [scrub_object(n) for n in fut.result() or []]
