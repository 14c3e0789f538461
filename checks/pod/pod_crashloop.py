"""OKD-POD-006: a container of the Service's pods keeps crashing."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.containers import Group, containers_where
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import (
    LogHint,
    dependency_commands,
    event_message,
    events_with_reason,
    last_terminated,
    log_hints,
    tail,
)
from okedoctor.model import Finding, Fix, Hop, Severity

EXIT_MEANING = {
    1: "the app exited with an error",
    2: "the app rejected its command line or configuration",
    126: "the command is not executable (permissions, wrong architecture)",
    127: "the command was not found in the image",
    134: "the app aborted (SIGABRT)",
    137: "killed with SIGKILL (a failed liveness probe, or memory)",
    139: "segmentation fault (SIGSEGV)",
    143: "stopped with SIGTERM (a failed liveness probe or a shutdown)",
    255: "the runtime could not start the command (architecture, entrypoint) or the app exited with -1",
}


class PodCrashLoop(Check):
    """A container of the Service's pods keeps crashing (CrashLoopBackOff).

    What it checks
        Containers waiting in CrashLoopBackOff, or restarted after a non-zero exit and not
        ready. It reads the last termination (exit code, reason, time), the previous
        instance's log tail, and says in plain words the startup failures it recognises there:
        a missing or empty environment variable, a refused connection to a dependency
        (host:port), an unresolvable host, address already in use, permission denied, a missing
        file. Liveness-probe kills (Unhealthy events) are named too. Quoted lines are redacted.

    Why it breaks
        A crashing container is never Ready, so the pod is not an endpoint of the Service. When
        every replica crashes the Service has no endpoint and every connection through the load
        balancer is refused.

    How to fix
        Fix what the log says (the finding gives the command for the case it recognised, e.g.
        `kubectl set env` for a missing variable), and read the full previous log with
        `kubectl logs POD -c CONTAINER --previous`.
    """

    code = "OKD-POD-006"
    name = "pod-crashloop"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        severity = Severity.WARNING if _causes.service_serving(facts) else Severity.ERROR
        for g in containers_where(facts, lambda pod, st: _causes.is_crashloop(st)):
            yield self._finding(facts, g, severity)

    def _finding(self, facts: Facts, g: Group, severity: Severity) -> Finding:
        pod, status = g.first
        ns, cname = pod["metadata"].get("namespace", ""), g.container.get("name", "")
        term = last_terminated(status)
        exit_code = term.get("exitCode")
        live = facts.container_live(ns, pod["metadata"]["name"], cname)
        logs = (live or {}).get("previousLogs") or (live or {}).get("logs")
        hints = log_hints(logs)
        liveness = [event_message(e) for e in events_with_reason(facts.events_for(pod), "Unhealthy")
                    if "Liveness" in event_message(e)]
        evidence: dict = {
            "pods": g.pod_names, "container": cname, "image": g.container.get("image"),
            "restartCount": max(int(s.get("restartCount") or 0) for s in g.statuses),
            "lastExitCode": exit_code, "lastReason": term.get("reason"), "finishedAt": term.get("finishedAt"),
        }
        if exit_code in EXIT_MEANING:
            evidence["exitCodeMeans"] = EXIT_MEANING[int(exit_code)]
        if live is None:
            evidence["logs"] = "not observed (run with live access to read the previous log)"
        else:
            evidence["previousLogTail"] = tail(logs, 10)
        if hints:
            evidence["recognised"] = [h.plain for h in hints]
        if liveness:
            evidence["livenessProbe"] = liveness[-1]
        why = hints[0].plain if hints else (
            "liveness probe kills it" if liveness else EXIT_MEANING.get(int(exit_code or 0), "see the previous log"))
        cause = _causes.ENV_FILE if _causes.env_file_mismatches(facts, pod) else None
        return self.finding(
            f"Container {cname} of {g.ref} is crash-looping (exit code {exit_code}, "
            f"{evidence['restartCount']} restarts): {why}",
            subject=f"{g.ref.replace('/', f'/{ns}/', 1)}/{cname}",
            evidence=evidence,
            fix=_fix(facts, ns, g.ref, pod, cname, hints),
            severity=severity,
            caused_by=cause,
        )


def _fix(facts: Facts, ns: str, ref: str, pod: Obj, cname: str, hints: list[LogHint]) -> Fix:
    logs = f"kubectl -n {ns} logs {pod['metadata']['name']} -c {cname} --previous --tail=50"
    for h in hints:
        if h.kind == "exec-format":
            node = facts.node((pod.get("spec") or {}).get("nodeName")) or {}
            arch = ((node.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/arch", "unknown")
            other = "amd64" if arch == "arm64" else "arm64"
            patch = {"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/arch": other}}}}}
            return Fix(f"The node is {arch}: build the image for {arch} too (docker buildx --platform "
                       f"linux/amd64,linux/arm64), or pin the pods to nodes of the image's architecture.",
                       (f"docker buildx build --platform linux/amd64,linux/arm64 -t {shlex.quote(_image(pod, cname))} "
                        "--push .",
                        f"kubectl -n {ns} patch {ref} -p '{json.dumps(patch)}'", logs))
        if h.kind == "missing-env":
            var = h.detail["variable"]
            holders = sorted(s["metadata"]["name"] for s in facts.objects("Secret", ns)
                             if var in (s.get("data") or {}) or var in (s.get("stringData") or {}))
            secret = holders[0] if holders else _new_secret_name(facts, ns, ref, var)
            cmds = [] if holders else [f"kubectl -n {ns} create secret generic {secret} --from-literal={var}='<value>'"]
            cmds.append(f"kubectl -n {ns} set env {ref} -c {cname} --from=secret/{secret} --keys={var}")
            return Fix(f"Give the container the environment variable {var} (from a Secret when it is a credential).",
                       (*cmds, logs),
                       f"env:\n- name: {var}\n  valueFrom:\n    secretKeyRef:\n"
                       f"      name: {secret}\n      key: {var}\n")
        if h.kind in ("refused", "dns"):
            target = h.detail.get("dependency") or h.detail.get("host") or ""
            return Fix(f"Make the dependency reachable ({target}): check its Service has ready endpoints and the "
                       "app's configured host and port are right.",
                       (*dependency_commands(ns, target), logs))
    return Fix("Read the previous container's log and fix the startup failure it shows.",
               (logs, f"kubectl -n {ns} describe pod {pod['metadata']['name']}"))


def _new_secret_name(facts: Facts, ns: str, ref: str, var: str) -> str:
    """A Secret name that does not clobber an existing one."""
    base = ref.split("/")[-1]
    for candidate in (f"{base}-env", f"{base}-{var.lower().replace('_', '-')}"):
        if not facts.secret(ns, candidate):
            return candidate
    return f"{base}-{var.lower().replace('_', '-')}-2"


def _image(pod: Obj, cname: str) -> str:
    return next((c.get("image") or "" for c in (pod.get("spec") or {}).get("containers") or []
                 if c.get("name") == cname), "")
