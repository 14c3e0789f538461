"""The Kubernetes API server of the simulator: discovery, get/list, pods/log and pods/exec.

Served over HTTPS with the bearer token of the kubeconfig's exec plugin. Read-only: every
mutating verb gets 405 MethodNotAllowed (and is recorded, so tests can prove nobody sent one).
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from okedoctor.sim import shell, websocket
from okedoctor.sim.httpbase import SimHandler
from okedoctor.sim.kubestore import BUILTIN, BadRequest, Resource, Store, namespace_of, paginate
from okedoctor.sim.tables import to_table

ANONYMOUS_PATHS = {"/version", "/version/", "/healthz", "/livez", "/readyz"}
# Built-in kinds with a status subresource (ConfigMap, Secret, Event... have none).
HAS_STATUS = {"Pod", "Service", "Node", "Namespace", "PersistentVolumeClaim", "PersistentVolume",
              "ReplicationController", "ResourceQuota", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet",
              "Job", "CronJob", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "VolumeAttachment"}
VERBS = ("get", "list", "watch")
AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}
MESSAGES = {401: "Unauthorized", 405: "the server does not allow this method on the requested resource",
            429: "Too many requests, please try again later.",
            500: "Internal error occurred: the server is currently unable to complete the request",
            503: "the server is currently unable to handle the request",
            504: "Timeout: request did not complete within requested timeout - context deadline exceeded"}


def status_body(code: int, message: str, reason: str | None = None,
                details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason or REASONS.get(code, ""), "code": code}
    if details is not None:
        body["details"] = details
    return body


@dataclass
class KubeApp:
    """What the Kubernetes handler serves: the indexed objects, live answers, the expected token."""

    store: Store
    containers: dict[str, Any]
    token: str
    user: str
    git_version: str
    address: str = ""
    # Set when the simulator stops, to end open watches.
    stopping: threading.Event = field(default_factory=threading.Event)


@dataclass
class RequestInfo:
    """The API server's reading of a URL (resource, namespace, name, subresource, verb)."""

    resource_request: bool
    group: str = ""
    version: str = ""
    namespace: str | None = None
    plural: str = ""
    name: str | None = None
    sub: str | None = None
    verb: str = "get"


def request_info(method: str, path: str) -> RequestInfo:
    segs = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    if segs[:1] == ["api"] and len(segs) >= 3:
        group, version, rest = "", segs[1], segs[2:]
    elif segs[:1] == ["apis"] and len(segs) >= 4:
        group, version, rest = segs[1], segs[2], segs[3:]
    else:
        return RequestInfo(False, verb=method.lower())
    info = RequestInfo(True, group, version)
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        info.namespace, info.plural = rest[1], rest[2]
        info.name = rest[3] if len(rest) > 3 else None
        info.sub = rest[4] if len(rest) > 4 else None
    else:
        info.plural = rest[0]
        info.name = rest[1] if len(rest) > 1 else None
        info.sub = rest[2] if len(rest) > 2 else None
    verbs = {"GET": "list" if info.name is None else "get", "HEAD": "get", "POST": "create",
             "PUT": "update", "PATCH": "patch", "DELETE": "delete" if info.name else "deletecollection"}
    info.verb = verbs.get(method, method.lower())
    if info.sub == "exec":
        info.verb = "create"  # RBAC authorizes pods/exec as create, whatever the HTTP method
    return info


