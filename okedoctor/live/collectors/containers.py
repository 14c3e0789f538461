"""What runs in the pods: container logs and the in-pod HTTP probe (exec), with their follow-ups."""

from __future__ import annotations

import time
from dataclasses import replace

from okedoctor.facts import LIVE_CONTAINERS, LIVE_PROBE
from okedoctor.kube import listening_ports, pod_ready
from okedoctor.live.collectors.state import RunState
from okedoctor.live.kube import rbac_reason
from okedoctor.live.kube_reads import BadRequest, Forbidden, Gone, KubeReads, Unreachable
from okedoctor.live.probe import (
    APP_WAIT,
    SHELL,
    Probed,
    ProbeTarget,
    answered_like_tls,
    argv_for,
    parse_probe,
    probe_targets,
    tool_timeout,
)
from okedoctor.live.redact import redact
from okedoctor.live.shapes import init_needs_logs, needs_logs
from okedoctor.probe_scripts import FOUND_MARK, split_found, tools_for

MAX_PROBED_PODS = 20
MAX_LOG_PORTS = 3  # ports named by a log, probed after the target port was refused
# A fleet report probes one ready pod per Service and reads the logs of one pod per workload and
# container: the replicas of a workload run the same image, and 5,000 execs would dominate the run.
FLEET_PROBED_PODS = 1


