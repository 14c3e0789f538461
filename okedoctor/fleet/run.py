"""Diagnose every exposed Service held by one set of facts."""

from __future__ import annotations

import time

from okedoctor.facts import Facts
from okedoctor.fleet.model import FleetReport
from okedoctor.model import Target
from okedoctor.registry import Registry
from okedoctor.runner import run_checks
from okedoctor.snapshot import Snapshot

EXPOSED_TYPES = ("LoadBalancer",)


def exposed_services(snapshot: Snapshot, namespace: str | None, include_nodeport: bool) -> list[Target]:
    """Services of type LoadBalancer (and NodePort when asked) in one namespace or all (None)."""
    types = EXPOSED_TYPES + (("NodePort",) if include_nodeport else ())
    out = []
    for obj in snapshot.kubernetes:
        if obj.get("kind") != "Service" or (obj.get("spec") or {}).get("type") not in types:
            continue
        ns = obj["metadata"].get("namespace", "")
        if namespace is None or ns == namespace:
            out.append(Target(ns, obj["metadata"]["name"]))
    return sorted(out, key=lambda t: (t.namespace, t.service))


def diagnose_fleet(
    snapshot: Snapshot,
    registry: Registry,
    targets: list[Target],
    *,
    stats: dict | None = None,
) -> FleetReport:
    """One Facts index for the whole run; each Service sees it through `Facts.retarget`.

    The checks are pure CPU work (a few milliseconds a Service), so they run in this thread:
    the concurrency that matters is in the collection, which is shared.
    """
    started = time.perf_counter()
    base = Facts(snapshot)
    reports = []
    for target in targets:
        report = run_checks(base.retarget(target), registry, context=dict(snapshot.context))
        # The collection is shared, so requests are counted once, in the fleet's stats.
        report.stats["duration_s"] = report.stats.pop("checks_s", 0.0)
        report.stats["api_requests"] = {}
        reports.append(report)
    fleet_stats = dict(stats or {})
    fleet_stats["services"] = len(reports)
    fleet_stats["checks_s"] = round(time.perf_counter() - started, 4)
    return FleetReport(services=reports, context=dict(snapshot.context), stats=fleet_stats)
