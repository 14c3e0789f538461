"""The in-pod probe: GET http://localhost:<port><path> inside a container over exec.

The argv forms are `okedoctor.probe_scripts` (shared with the simulator); this module picks
what to probe, runs the tools in TOOL_ORDER until one exists, and parses what it printed.
Nothing from the cluster is pasted into a script: port and path travel as argv elements.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from okedoctor import probe_scripts as ps
from okedoctor.kube import tls_port_reason
from okedoctor.live.redact import redact

_ERRORS = {ps.EXIT_REFUSED: "refused", ps.EXIT_TIMEOUT: "timeout", ps.EXIT_RESET: "reset",
           52: "reset"}  # curl 52: empty reply, the server closed the connection
_MISSING = re.compile(r"executable file not found|no such file or directory|command not found|not found in \$PATH|"
                      r": not found", re.I)
_WGET_STATUS = re.compile(r"^[ \t]*HTTP/\d(?:\.\d)?\s+(\d{3})", re.M)


@dataclass(frozen=True)
class ProbeTarget:
    container: str
    port: int
    path: str
    tls: bool = False  # the port speaks TLS (kube.tls_port_reason): probed at https://, unverified


# What a TLS port answers a plain-HTTP request: a reset or an empty reply (Envoy), a TLS alert
# that curl reads as HTTP/0.9, or a 400 saying so (Go's net/http, nginx).
_PLAIN_TO_TLS = re.compile(r"HTTP/0\.9|BadStatusLine|sent an HTTP request to an HTTPS server|"
                           r"plain HTTP request was sent to HTTPS port|wrong version number", re.I)


def answered_like_tls(answer: dict[str, Any]) -> bool:
    """A plain-HTTP probe's answer that says the port speaks TLS: worth probing again with TLS."""
    if answer.get("error") == "reset":
        return True
    text = str(answer.get("error") or "") + " " + str(answer.get("body") or "")
    return bool(_PLAIN_TO_TLS.search(text)) and (answer.get("status") in (None, 400))


# How long the in-pod probe waits for the app to answer, from the moment the exec's stream is
# open: what has not answered by then is recorded as `error: timeout` with its elapsedMs. The GET
# goes to localhost, so no network is in the way; an app answers its readiness path or `/` in
# milliseconds, and one that needs half a second is failing its readiness probe's default 1 s
# timeout whenever it is a little slower. Waiting longer would make every diagnosis of a hung
# app slower by as much (tests/live/test_app_wait.py; docs/live-diagnosis.md "Speed").
APP_WAIT = 0.5


def tool_timeout(wait: float) -> int:
    """The tool's own timeout (curl -m, wget -T, ...) for a probe cut after `wait` seconds: whole
    seconds, since busybox wget takes no fraction, and never under 1. It only ends the tool in the
    pod soon after okedoctor stopped waiting for it; the cut itself is okedoctor's (`ExecResult.cut`)."""
    return max(1, int(wait + 0.999))


