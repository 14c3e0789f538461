"""The pod subresources of the simulated API server: pods/log and pods/exec (WebSocket).

Logs and exec answers come from the file's `live.containers["ns/pod/container"]`; the checks
before them (which container, is it running, is there a previous one) are the API server's and
the kubelet's, with their messages.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

from okedoctor.sim import shell, websocket
from okedoctor.sim.kubestore import namespace_of

EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


class PodSubresources:
    """Mixed into the Kubernetes handler: needs its status(), reply(), record() and app."""

    # ---- pods/log --------------------------------------------------------------------------

    def pick_container(self, pod: dict[str, Any], query: dict[str, list[str]]) -> str | None:
        """The container the request names; None after answering 400 when it names none or a bad one."""
        spec = pod.get("spec") or {}
        name = pod["metadata"]["name"]
        main = [c["name"] for c in spec.get("containers") or []]
        others = [c["name"] for c in (spec.get("initContainers") or []) + (spec.get("ephemeralContainers") or [])]
        container = query_value(query, "container")
        if not container:
            if len(main) == 1:
                return main[0]
            msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(main)}]"
            if spec.get("initContainers"):
                init = " ".join(c["name"] for c in spec["initContainers"])
                msg += f" or one of the init containers: [{init}]"
            self.status(400, msg)
            return None
        if container not in main + others:
            self.status(400, f"container {container} is not valid for pod {name}")
            return None
        return container

    def pod_log(self, pod: dict[str, Any], query: dict[str, list[str]]) -> None:
        container = self.pick_container(pod, query)
        if container is None:
            return
        text = self.log_text(pod, container, query_flag(query, "previous"))
        if text is None:
            return
        data = self.log_window(text, query)
        if data is not None:
            self.reply(200, data, "text/plain")

    def log_text(self, pod: dict[str, Any], container: str, previous: bool) -> str | None:
        """The whole log the file holds; None after answering the error the kubelet would give."""
        name = pod["metadata"]["name"]
        key = f"{namespace_of(pod)}/{name}/{container}"
        live = self.app.containers.get(key) or {}
        cstatus = _container_status(pod, container)
        last_terminated = (cstatus.get("lastState") or {}).get("terminated")
        wanted = "previousLogs" if previous else "logs"
        if wanted in live:
            return str(live.get(wanted) or "")
        if previous and not last_terminated:
            self.status(400, f'previous terminated container "{container}" in pod "{name}" not found')
            return None
        waiting = (cstatus.get("state") or {}).get("waiting")
        if not previous and waiting and not last_terminated and not cstatus.get("restartCount"):
            self.status(400, f'container "{container}" in pod "{name}" is waiting to start: '
                             f'{waiting.get("reason") or "ContainerCreating"}')
            return None
        # The container has (had) a log, but the snapshot did not record it: say so, do not invent one.
        self.status(500, f"okedoctor sim: the file holds no {wanted} for {key} "
                         "(not observed when the snapshot was taken)", "InternalError")
        return None

    def log_window(self, text: str, query: dict[str, list[str]]) -> bytes | None:
        """tailLines, then limitBytes, as the kubelet applies them; None after a 400."""
        tail, limit = query_value(query, "tailLines"), query_value(query, "limitBytes")
        for param, value, least in (("tailLines", tail, 0), ("limitBytes", limit, 1)):
            if value and not value.lstrip("-").isdigit():
                self.status(400, f'{param}: Invalid value: "{value}": must be an integer')
                return None
            if value and int(value) < least:
                rule = "greater than or equal to 0" if least == 0 else "greater than 0"
                self.status(422, f"PodLogOptions \"\" is invalid: {param}: Invalid value: {value}: must be {rule}",
                            "Invalid")
                return None
        if tail:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail):]) if int(tail) > 0 else ""
        data = text.encode()
        return data[:int(limit)] if limit else data

    # ---- pods/exec over WebSocket ------------------------------------------------------------

    def exec_target(self, pod: dict[str, Any], query: dict[str, list[str]]) -> str | None:
        """The container to exec in; None after answering as the API server and kubelet do."""
        container = self.pick_container(pod, query)
        if container is None:
            return None
        state = _container_status(pod, container).get("state") or {}
        if "running" not in state:
            # The kubelet finds only running containers; its error reaches the client as text.
            self.reply(500, f'container not found ("{container}")'.encode(), "text/plain; charset=utf-8")
            return None
        return container

    def spdy_exec(self, pod: dict[str, Any]) -> None:
        """kubectl's fallback after a failed WebSocket upgrade: same checks, then a clear refusal."""
        query = parse_qs(self.url_query, keep_blank_values=True)
        if self.exec_target(pod, query) is not None:
            self.status(400, "okedoctor sim: exec over SPDY is not served; the simulator speaks WebSocket "
                             f"({', '.join(EXEC_PROTOCOLS)}), which kubectl 1.31+ and the kubernetes client use")

    def pod_exec(self, pod: dict[str, Any], query: dict[str, list[str]]) -> None:
        if self.headers.get("Upgrade", "").lower() != "websocket":
            self.status(400, "Upgrade request required")
            return
        offered = [p.strip() for p in self.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        protocol = next((p for p in EXEC_PROTOCOLS if p in offered), None)
        if protocol is None:
            self.status(400, f"okedoctor sim: no supported exec sub-protocol among {offered}; "
                             f"the simulator speaks {', '.join(EXEC_PROTOCOLS)}")
            return
        container = self.exec_target(pod, query)
        if container is None:
            return
        argv = query.get("command", [])
        key = f"{namespace_of(pod)}/{pod['metadata']['name']}/{container}"
        live = self.app.containers.get(key)
        if live is None:
            result = shell.ExecResult(runtime_error=f"okedoctor sim: the file has no live.containers entry "
                                                    f"for {key}: what runs there was not observed")
        else:
            result = shell.run_command(argv, live)
        self.record(101, protocol=protocol, exit=None if result.runtime_error else result.exit_code)
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", websocket.accept_key(self.headers.get("Sec-WebSocket-Key", "")))
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        self.close_connection = True
        out = self.wfile
        # With a TTY there is no separate stderr: the terminal shows both on one stream.
        channel = b"\x01" if query_flag(query, "tty") else b"\x02"
        stderr = result.stderr
        if result.early_stderr and stderr.startswith(result.early_stderr):
            websocket.write_frame(out, websocket.OP_BINARY, channel + result.early_stderr.encode())
            stderr = stderr[len(result.early_stderr):]
        if result.delay:
            time.sleep(result.delay)
        if result.stdout:
            websocket.write_frame(out, websocket.OP_BINARY, b"\x01" + result.stdout.encode())
        if stderr:
            websocket.write_frame(out, websocket.OP_BINARY, channel + stderr.encode())
        status = _exit_status(argv, result)
        websocket.write_frame(out, websocket.OP_BINARY, b"\x03" + json.dumps(status).encode())
        websocket.write_frame(out, websocket.OP_CLOSE, websocket.close_payload(1000))
        self.await_close()

    def await_close(self) -> None:
        """Read what the client still sends (stdin, v5 [0xFF, n] channel closes) until its close frame."""
        try:
            self.connection.settimeout(2.0)
            while True:
                frame = websocket.read_frame(self.rfile)
                if frame is None or frame[0] == websocket.OP_CLOSE:
                    return
        except (TimeoutError, OSError, ValueError):
            return


def _exit_status(argv: list[str], result: shell.ExecResult) -> dict[str, Any]:
    if result.runtime_error:
        cause = f"error executing command in container: {result.runtime_error}"
        return {"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {cause}",
                "reason": "InternalError", "details": {"causes": [{"message": cause}]}, "code": 500}
    if result.exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(argv)}], exit code {result.exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(result.exit_code)}]}}


def _container_status(pod: dict[str, Any], container: str) -> dict[str, Any]:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                return cs
    return {}


def query_value(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[-1] if values else ""


def query_flag(query: dict[str, list[str]], key: str) -> bool:
    """The API server's boolean query parameters: absent, empty, 0 or false mean false."""
    value = query_value(query, key)
    return key in query and value.lower() not in ("", "0", "false")