class KubeHandler(SimHandler):
    api = "kubernetes"

    @property
    def app(self) -> KubeApp:
        return self.server.app

    # ---- answers ---------------------------------------------------------------------------

    def status(self, code: int, message: str | None = None, reason: str | None = None,
               details: dict[str, Any] | None = None) -> None:
        self.reply_json(code, status_body(code, message or MESSAGES.get(code, REASONS.get(code, "")),
                                          reason, details))

    def no_such_resource(self) -> None:
        self.status(404, "the server could not find the requested resource", details={})

    def not_found(self, res: Resource, name: str) -> None:
        details: dict[str, Any] = {"name": name, "kind": res.plural}
        if res.group:
            details["group"] = res.group
        self.status(404, f'{res.qualified} "{name}" not found', details=details)

    def fault_response(self, status: int) -> None:
        if status == 403:
            self.forbidden()
        elif status == 401:
            self.status(401)
        else:
            self.status(status)

    def forbidden(self) -> None:
        info = request_info(self.command, self.url_path)
        user = f'User "{self.app.user}"'
        if not info.resource_request:
            self.status(403, f'forbidden: {user} cannot {info.verb} path "{self.url_path}"', "Forbidden",
                        {})
            return
        qualified = f"{info.plural}.{info.group}" if info.group else info.plural
        subject = f'{qualified} "{info.name}"' if info.name else qualified
        resource = f"{info.plural}/{info.sub}" if info.sub else info.plural
        where = f' in the namespace "{info.namespace}"' if info.namespace else " at the cluster scope"
        details: dict[str, Any] = {"kind": info.plural}
        if info.name:
            details["name"] = info.name
        if info.group:
            details["group"] = info.group
        self.status(403, f'{subject} is forbidden: {user} cannot {info.verb} resource "{resource}" '
                         f'in API group "{info.group}"{where}', "Forbidden", details)

    # ---- routing ---------------------------------------------------------------------------

    def route(self) -> None:
        path = self.url_path
        if path in ANONYMOUS_PATHS:
            if path.startswith("/version"):
                self.reply_json(200, self.version())
            else:
                self.reply(200, b"ok", "text/plain; charset=utf-8")
            return
        if not self.authenticated():
            self.status(401)
            return
        if self.command not in ("GET", "HEAD"):
            self.refuse_write()
            return
        segs = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        if segs in (["api"], ["apis"]) and self.wants_aggregated():
            self.aggregated(core=segs == ["api"])
        elif segs == ["api"]:
            self.reply_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.app.address}]})
        elif segs == ["apis"]:
            self.reply_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": self.groups()})
        elif len(segs) == 2 and segs[0] == "apis":
            group = next((g for g in self.groups() if g["name"] == segs[1]), None)
            if group is None:
                self.no_such_resource()
            else:
                self.reply_json(200, {"kind": "APIGroup", "apiVersion": "v1", **group})
        elif (len(segs) == 2 and segs[0] == "api") or (len(segs) == 3 and segs[0] == "apis"):
            group, version = ("", segs[1]) if segs[0] == "api" else (segs[1], segs[2])
            self.resource_list(group, version)
        elif segs[:1] in (["api"], ["apis"]):
            self.resource(request_info(self.command, path))
        else:
            self.reply(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def refuse_write(self) -> None:
        """405 for every write; a POST to pods/exec is kubectl's SPDY exec, answered as such."""
        info = request_info(self.command, self.url_path)
        if self.command == "POST" and info.sub == "exec" and info.plural == "pods" and info.name:
            res = self.app.store.resource(info.group, info.version, "pods")
            pod = self.app.store.get(res, info.namespace or "default", info.name) if res else None
            if res is not None and pod is None:
                self.not_found(res, info.name)
                return
            if pod is not None:
                self.spdy_exec(pod)
                return
        self.status(405, details={})

    def authenticated(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), self.app.token)

    def version(self) -> dict[str, Any]:
        git = self.app.git_version
        major, minor = git.lstrip("v").split(".")[:2]
        return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
                "gitVersion": git, "gitCommit": "948afe5ca072329a73c8e79ed5938717a5cb3d21",
                "gitTreeState": "clean", "buildDate": "2024-09-11T21:22:08Z", "goVersion": "go1.22.6",
                "compiler": "gc", "platform": "linux/amd64"}

    def groups(self) -> list[dict[str, Any]]:
        out = []
        for group, versions in self.app.store.group_versions().items():
            if not group:
                continue
            gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
            out.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
        return out

    def resource_list(self, group: str, version: str) -> None:
        resources = self.app.store.resources_in(group, version)
        if not resources:
            self.no_such_resource()
            return
        out = []
        for res in resources:
            entry: dict[str, Any] = {"name": res.plural, "singularName": res.singular,
                                     "namespaced": res.namespaced, "kind": res.kind, "verbs": list(VERBS)}
            if res.short_names:
                entry["shortNames"] = list(res.short_names)
            if res.categories:
                entry["categories"] = list(res.categories)
            out.append(entry)
            for sub, kind, verbs in _subresources(res):
                out.append({"name": f"{res.plural}/{sub}", "singularName": "", "namespaced": res.namespaced,
                            "kind": kind, "verbs": verbs})
        gv = f"{group}/{version}" if group else version
        self.reply_json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                              "resources": out})

    def wants_aggregated(self) -> bool:
        return "v=v2;as=APIGroupDiscoveryList" in self.headers.get("Accept", "").replace(" ", "")

    def aggregated(self, core: bool) -> None:
        """apidiscovery.k8s.io/v2: every group, version and resource in one answer (kubectl 1.30+)."""
        items = []
        for group, versions in self.app.store.group_versions().items():
            if bool(group) == core:
                continue
            item: dict[str, Any] = {"metadata": {"creationTimestamp": None}, "versions": []}
            if group:
                item["metadata"]["name"] = group
            for version in versions:
                resources = []
                for res in self.app.store.resources_in(group, version):
                    kind = {"group": group, "version": version, "kind": res.kind}
                    entry: dict[str, Any] = {
                        "resource": res.plural, "responseKind": kind,
                        "scope": "Namespaced" if res.namespaced else "Cluster",
                        "singularResource": res.singular, "verbs": list(VERBS)}
                    if res.short_names:
                        entry["shortNames"] = list(res.short_names)
                    if res.categories:
                        entry["categories"] = list(res.categories)
                    subs = [{"subresource": sub, "responseKind": {**kind, "kind": sub_kind}, "verbs": verbs}
                            for sub, sub_kind, verbs in _subresources(res)]
                    if subs:
                        entry["subresources"] = subs
                    resources.append(entry)
                item["versions"].append({"version": version, "resources": resources, "freshness": "Current"})
            items.append(item)
        body = {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
                "items": items}
        self.reply(200, json.dumps(body).encode(), AGGREGATED_TYPE)

    def resource(self, info: RequestInfo) -> None:
        store = self.app.store
        res = store.resource(info.group, info.version, info.plural)
        if res is None or (info.namespace is not None and not res.namespaced):
            self.no_such_resource()
            return
        query = parse_qs(self.url_query, keep_blank_values=True)
        try:
            if info.name is None:
                self.list_objects(res, info.namespace, query)
                return
            if res.namespaced and info.namespace is None:
                self.no_such_resource()  # /api/v1/pods/NAME: no such route on the API server
                return
            obj = store.get(res, info.namespace, info.name)
            if obj is None:
                self.not_found(res, info.name)
            elif info.sub is None or (info.sub == "status" and (res.kind in HAS_STATUS or res not in BUILTIN)):
                self.send_object(res, obj, query)
            elif info.sub == "log" and res.kind == "Pod" and not res.group:
                self.pod_log(obj, query)
            elif info.sub == "exec" and res.kind == "Pod" and not res.group:
                self.pod_exec(obj, query)
            else:
                self.no_such_resource()
        except BadRequest as exc:
            self.status(400, str(exc))

    def wants_table(self) -> bool:
        return "as=Table" in self.headers.get("Accept", "")

    def send_object(self, res: Resource, obj: dict[str, Any], query: dict[str, list[str]]) -> None:
        if self.wants_table():
            meta = {"resourceVersion": str(obj["metadata"].get("resourceVersion", ""))}
            self.reply_json(200, to_table(res.kind, [obj], _one(query, "includeObject"), meta))
        else:
            self.reply_json(200, obj)

    def list_objects(self, res: Resource, namespace: str | None, query: dict[str, list[str]]) -> None:
        store = self.app.store
        label_sel, field_sel = _one(query, "labelSelector"), _one(query, "fieldSelector")
        items = store.list(res, namespace, label_sel, field_sel)
        rv = store.resource_version()
        if _flag(query, "watch"):
            self.watch(res, items, query)
            return
        page, cont, remaining = paginate(items, _one(query, "limit"), _one(query, "continue"), rv)
        meta: dict[str, Any] = {"resourceVersion": rv}
        if cont:
            meta["continue"] = cont
            # The API server counts what is left only when no selector filters the list.
            if remaining is not None and not label_sel and not field_sel:
                meta["remainingItemCount"] = remaining
        if self.wants_table():
            self.reply_json(200, to_table(res.kind, page, _one(query, "includeObject"), meta))
            return
        # Built-in list items carry no kind/apiVersion on the wire (typed lists); CRD items do.
        builtin = res.short_names or res.group in ("", "apps", "discovery.k8s.io", "events.k8s.io",
                                                    "storage.k8s.io", "networking.k8s.io", "batch",
                                                    "policy", "autoscaling")
        out = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} if builtin else o for o in page]
        self.reply_json(200, {"kind": f"{res.kind}List", "apiVersion": res.group_version, "metadata": meta,
                              "items": out})

    def watch(self, res: Resource, items: list[dict[str, Any]], query: dict[str, list[str]]) -> None:
        """A watch stream: the file never changes, so only the initial ADDED events, then silence.

        From a resourceVersion the client already listed (kubectl get -w) nothing is sent; from
        none or "0" every matching object comes as ADDED, as the API server does.
        """
        since = _one(query, "resourceVersion")
        events = items if since in ("", "0") else []
        self.record(200, watch=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        table = self.wants_table()
        for obj in events:
            body = to_table(res.kind, [obj], _one(query, "includeObject"), {}) if table else obj
            self.write_chunk(json.dumps({"type": "ADDED", "object": body}).encode() + b"\n")
        try:
            timeout = float(_one(query, "timeoutSeconds") or 0) or None
        except ValueError:
            timeout = None
        # Hold the stream open like a real watch, until its timeout or the simulator stops.
        self.app.stopping.wait(timeout)
        self.write_chunk(b"")

    def write_chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        except OSError:
            pass

    # ---- pods/log --------------------------------------------------------------------------

    def pick_container(self, pod: dict[str, Any], query: dict[str, list[str]]) -> str | None:
        """The container the request names; None after answering 400 when it names none or a bad one."""
        spec = pod.get("spec") or {}
        name = pod["metadata"]["name"]
        main = [c["name"] for c in spec.get("containers") or []]
        others = [c["name"] for c in (spec.get("initContainers") or []) + (spec.get("ephemeralContainers") or [])]
        container = _one(query, "container")
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
        name = pod["metadata"]["name"]
        key = f"{namespace_of(pod)}/{name}/{container}"
        live = self.app.containers.get(key) or {}
        cstatus = _container_status(pod, container)
        last_terminated = ((cstatus.get("lastState") or {}).get("terminated"))
        if _flag(query, "previous"):
            if "previousLogs" in live:
                text = str(live.get("previousLogs") or "")
            elif last_terminated:
                self.status(500, f"okedoctor sim: the file holds no previousLogs for {key} "
                                 "(not observed when the snapshot was taken)", "InternalError")
                return
            else:
                self.status(400, f'previous terminated container "{container}" in pod "{name}" not found')
                return
        else:
            waiting = (cstatus.get("state") or {}).get("waiting")
            if waiting and not last_terminated and not cstatus.get("restartCount"):
                self.status(400, f'container "{container}" in pod "{name}" is waiting to start: '
                                 f'{waiting.get("reason") or "ContainerCreating"}')
                return
            if "logs" not in live:
                self.status(500, f"okedoctor sim: the file holds no logs for {key} "
                                 "(not observed when the snapshot was taken)", "InternalError")
                return
            text = str(live.get("logs") or "")
        tail = _one(query, "tailLines")
        if tail:
            try:
                n = int(tail)
            except ValueError:
                self.status(400, f"tailLines: Invalid value: \"{tail}\": must be an integer")
                return
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-n:]) if n > 0 else ""
        data = text.encode()
        limit = _one(query, "limitBytes")
        if limit:
            try:
                data = data[:int(limit)]
            except ValueError:
                self.status(400, f"limitBytes: Invalid value: \"{limit}\": must be an integer")
                return
        self.reply(200, data, "text/plain")

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
        self.record(101, protocol=protocol)
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", websocket.accept_key(self.headers.get("Sec-WebSocket-Key", "")))
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        self.close_connection = True
        if result.delay:
            time.sleep(result.delay)
        out = self.wfile
        if result.stdout:
            websocket.write_frame(out, websocket.OP_BINARY, b"\x01" + result.stdout.encode())
        if result.stderr:
            # With a TTY there is no separate stderr: the terminal shows both on one stream.
            channel = b"\x01" if _flag(query, "tty") else b"\x02"
            websocket.write_frame(out, websocket.OP_BINARY, channel + result.stderr.encode())
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


def _subresources(res: Resource) -> list[tuple[str, str, list[str]]]:
    """(name, kind, verbs) of the subresources the simulator serves for res."""
    subs = []
    if res.kind in HAS_STATUS or res not in BUILTIN:
        subs.append(("status", res.kind, ["get"]))
    if res.kind == "Pod" and not res.group:
        subs += [("log", "Pod", ["get"]), ("exec", "PodExecOptions", ["create", "get"])]
    return subs


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


def _one(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[-1] if values else ""


def _flag(query: dict[str, list[str]], key: str) -> bool:
    """The API server's boolean query parameters: absent, empty, 0 or false mean false."""
    value = _one(query, key)
    return key in query and value.lower() not in ("", "0", "false")