@dataclass
class ExecResult:
    stdout: str
    stderr: str
    status: dict[str, Any] | None  # the Status the API server sent on the error channel
    # The command was still running when okedoctor stopped waiting (no status, stream still open):
    # stdout/stderr hold what it had printed so far.
    cut: bool = False

    @property
    def missing_tool(self) -> bool:
        """The runtime could not start the command: the image lacks this tool."""
        text = (self.status or {}).get("message", "") + "\n" + self.stderr
        code = self.exit_code
        # 127 is the shell's "command not found"; a runtime that cannot start it sends no code.
        return code == 127 or (bool(_MISSING.search(text)) and code in (None, 126))

    @property
    def exit_code(self) -> int | None:
        st = self.status
        if not st or st.get("status") == "Success":
            return 0
        for cause in (st.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                try:
                    return int(cause.get("message"))
                except (TypeError, ValueError):
                    return None
        return None


def parse_status_channel(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError:
        try:
            doc = json.loads(raw)
        except ValueError:
            return {"status": "Failure", "message": raw}
    return doc if isinstance(doc, dict) else {"status": "Failure", "message": str(doc)}


# The "tool" that is PROBE_SH: sh finds the first tool itself, in one exec.
SHELL = "sh"


@dataclass(frozen=True)
class Probed:
    """One probe exec: what came back, its parsed answer, the tool that answered ("" when the
    image has none) and the tools found missing before it."""

    res: ExecResult | None
    answer: dict[str, Any]
    tool: str
    missing: list[str]


def argv_for(tool: str, port: int, path: str, timeout: int, tls: bool = False) -> list[str]:
    url = f"{'https' if tls else 'http'}://localhost:{port}{path}"
    if tool == SHELL:
        return ps.probe_sh_argv(port, path, timeout, tls)
    if tool == "curl":
        return ps.curl_argv(url, timeout)
    if tool == "wget":
        return ps.wget_argv(url, timeout)
    if tool == "python3":
        return ps.python_argv(url, timeout)
    if tool == "bash" and not tls:
        return ps.bash_argv("localhost", port, path, timeout)
    raise ValueError(tool)


def _body_then_status(stdout: str) -> tuple[int | None, str]:
    """curl/python3/bash print the body, a newline, then the status code on the last line."""
    text = stdout.rstrip("\n")
    body, _, last = text.rpartition("\n")
    try:
        return int(last.strip()), body
    except ValueError:
        return None, stdout


def parse_probe(tool: str, res: ExecResult) -> dict[str, Any]:
    """{status, body} or {error: refused|timeout|reset|<text>} from one tool's output."""
    if res.cut:
        return {"error": "timeout"}
    code = res.exit_code
    if tool == "wget":
        statuses = _WGET_STATUS.findall(res.stderr)
        if statuses:
            return _answer(int(statuses[-1]), res.stdout)
        low = res.stderr.lower()
        for needle, err in (("refused", "refused"), ("timed out", "timeout"), ("reset", "reset")):
            if needle in low:
                return {"error": err}
        return {"error": _short(res.stderr or (res.status or {}).get("message") or f"wget exit {code}")}
    if code in _ERRORS:
        return {"error": _ERRORS[code]}
    status, body = _body_then_status(res.stdout)
    if code == 0 and status:
        return _answer(status, body)
    detail = res.stderr or (res.status or {}).get("message") or f"exit {code}"
    return {"error": _short(detail)}


def _answer(status: int, body: str) -> dict[str, Any]:
    return {"status": status, "body": redact(body[: ps.BODY_LIMIT])}


def _short(text: str) -> str:
    return redact(text.strip().splitlines()[0][:200]) if text.strip() else "error"


def probe_targets(pod: dict[str, Any], service: dict[str, Any]) -> list[ProbeTarget]:
    """What to probe for each of the Service's ports, each (container, port) once, in port order."""
    out: list[ProbeTarget] = []
    for sp in (service.get("spec") or {}).get("ports") or []:
        pt = _probe_target_for(pod, sp)
        if pt and all((pt.container, pt.port) != (o.container, o.port) for o in out):
            out.append(pt)
    return out


def probe_target(pod: dict[str, Any], service: dict[str, Any]) -> ProbeTarget | None:
    """Which container, port and path to probe for the Service's first port."""
    ports = (service.get("spec") or {}).get("ports") or []
    return _probe_target_for(pod, ports[0]) if ports else None


def _probe_target_for(pod: dict[str, Any], service_port: dict[str, Any]) -> ProbeTarget | None:
    containers = (pod.get("spec") or {}).get("containers") or []
    if not containers:
        return None
    target = service_port.get("targetPort", service_port.get("port"))
    for c in containers:
        for cp in c.get("ports") or []:
            if target in (cp.get("containerPort"), cp.get("name")):
                port = int(cp["containerPort"])
                return ProbeTarget(c["name"], port, _path(c, cp), _tls(service_port, pod, port))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        port = int(target)
        return ProbeTarget(containers[0]["name"], port, _path(containers[0], {"containerPort": port}),
                           _tls(service_port, pod, port))
    return None  # a named port no container declares: the pod check reports it


def _tls(service_port: dict[str, Any], pod: dict[str, Any], port: int) -> bool:
    return tls_port_reason(service_port, pod, port) is not None


def _path(container: dict[str, Any], cport: dict[str, Any]) -> str:
    """The readiness probe's path when it probes this port over HTTP, else /."""
    get = ((container.get("readinessProbe") or {}).get("httpGet")) or {}
    port = get.get("port")
    if get and port in (cport.get("containerPort"), cport.get("name")):
        path = get.get("path") or "/"
        return path if path.startswith("/") else "/" + path
    return "/"
