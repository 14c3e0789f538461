"""OKD-POD-023: a serving container keeps restarting (often killed by its liveness probe)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.containers import Group, containers_where
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import event_count, event_message, last_terminated, log_hints, probe_target, tail
from okedoctor.model import Finding, Fix, Hop, Severity

MIN_RESTARTS = 3


def _restarting(pod: Obj, status: Obj | None) -> bool:
    s = status or {}
    return (bool((s.get("state") or {}).get("running")) and int(s.get("restartCount") or 0) >= MIN_RESTARTS
            and not _causes.is_oom(s) and not _causes.is_crashloop(s))


class ContainerRestarting(Check):
    """A container of the Service's pods is up now but keeps restarting (often killed by its liveness probe).

    What it checks
        Running containers with at least 3 restarts whose last instance did not end by
        OOMKill (OKD-POD-009) and that are not crash-looping now (OKD-POD-006): the last exit
        code and reason, the kubelet's "Liveness probe failed" and "Killing" events, and the
        previous instance's log.

    Why it breaks
        Each restart drops the pod's in-flight requests and takes it out of the endpoints until
        it is ready again: clients see intermittent resets, 502s or timeouts that no single
        snapshot catches. The usual cause is a liveness probe stricter than the app under load
        (timeoutSeconds 1 on an endpoint that waits for a database), or a slow start without a
        startupProbe.

    How to fix
        Make the liveness probe tolerant (timeoutSeconds, failureThreshold; check only that the
        process lives, not its dependencies) and add a startupProbe for slow starts; otherwise
        read the previous log for why it exits.
    """

    code = "OKD-POD-023"
    name = "container-restarting"
    hop = Hop.POD
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        for g in containers_where(facts, _restarting):
            yield self._finding(facts, g)

    def _finding(self, facts: Facts, g: Group) -> Finding:
        pod, status = g.first
        ns, cname = pod["metadata"].get("namespace", ""), g.container.get("name", "")
        term = last_terminated(status)
        events = facts.events_for(pod)
        liveness = [e for e in events if e.get("reason") == "Unhealthy" and event_message(e).startswith("Liveness")]
        kills = [e for e in events if e.get("reason") == "Killing" and "liveness" in event_message(e)]
        kind, _, desc = probe_target(g.container.get("livenessProbe"), g.container)
        live = facts.container_live(ns, pod["metadata"]["name"], cname) or {}
        hints = log_hints(live.get("previousLogs"))
        evidence: dict = {
            "pods": g.pod_names, "container": cname,
            "restartCount": max(int(s.get("restartCount") or 0) for s in g.statuses),
            "lastExitCode": term.get("exitCode"), "lastReason": term.get("reason"),
            "lastFinishedAt": term.get("finishedAt"), "livenessProbe": desc or "none",
        }
        if liveness:
            evidence["livenessFailed"] = event_message(liveness[-1])
            evidence["livenessFailures"] = sum(event_count(e) for e in liveness)
        if kills:
            evidence["killedByKubelet"] = sum(event_count(e) for e in kills)
        if live.get("previousLogs"):
            evidence["previousLogTail"] = tail(live["previousLogs"], 5)
        if hints:
            evidence["recognised"] = [h.plain for h in hints]
        why = "its liveness probe fails and the kubelet kills it" if liveness or kills else (
            hints[0].plain if hints else f"its last instance exited with code {term.get('exitCode')}")
        return self.finding(
            f"Container {cname} of {g.ref} has restarted {evidence['restartCount']} times: {why}",
            subject=f"{g.ref.replace('/', f'/{ns}/', 1)}/{cname}",
            evidence=evidence, fix=_fix(ns, g, kind, bool(liveness or kills)),
        )


def _fix(ns: str, g: Group, kind: str, liveness: bool) -> Fix:
    pod, _ = g.first
    logs = f"kubectl -n {ns} logs {pod['metadata']['name']} -c {g.container.get('name')} --previous --tail=50"
    if not liveness or not kind or not g.ref.startswith("deployment/"):
        return Fix("Read the previous instance's log for why it exits.", (logs,))
    idx = [c.get("name") for c in pod["spec"]["containers"]].index(g.container.get("name"))
    base = f"/spec/template/spec/containers/{idx}/livenessProbe"
    ops = [{"op": "replace", "path": f"{base}/timeoutSeconds", "value": 5},
           {"op": "replace", "path": f"{base}/failureThreshold", "value": 6}]
    return Fix("Make the liveness probe tolerate slow answers under load (or probe only that the process lives); "
               "add a startupProbe if the app starts slowly.",
               (f"kubectl -n {ns} patch {g.ref} --type=json -p '{json.dumps(ops)}'", logs),
               "livenessProbe:\n  timeoutSeconds: 5\n  failureThreshold: 6\n")
