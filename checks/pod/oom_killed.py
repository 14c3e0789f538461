"""OKD-POD-009: a container was killed for exceeding its memory limit."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.containers import Group, containers_where
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import fmt_memory, last_terminated, log_hints, memory_bytes, node_allocatable
from okedoctor.model import Finding, Fix, Hop, Severity


class OOMKilled(Check):
    """A container was OOMKilled: it reached its memory limit and the kernel killed it.

    What it checks
        Containers of the Service's pods whose last (or current) termination reason is
        OOMKilled (exit code 137). It shows the memory limit and request (the usage at the kill
        was the limit), the node's allocatable memory, the restart count, and whether the log
        shows the runtime's own out-of-memory error (a heap limit below the container limit).

    Why it breaks
        The kernel's OOM killer ends the container the moment its memory use reaches
        `resources.limits.memory`. It restarts, crashes again under load, and is out of the
        endpoints while it restarts; with every replica doing so the Service goes dark.

    How to fix
        Raise the memory limit (and the request, so the scheduler reserves it) above the app's
        peak, or make the app use less (for the JVM, -XX:MaxRAMPercentage=75 follows the
        limit). `kubectl top pod` shows live usage when metrics-server is installed.
    """

    code = "OKD-POD-009"
    name = "oom-killed"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        serving = _causes.service_serving(facts)
        for g in containers_where(facts, lambda pod, st: _causes.is_oom(st)):
            down = any(not s.get("ready") for s in g.statuses)
            yield self._finding(facts, g, Severity.ERROR if down and not serving else Severity.WARNING)

    def _finding(self, facts: Facts, g: Group, severity: Severity) -> Finding:
        pod, status = g.first
        ns, cname = pod["metadata"].get("namespace", ""), g.container.get("name", "")
        res = g.container.get("resources") or {}
        limit = memory_bytes((res.get("limits") or {}).get("memory"))
        request = memory_bytes((res.get("requests") or {}).get("memory"))
        term = last_terminated(status)
        node = facts.node((pod.get("spec") or {}).get("nodeName"))
        evidence: dict = {
            "pods": g.pod_names, "container": cname, "reason": "OOMKilled", "exitCode": term.get("exitCode", 137),
            "finishedAt": term.get("finishedAt"),
            "restartCount": max(int(s.get("restartCount") or 0) for s in g.statuses),
            "memoryLimit": fmt_memory(limit) if limit else "none (killed by node memory pressure)",
            "memoryRequest": fmt_memory(request) if request else "none",
            "usageAtKill": f">= {fmt_memory(limit)} (the limit)" if limit else "unknown",
        }
        if node:
            evidence["nodeAllocatableMemory"] = fmt_memory(node_allocatable(node).memory)
        live = facts.container_live(ns, pod["metadata"]["name"], cname) or {}
        if any(h.kind == "oom" for h in log_hints(live.get("previousLogs") or live.get("logs"))):
            evidence["runtimeOutOfMemory"] = "the log shows the runtime's own out-of-memory error (heap limit)"
        new_limit = fmt_memory(max(limit * 2, 256 * 2**20)) if limit else "1Gi"
        new_req = fmt_memory(max(request, limit)) if limit else "512Mi"
        return self.finding(
            f"Container {cname} of {g.ref} was OOMKilled at its memory limit {evidence['memoryLimit']} "
            f"({evidence['restartCount']} restarts)",
            subject=f"{g.ref.replace('/', f'/{ns}/', 1)}/{cname}",
            evidence=evidence,
            fix=Fix(f"Raise the memory limit above the app's peak (here {new_limit}) and the request with it, or "
                    "reduce the app's memory use.",
                    (f"kubectl -n {ns} set resources {g.ref} -c {cname} --limits=memory={new_limit} "
                     f"--requests=memory={new_req}",
                     f"kubectl -n {ns} top pod --containers"),
                    f"resources:\n  requests:\n    memory: {new_req}\n  limits:\n    memory: {new_limit}\n"),
            severity=severity,
        )
