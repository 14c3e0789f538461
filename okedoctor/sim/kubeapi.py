"""The Kubernetes API server of the simulator: discovery, get/list, pods/log and pods/exec.

Served over HTTPS with the bearer token of the kubeconfig's exec plugin. Read-only: every
mutating verb gets 405 MethodNotAllowed (and is recorded, so tests can prove nobody sent one).
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from okedoctor.sim.httpbase import SimHandler
from okedoctor.sim.kubepatch import PatchError, apply_patch
from okedoctor.sim.kubepods import PodSubresources, query_flag, query_value
from okedoctor.sim.kubestore import BUILTIN, BadRequest, Resource, Store, paginate
from okedoctor.sim.tables import to_table

ANONYMOUS_PATHS = {"/version", "/version/", "/healthz", "/livez", "/readyz"}
# Built-in kinds with a status subresource (ConfigMap, Secret, Event... have none).
HAS_STATUS = {"Pod", "Service", "Node", "Namespace", "PersistentVolumeClaim", "PersistentVolume",
              "ReplicationController", "ResourceQuota", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet",
              "Job", "CronJob", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "VolumeAttachment"}
VERBS = ("get", "list", "watch")
AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
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
    on_write: Callable[[], None] | None = None  # recomputes what follows from the new configuration
    before_write: Callable[[], None] | None = None  # takes the configuration as loaded, once


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


class KubeHandler(PodSubresources, SimHandler):
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
        if self.command == "PATCH":
            self.patch_object(request_info(self.command, path))
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

    def patch_object(self, info: RequestInfo) -> None:
        """PATCH of one object (JSON, merge or strategic merge patch); `dryRun=All` stores nothing."""
        store = self.app.store
        res = store.resource(info.group, info.version, info.plural) if info.resource_request else None
        if res is None or info.name is None or info.sub not in (None, "status"):
            self.status(405, details={})
            return
        obj = store.get(res, info.namespace, info.name)
        if obj is None:
            self.not_found(res, info.name)
            return
        self._extra["body"] = self.request_body.decode("utf-8", "replace")
        try:
            patched = apply_patch(obj, self.request_body, self.headers.get("Content-Type", ""))
        except PatchError as exc:
            self.status(422 if "does not exist" in str(exc) else 400, str(exc))
            return
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
            self.status(422, f"the patch does not apply: {exc}")
            return
        if query_value(parse_qs(self.url_query), "dryRun") == "All":
            self.reply_json(200, patched)
            return
        if self.app.before_write:
            self.app.before_write()
        patched["metadata"]["resourceVersion"] = str(int(store.resource_version()) + 1)
        obj.clear()
        obj.update(patched)
        if self.app.on_write:
            self.app.on_write()
        self.reply_json(200, obj)

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
            self.reply_json(200, to_table(res.kind, [obj], query_value(query, "includeObject"), meta))
        else:
            self.reply_json(200, obj)

    def list_objects(self, res: Resource, namespace: str | None, query: dict[str, list[str]]) -> None:
        store = self.app.store
        label_sel, field_sel = query_value(query, "labelSelector"), query_value(query, "fieldSelector")
        items = store.list(res, namespace, label_sel, field_sel)
        rv = store.resource_version()
        if query_flag(query, "watch"):
            self.watch(res, items, query)
            return
        page, cont, remaining = paginate(items, query_value(query, "limit"), query_value(query, "continue"), rv)
        meta: dict[str, Any] = {"resourceVersion": rv}
        if cont:
            meta["continue"] = cont
            # The API server counts what is left only when no selector filters the list.
            if remaining is not None and not label_sel and not field_sel:
                meta["remainingItemCount"] = remaining
        if self.wants_table():
            self.reply_json(200, to_table(res.kind, page, query_value(query, "includeObject"), meta))
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
        since = query_value(query, "resourceVersion")
        events = items if since in ("", "0") else []
        self.record(200, watch=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        table = self.wants_table()
        for obj in events:
            body = to_table(res.kind, [obj], query_value(query, "includeObject"), {}) if table else obj
            self.write_chunk(json.dumps({"type": "ADDED", "object": body}).encode() + b"\n")
        try:
            timeout = float(query_value(query, "timeoutSeconds") or 0) or None
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


def _subresources(res: Resource) -> list[tuple[str, str, list[str]]]:
    """(name, kind, verbs) of the subresources the simulator serves for res."""
    subs = []
    if res.kind in HAS_STATUS or res not in BUILTIN:
        subs.append(("status", res.kind, ["get"]))
    if res.kind == "Pod" and not res.group:
        subs += [("log", "Pod", ["get"]), ("exec", "PodExecOptions", ["create", "get"])]
    return subs