class ContainerCollector:
    def __init__(self, state: RunState, reads: KubeReads):
        self.s, self.k, self.engine = state, reads, state.engine

    def _key(self, pod: str, container: str) -> str:
        return f"{self.s.target.namespace}/{pod}/{container}"

    def start(self, svc: dict, pods: list[dict]) -> None:
        """Logs of the containers that need them, and the probe of the running ones (depth 3+)."""
        logged: set[tuple[str, str]] = set()  # (workload, container) whose logs a fleet run reads once
        for pod in pods:
            for c in (pod.get("spec") or {}).get("containers") or []:
                self.s.containers[self._key(pod["metadata"]["name"], c["name"])] = {}
            self._logs(pod, logged)
            self._init_logs(pod, logged)
        if self.s.opts.no_exec:
            self.s.note(LIVE_PROBE, "disabled", "--no-exec: the in-pod probe was not run")
            return
        for pod in self._to_probe(pods):
            self.engine.submit(LIVE_PROBE, self._probe_pod, svc, pod)

    def _to_probe(self, pods: list[dict]) -> list[dict]:
        """The pods the in-pod probe runs in. A pod left out has no `localhost` answer, so no check
        claims anything of it (neither ok nor failing)."""
        key = f"{self.s.target.namespace}/{self.s.target.service}"
        if not self.s.fleet or key in self.s.opts.probe_all_pods_of:
            return pods[:MAX_PROBED_PODS]
        ready = [p for p in pods if pod_ready(p)]
        return (ready or pods)[:FLEET_PROBED_PODS]

    def _first_of_workload(self, pod: dict, container: str, logged: set[tuple[str, str]]) -> bool:
        """In a fleet run, true for the first pod of its workload seen with this container's logs needed."""
        if not self.s.fleet:
            return True
        owners = pod["metadata"].get("ownerReferences") or []
        key = (owners[0].get("uid", "") if owners else pod["metadata"]["name"], container)
        if key in logged:
            return False
        logged.add(key)
        return True

    # ---- logs ---------------------------------------------------------------------------
    def _logs(self, pod: dict, logged: set[tuple[str, str]]) -> None:
        name = pod["metadata"]["name"]
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        for c in (pod.get("spec") or {}).get("containers") or []:
            st = statuses.get(c["name"])
            if not st or not needs_logs(st) or not self._first_of_workload(pod, c["name"], logged):
                continue
            key = self._key(name, c["name"])
            self.engine.once(("log", key, False), LIVE_CONTAINERS, self._log, key, name, c["name"], False)
            if st.get("restartCount", 0) > 0 or (st.get("lastState") or {}).get("terminated"):
                self.engine.once(("log", key, True), LIVE_CONTAINERS, self._log, key, name, c["name"], True)

    def _init_logs(self, pod: dict, logged: set[tuple[str, str]]) -> None:
        """Logs (current and previous) of the init containers that failed or are still running; the
        pod's app containers wait for them. Init containers are never exec-probed."""
        name = pod["metadata"]["name"]
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("initContainerStatuses") or []}
        for c in (pod.get("spec") or {}).get("initContainers") or []:
            st = statuses.get(c["name"])
            if c.get("restartPolicy") == "Always" or not st or not init_needs_logs(st) \
                    or not self._first_of_workload(pod, c["name"], logged):
                continue
            key = self._key(name, c["name"])
            self.s.containers[key] = {}
            self.engine.once(("log", key, False), LIVE_CONTAINERS, self._log, key, name, c["name"], False)
            if st.get("restartCount", 0) > 0 or (st.get("lastState") or {}).get("terminated"):
                self.engine.once(("log", key, True), LIVE_CONTAINERS, self._log, key, name, c["name"], True)

    def _log(self, key: str, pod: str, container: str, previous: bool, depth: int = 3) -> None:
        ns = self.s.target.namespace
        try:
            text = self.k.log(ns, pod, container, previous, depth=depth)
        except Forbidden:
            self.s.note(LIVE_CONTAINERS, "denied", rbac_reason("pods/log", ns, "container logs"))
            return
        except (Gone, BadRequest):
            return  # no previous instance, or still waiting to start: nothing to read
        except Unreachable as exc:
            self.s.note(LIVE_CONTAINERS, "unavailable", f"reading logs failed: {exc}")
            return
        with self.s.lock:
            self.s.container(key)["previousLogs" if previous else "logs"] = redact(text)

    # ---- the probe ----------------------------------------------------------------------
    def _probe_pod(self, svc: dict, pod: dict) -> None:
        """Probe each Service port's target in the pod; the first probe of a container finds its tool."""
        if (pod.get("status") or {}).get("phase") != "Running":
            return
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        found: dict[str, tuple[str, int] | None] = {}
        for pt in probe_targets(pod, svc):
            st = statuses.get(pt.container)
            if not st or not (st.get("state") or {}).get("running"):
                continue
            if pt.container not in found:
                found[pt.container] = self._probe_first(pod, pt)
            elif found[pt.container]:
                tool, depth = found[pt.container]
                self.engine.submit(LIVE_PROBE, self._probe_with, pod, pt, tool, depth + 1)

    def _probe_first(self, pod: dict, pt: ProbeTarget) -> tuple[str, int] | None:
        """Find the container's tool and probe with it; record its answer; return (tool, depth).

        One exec of PROBE_SH does both. An image without sh (distroless) gets each tool alone,
        side by side, one round trip later."""
        key = self._key(pod["metadata"]["name"], pt.container)
        depth = 3
        try:
            got = self._exec_probe(pod, pt, SHELL, depth)
        except (Forbidden, Unreachable):
            return None
        if got.tool == SHELL and got.res is not None and got.res.missing_tool:  # the script did not run: no sh
            depth += 1
            got = self._probe_each(pod, pt, depth)
        if got is None or not got.tool:
            with self.s.lock:
                entry = self.s.container(key)
                entry["tools"], entry["toolsMissing"] = [], got.missing if got else []
            return None
        answer = self._tls_again(pod, pt, got.tool, depth, got.answer)
        with self.s.lock:
            entry = self.s.container(key)
            entry["tools"], entry["toolsMissing"] = [got.tool], got.missing
            entry.setdefault("localhost", {})[str(pt.port)] = answer
        self._follow_up(pod, pt, got.tool, depth, answer)
        return got.tool, depth

    def _probe_each(self, pod: dict, pt: ProbeTarget, depth: int) -> Probed | None:
        """Each tool alone, side by side: the first in TOOL_ORDER the image has answers.
        None when the exec was refused or failed (noted)."""
        tools = tools_for(pt.tls)
        futs = [self.engine.submit(LIVE_PROBE, self._try_exec, pod, pt, tool, depth) for tool in tools]
        missing: list[str] = []
        for tool, fut in zip(tools, futs, strict=True):
            got = self.engine.result(fut)
            if got is None:
                return None
            if got.res is not None and not got.res.missing_tool:
                return replace(got, missing=missing)
            missing.append(tool)
        return Probed(None, {}, "", missing)

    def _try_exec(self, pod: dict, pt: ProbeTarget, tool: str, depth: int) -> Probed | None:
        try:
            return self._exec_probe(pod, pt, tool, depth)
        except (Forbidden, Unreachable):
            return None

    def _probe_with(self, pod: dict, pt: ProbeTarget, tool: str, depth: int, follow: bool = True) -> None:
        key = self._key(pod["metadata"]["name"], pt.container)
        if pt.tls and tool == "bash":
            return  # /dev/tcp speaks no TLS: better no answer than a reset by design
        try:
            answer = self._exec_probe(pod, pt, tool, depth).answer
            answer = self._tls_again(pod, pt, tool, depth, answer)
        except (Forbidden, Unreachable):
            return
        with self.s.lock:
            self.s.container(key).setdefault("localhost", {})[str(pt.port)] = answer
        if follow:
            self._follow_up(pod, pt, tool, depth, answer)

    def _tls_again(self, pod: dict, pt: ProbeTarget, tool: str, depth: int, answer: dict) -> dict:
        """A plain probe answered the way a TLS port does (reset, TLS alert, "HTTP request to an
        HTTPS server"): probe again with TLS; its answer stands, with what plain HTTP got."""
        if pt.tls or tool == "bash" or not answered_like_tls(answer):
            return answer
        try:
            again = self._exec_probe(pod, replace(pt, tls=True), tool, depth + 1).answer
        except (Forbidden, Unreachable):
            return answer
        if "status" not in again:
            return answer
        plain = {k: v for k, v in answer.items() if k in ("status", "body", "error")}
        return {**again, "plainHttp": plain}

    def _follow_up(self, pod: dict, pt: ProbeTarget, tool: str, depth: int, answer: dict) -> None:
        """The app failed to answer (5xx, refused, timeout, reset): read the container's log, which the
        checks quote; when the port was refused, probe the ports the log says the app listens on."""
        if answer.get("error") not in ("refused", "timeout", "reset") and int(answer.get("status") or 0) < 500:
            return
        name = pod["metadata"]["name"]
        key = self._key(name, pt.container)
        fut = self.engine.once(("log", key, False), LIVE_CONTAINERS, self._log, key, name, pt.container, False,
                               depth + 1)
        if answer.get("error") != "refused":
            return
        self.engine.result(fut)
        with self.s.lock:
            entry = self.s.containers.get(key) or {}
            probed = set(entry.get("localhost") or {})
            ports = [p for p in listening_ports(entry.get("logs")) if str(p) not in probed][:MAX_LOG_PORTS]
        for port in ports:
            self.engine.submit(LIVE_PROBE, self._probe_with, pod, ProbeTarget(pt.container, port, "/"), tool,
                               depth + 2, False)

    def _exec_probe(self, pod: dict, pt: ProbeTarget, tool: str, depth: int) -> Probed:
        """One exec of one tool (or of PROBE_SH, tool SHELL): what it printed, parsed; denials and
        failures are noted and raised."""
        ns = self.s.target.namespace
        key = self._key(pod["metadata"]["name"], pt.container)
        # The app gets APP_WAIT once the tool runs: PROBE_SH says so on stderr (FOUND_MARK) just
        # before it execs the tool, so a slow exec start (a loaded node) does not count against
        # the app. A tool exec'd alone (no sh) says nothing first: its own timeout (whole seconds)
        # ends it. The wait for the exec as a whole is bounded by the deadline.
        wait = max(0.1, min(APP_WAIT, self.engine.remaining() - 0.5))
        own = tool_timeout(wait)
        whole = max(1.0, min(5.0, self.engine.remaining() - 0.5)) + 1 if tool == SHELL else own + 1
        started = time.perf_counter()
        try:
            res = self.k.exec(ns, pod["metadata"]["name"], pt.container,
                              argv_for(tool, pt.port, pt.path, own, pt.tls), whole, depth,
                              (FOUND_MARK, wait) if tool == SHELL else None)
        except Forbidden:
            self.s.note(LIVE_PROBE, "denied", rbac_reason("pods/exec", ns, "pods/exec"))
            raise
        except Unreachable as exc:
            self.s.note(LIVE_PROBE, "unavailable", f"exec into {key} failed: {exc}")
            raise
        found, missing = tool, []
        if tool == SHELL:
            ran, missing, rest = split_found(res.stderr)
            res = replace(res, stderr=rest)
            # No line from the script: sh itself failed (or is missing); its error is the answer.
            found = SHELL if ran is None else ran
        answer = parse_probe(found, res) if found else {}
        answer.update(tool=found, path=pt.path, elapsedMs=int((time.perf_counter() - started) * 1000))
        if pt.tls:
            answer["tls"] = True
        return Probed(res, answer, found, missing)
