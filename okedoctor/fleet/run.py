"""Diagnose every exposed Service held by one set of facts."""

from __future__ import annotations

import time

from okedoctor.facts import LIVE_PROBE, Facts, iter_containers
from okedoctor.fleet.model import FleetReport
from okedoctor.gcpause import paused_gc
from okedoctor.kube import pod_ready
from okedoctor.model import Target
from okedoctor.policy import Policy
from okedoctor.registry import Registry
from okedoctor.runner import run_checks
from okedoctor.safeout import clean_text, clean_value
from okedoctor.snapshot import Snapshot

EXPOSED_TYPES = ("LoadBalancer",)


def exposed_types(include_nodeport: bool) -> tuple[str, ...]:
    return EXPOSED_TYPES + (("NodePort",) if include_nodeport else ())


def exposed_services(snapshot: Snapshot, namespace: str | None, include_nodeport: bool) -> list[Target]:
    """Services of type LoadBalancer (and NodePort when asked) in one namespace or all (None)."""
    types = exposed_types(include_nodeport)
    out = []
    for obj in snapshot.kubernetes:
        if obj.get("kind") != "Service" or (obj.get("spec") or {}).get("type") not in types:
            continue
        ns = obj["metadata"].get("namespace", "")
        if namespace is None or ns == namespace:
            out.append(Target(ns, obj["metadata"]["name"]))
    return sorted(out, key=lambda t: (t.namespace, t.service))


def listed_services(snapshot: Snapshot, namespace: str | None) -> dict[str, str]:
    """Every Service the snapshot holds in the scope, of any type: `<ns>/<name>` -> spec.type."""
    out = {}
    for obj in snapshot.kubernetes:
        if obj.get("kind") != "Service":
            continue
        ns = obj["metadata"].get("namespace", "")
        if namespace is None or ns == namespace:
            out[f"{ns}/{obj['metadata']['name']}"] = str((obj.get("spec") or {}).get("type") or "ClusterIP")
    return out


def namespaces_in(snapshot: Snapshot) -> set[str]:
    """The namespaces a snapshot file knows: its Namespace objects and those its objects live in."""
    out = set()
    for obj in snapshot.kubernetes:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "Namespace" and meta.get("name"):
            out.add(str(meta["name"]))
        elif meta.get("namespace"):
            out.add(str(meta["namespace"]))
    return out


def name_some(names: list[str], limit: int = 10) -> str:
    """`a, b, c` or `a, b, ... (25 in all)`: enough to spot a typo, short enough for one line."""
    names = sorted(clean_text(n) for n in names)
    if len(names) <= limit:
        return ", ".join(names) if names else "none"
    return f"{', '.join(names[:limit])}, ... ({len(names)} in all)"


def nothing_to_check(listed: dict[str, str], scope: str | None, include_nodeport: bool) -> str:
    """Say in words why a run diagnosed no Service: none exposed in the scope, and what is there."""
    types = exposed_types(include_nodeport)
    where = f"in namespace {scope}" if scope is not None else "in any namespace"
    kinds = " or ".join(types)
    if not listed:
        return f"no Service {where}: nothing to check"
    by_type: dict[str, int] = {}
    for t in listed.values():
        by_type[t] = by_type.get(t, 0) + 1
    detail = ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
    plural = "s" if len(listed) != 1 else ""
    text = f"no Service of type {kinds} {where} ({len(listed)} Service{plural} of other types: {detail})"
    if "NodePort" in by_type and not include_nodeport:
        text += "; pass --include-nodeport to check NodePort Services too"
    return text


def diagnose_fleet(
    snapshot: Snapshot,
    registry: Registry,
    targets: list[Target],
    *,
    stats: dict | None = None,
    policy: Policy | None = None,
) -> FleetReport:
    """One Facts index for the whole run; each Service sees it through `Facts.retarget`.

    The checks are pure CPU work (a few milliseconds a Service), so they run in this thread:
    the concurrency that matters is in the collection, which is shared.
    """
    started, cpu = time.perf_counter(), time.process_time()
    with paused_gc():
        reports, partly = _diagnose_each(snapshot, registry, targets, policy)
    fleet_stats = dict(stats or {})
    fleet_stats["services"] = len(reports)
    fleet_stats["checks_s"] = round(time.perf_counter() - started, 4)
    # The process's CPU time over the same span (the collection is over, so it is the checks'):
    # on a shared machine the wall time says as much about the neighbours as about the checks.
    fleet_stats["checks_cpu_s"] = round(time.process_time() - cpu, 4)
    return FleetReport(services=reports, context=clean_value(dict(snapshot.context)), stats=fleet_stats,
                       check_codes=frozenset(c.code for c in registry.checks
                                             if not policy or c.code not in policy.disabled),
                       probe_codes=probe_codes(registry), partly_probed=frozenset(partly))


def _diagnose_each(snapshot: Snapshot, registry: Registry, targets: list[Target],
                   policy: Policy | None) -> tuple[list, set[str]]:
    base = Facts(snapshot)
    reports = []
    partly: set[str] = set()
    for target in targets:
        facts = base.retarget(target)
        report = run_checks(facts, registry, context=dict(snapshot.context), policy=policy)
        if partly_probed(facts):
            partly.add(f"{target.namespace}/{target.service}")
        # The collection is shared, so requests are counted once, in the fleet's stats.
        report.stats["duration_s"] = report.stats.pop("checks_s", 0.0)
        report.stats["api_requests"] = {}
        reports.append(report)
    return reports, partly


def probe_codes(registry: Registry) -> frozenset[str]:
    """The checks that judge the in-pod probe's answers."""
    return frozenset(c.code for c in registry.checks if LIVE_PROBE in c.needs)


def partly_probed(facts: Facts) -> bool:
    """The in-pod probe ran, but not in every ready pod of the Service (a fleet run probes one)."""
    if facts.unavailable(LIVE_PROBE):
        return False
    probed = [any("localhost" in (facts.container_live(p["metadata"].get("namespace", ""), p["metadata"]["name"],
                                                        c["name"]) or {}) for c, _ in iter_containers(p))
              for p in facts.pods if pod_ready(p)]
    return any(probed) and not all(probed)
