"""OKD-POD-011: a running container fails its readiness probe."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.containers import Group, containers_where
from okedoctor.chain.live import answers_for
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import (
    dependency_commands,
    event_count,
    event_message,
    events_with_reason,
    log_hints,
    probe_target,
    tail,
)
from okedoctor.model import Finding, Fix, Hop, Severity


def _failing(pod: Obj, status: Obj | None) -> bool:
    s = status or {}
    return (bool((s.get("state") or {}).get("running")) and not s.get("ready")
            and not _causes.is_crashloop(s) and (pod.get("status") or {}).get("phase") == "Running")


class ReadinessProbeFailing(Check):
    """A running container fails its readiness probe, so its pod is kept out of the Service.

    What it checks
        Containers of the Service's pods that run but are not ready. It shows the probe (what
        it requests, where), the kubelet's latest "Readiness probe failed" event and its count,
        what the in-pod probe got on localhost, and the startup failures recognised in the log
        (a refused dependency, an unresolvable host...).

    Why it breaks
        Only ready pods are endpoints. A probe that fails on every pod leaves the Service with
        none: clients through the load balancer get "connection refused". The event's message
        says which kind of failure: "connection refused" (nothing listens on the probed
        address), "statuscode: 503" (the app reports itself unhealthy, often a dependency),
        "context deadline exceeded" (slower than timeoutSeconds).

    How to fix
        Refused: make the app listen on the probed port on all addresses (0.0.0.0). 5xx: fix what
        the app's health handler checks (the log names the dependency). Timeout: raise the
        probe's timeoutSeconds (patch shown) or find why the app is slow.
    """

    code = "OKD-POD-011"
    name = "readiness-probe-failing"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        severity = Severity.WARNING if _causes.service_serving(facts) else Severity.ERROR
        for g in containers_where(facts, _failing):
            yield self._finding(facts, g, severity)

    def _finding(self, facts: Facts, g: Group, severity: Severity) -> Finding:
        pod, _ = g.first
        ns, cname = pod["metadata"].get("namespace", ""), g.container.get("name", "")
        kind, port, desc = probe_target(g.container.get("readinessProbe"), g.container)
        unhealthy = [e for e in events_with_reason(facts.events_for(pod), "Unhealthy")
                     if event_message(e).startswith("Readiness")]
        message = event_message(unhealthy[-1]) if unhealthy else ""
        live = facts.container_live(ns, pod["metadata"]["name"], cname) or {}
        hints = log_hints(live.get("logs"))
        evidence: dict = {"pods": g.pod_names, "container": cname, "readinessProbe": desc or "none"}
        if message:
            evidence["event"] = message
            evidence["eventCount"] = sum(event_count(e) for e in unhealthy)
        answers = {f"localhost:{a.port}": a.result for a in answers_for(facts, pod)} if facts.service else {}
        if answers:
            evidence["inPodProbe"] = answers
        if live.get("logs"):
            evidence["logTail"] = tail(live["logs"], 5)
        if hints:
            evidence["recognised"] = [h.plain for h in hints]
        cause = _causes.LOOPBACK if any(h.kind == "loopback" for h in hints) else None
        what = _what(message, hints)
        return self.finding(
            f"Container {cname} of {g.ref} fails its readiness probe ({desc or 'no probe'}): {what}",
            subject=f"{g.ref.replace('/', f'/{ns}/', 1)}/{cname}",
            evidence=evidence, fix=_fix(ns, g, kind, message, hints), severity=severity, caused_by=cause,
        )


def _what(message: str, hints: list) -> str:
    dep = next((h for h in hints if h.kind in ("refused", "dns")), None)
    if re.search(r"statuscode: 5\d\d", message):
        return "the app reports itself unhealthy" + (f" ({dep.plain})" if dep else "")
    if "connection refused" in message:
        return "nothing listens on the probed address"
    if re.search(r"deadline exceeded|timeout", message, re.I):
        return "the app answers slower than the probe's timeoutSeconds"
    return dep.plain if dep else (message or "no Unhealthy event recorded yet")


def _fix(ns: str, g: Group, kind: str, message: str, hints: list) -> Fix:
    pod, _ = g.first
    idx = [c.get("name") for c in pod["spec"]["containers"]].index(g.container.get("name"))
    logs = f"kubectl -n {ns} logs {pod['metadata']['name']} -c {g.container.get('name')} --tail=100"
    if re.search(r"deadline exceeded|timeout", message, re.I):
        op = [{"op": "replace", "path": f"/spec/template/spec/containers/{idx}/readinessProbe/timeoutSeconds",
               "value": 5}]
        return Fix("Give the probe more time (timeoutSeconds), and find why the app answers slowly.",
                   (f"kubectl -n {ns} patch {g.ref} --type=json -p '{json.dumps(op)}'", logs),
                   "readinessProbe:\n  timeoutSeconds: 5\n")
    dep = next((h for h in hints if h.kind in ("refused", "dns")), None)
    if dep:
        target = dep.detail.get("dependency") or dep.detail.get("host") or ""
        return Fix(f"Make the dependency {target} reachable: its Service needs ready endpoints on that port.",
                   (*dependency_commands(ns, target), logs))
    return Fix("Make the probed endpoint answer 2xx: read the app's log for why it does not.",
               (logs, f"kubectl -n {ns} describe pod {pod['metadata']['name']}"))
