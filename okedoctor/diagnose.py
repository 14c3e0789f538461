"""One diagnosis: facts in, Report out. Shared by `diagnose`, `demo` and `report`."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from okedoctor.chain.ingress import route_url
from okedoctor.errors import OkedoctorError, UsageError
from okedoctor.facts import Facts
from okedoctor.model import ExitCode, Report, Target
from okedoctor.options import service_hint
from okedoctor.policy import Policy
from okedoctor.registry import Registry
from okedoctor.runner import run_checks
from okedoctor.safeout import clean_value
from okedoctor.snapshot import Snapshot
from okedoctor.urldiag import diagnose_url
from okedoctor.urls import parse_url

# What judging malformed data raises: a field of another type than the API gives it, or missing.
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError, IndexError, RecursionError)


@contextmanager
def malformed_input(source: str, exit_code: ExitCode = ExitCode.USAGE) -> Iterator[None]:
    """Turn a crash on malformed facts outside a check into one line (checks are contained by the runner).

    The loader checks a snapshot's envelope and identity fields; the rest of an object is the
    API's, and the code that indexes and renders it assumes the API's types. A file (exit 64) or
    an API answer (exit 3) that breaks that is named with the error's type and place only: its
    message could quote a value from the file. OKEDOCTOR_DEBUG=1 shows the traceback instead.
    """
    try:
        yield
    except _MALFORMED as exc:
        if os.environ.get("OKEDOCTOR_DEBUG", "") not in ("", "0"):
            raise
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).stem}.{frame.name}"
        raise OkedoctorError(f"{source}: a field does not have the type the API gives it ({type(exc).__name__} "
                             f"in {where}); check the file or run with OKEDOCTOR_DEBUG=1", exit_code) from None


def resolve_target(snapshot: Snapshot, target: Target | None, namespace: str | None, source: str) -> Target:
    """The target asked for, else the file's; checked against what the file holds."""
    file_target = snapshot.target or {}
    if target is None and file_target.get("url"):
        return Target("", "", url=parse_url(file_target["url"]).text)
    if target is not None and target.url:
        return target
    if target is not None and target.route:
        return route_target(snapshot, target, source)
    if target is None:
        if not file_target.get("service"):
            raise UsageError(f"{source} names no target; give one, e.g. okedoctor diagnose svc/NAME --from {source}")
        target = Target(namespace or file_target.get("namespace") or "default", file_target["service"])
    services = [
        (o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for o in snapshot.kubernetes if o.get("kind") == "Service"
    ]
    if (target.namespace, target.service) not in services:
        here = [(o["metadata"]["name"], str((o.get("spec") or {}).get("type") or "ClusterIP"))
                for o in snapshot.kubernetes if o.get("kind") == "Service"
                and o["metadata"].get("namespace", "") == target.namespace]
        if here:
            hint = service_hint(target.service, here, target.namespace)
        else:
            hint = " (it holds " + (", ".join(f"{ns}/{n}" for ns, n in services[:8]) or "no Service") + ")"
        raise UsageError(f"service {target.namespace}/{target.service} is not in {source}{hint}")
    return target


def route_target(snapshot: Snapshot, target: Target, source: str) -> Target:
    """`ingress/NAME` or `httproute/NAME`: the URL of its first rule, walked like any URL."""
    kind, _, name = (target.route or "").partition("/")
    kinds = {"ingress": "Ingress", "httproute": "HTTPRoute"}
    obj = next((o for o in snapshot.kubernetes if o.get("kind") == kinds[kind]
                and o["metadata"].get("name") == name
                and (o["metadata"].get("namespace") or "default") == target.namespace), None)
    if obj is None:
        raise UsageError(f"{kinds[kind]} {target.namespace}/{name} is not in {source}")
    url = route_url(obj)
    if url is None:
        raise UsageError(f"{kinds[kind]} {target.namespace}/{name} has no rule naming a host: diagnose its URL")
    return Target(target.namespace, "", url=url, route=target.route)


def diagnose_snapshot(
    snapshot: Snapshot,
    target: Target,
    registry: Registry,
    *,
    lb_ocid: str | None = None,
    stats: dict | None = None,
    policy: Policy | None = None,
) -> Report:
    started = time.perf_counter()
    facts = Facts(snapshot, target, lb_ocid=lb_ocid)
    if target.url:
        report = diagnose_url(facts, registry, stats=stats, policy=policy)
        report.stats.setdefault("duration_s", round(time.perf_counter() - started, 4))
        report.stats.setdefault("api_requests", {"kubernetes": 0, "oci": 0})
        return report
    report = run_checks(facts, registry, stats=stats, policy=policy)
    if facts.service and (facts.service.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer"):
        report.context["lbSearch"] = clean_value(facts.lb_search.to_dict())  # how the LB was found, or where it was not
    report.stats.setdefault("duration_s", round(time.perf_counter() - started, 4))
    report.stats.setdefault("api_requests", {"kubernetes": 0, "oci": 0})
    return report
