"""Helpers for reading Kubernetes objects: the logic the Kubernetes-side checks share.

Everything takes the raw API dicts (camelCase, as `kubectl get -o yaml` prints them) and
returns plain values, so each check stays a few lines of "what is wrong and how to fix it".
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from okedoctor.redact import redact

Obj = dict[str, Any]

# ---- quantities ---------------------------------------------------------------------------

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_QUANTITY_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def parse_quantity(value: str | int | float | None) -> float | None:
    """A Kubernetes quantity ("250m", "1.5Gi", "13791300Ki", "1e3", 2) as a number; None if unparsable."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    m = _QUANTITY_RE.match(str(value).strip())
    if not m:
        return None
    number, suffix = float(m.group(1)), m.group(2)
    return number * (_BINARY.get(suffix) or _DECIMAL[suffix])


def cpu_millis(value: str | int | float | None) -> int:
    """CPU in millicores ("250m" -> 250, "2" -> 2000); 0 when absent or unparsable."""
    q = parse_quantity(value)
    return round(q * 1000) if q is not None else 0


def memory_bytes(value: str | int | float | None) -> int:
    q = parse_quantity(value)
    return round(q) if q is not None else 0


def fmt_cpu(millis: int) -> str:
    return f"{millis}m" if millis % 1000 else f"{millis // 1000}"


def fmt_memory(n: int) -> str:
    """Bytes in the largest binary unit that keeps one decimal honest (512Mi, 13.2Gi)."""
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if abs(n) >= size:
            v = n / size
            return f"{v:.0f}{unit}" if v == int(v) else f"{v:.1f}{unit}"
    return str(n)


@dataclass(frozen=True)
class Resources:
    cpu: int = 0  # millicores
    memory: int = 0  # bytes

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu + other.cpu, self.memory + other.memory)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpu - other.cpu, self.memory - other.memory)

    def fits_in(self, free: Resources) -> bool:
        return self.cpu <= free.cpu and self.memory <= free.memory

    def show(self) -> dict[str, str]:
        return {"cpu": fmt_cpu(self.cpu), "memory": fmt_memory(self.memory)}


def _requests(containers: Iterable[Obj]) -> list[Resources]:
    out = []
    for c in containers:
        req = (c.get("resources") or {}).get("requests") or {}
        out.append(Resources(cpu_millis(req.get("cpu")), memory_bytes(req.get("memory"))))
    return out


def pod_requests(pod_spec: Obj) -> Resources:
    """What the scheduler reserves for a pod: sum of app containers, at least the largest init container."""
    total = sum(_requests(pod_spec.get("containers") or []), Resources())
    inits = _requests(pod_spec.get("initContainers") or [])
    overhead = pod_spec.get("overhead") or {}
    total = Resources(
        max([total.cpu, *(i.cpu for i in inits)]) + cpu_millis(overhead.get("cpu")),
        max([total.memory, *(i.memory for i in inits)]) + memory_bytes(overhead.get("memory")),
    )
    return total


def node_allocatable(node: Obj) -> Resources:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return Resources(cpu_millis(alloc.get("cpu")), memory_bytes(alloc.get("memory")))


def pod_holds_resources(pod: Obj) -> bool:
    """Scheduled and not finished: its requests count against the node."""
    phase = (pod.get("status") or {}).get("phase")
    return bool((pod.get("spec") or {}).get("nodeName")) and phase not in ("Succeeded", "Failed")


# ---- conditions and readiness ---------------------------------------------------------------

def condition(obj: Obj, ctype: str) -> Obj | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def is_true(obj: Obj, ctype: str) -> bool:
    c = condition(obj, ctype)
    return bool(c and c.get("status") == "True")


def pod_ready(pod: Obj) -> bool:
    return is_true(pod, "Ready")


def node_ready(node: Obj) -> bool:
    return is_true(node, "Ready")


def container_statuses(pod: Obj) -> dict[str, Obj]:
    return {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}


def containers(pod_or_template: Obj) -> list[Obj]:
    return list((pod_or_template.get("spec") or {}).get("containers") or [])


def waiting_reason(status: Obj | None) -> str | None:
    return (((status or {}).get("state") or {}).get("waiting") or {}).get("reason")


def waiting_message(status: Obj | None) -> str:
    return (((status or {}).get("state") or {}).get("waiting") or {}).get("message") or ""


def last_terminated(status: Obj | None) -> Obj:
    """The previous instance's termination (lastState), else the current one if it is terminated."""
    s = status or {}
    return ((s.get("lastState") or {}).get("terminated") or (s.get("state") or {}).get("terminated") or {})


def name_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def ns_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("namespace", "")


# ---- ports ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContainerPort:
    container: str
    port: int
    name: str | None
    protocol: str


def container_ports(pod_or_template: Obj) -> list[ContainerPort]:
    """Every declared port of every app container (the endpoints controller looks at all of them)."""
    out = []
    for c in containers(pod_or_template):
        for p in c.get("ports") or []:
            if p.get("containerPort"):
                out.append(ContainerPort(c.get("name", ""), int(p["containerPort"]), p.get("name"),
                                         p.get("protocol") or "TCP"))
    return out


def resolve_target_port(service_port: Obj, pod_or_template: Obj) -> int | None:
    """The container port a Service port sends to for this pod, as the endpoints controller resolves it.

    A number is used as is; a name is looked up among the containers' declared ports with the
    same protocol, and None means the name matches no port (the pod gets no endpoint for it).
    """
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    proto = service_port.get("protocol") or "TCP"
    for cp in container_ports(pod_or_template):
        if cp.name == target and cp.protocol == proto:
            return cp.port
    return None


def resolve_container_port(value: Any, container: Obj) -> int | None:
    """A probe's port (number or name of one of this container's ports)."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        for p in container.get("ports") or []:
            if p.get("name") == value:
                return int(p["containerPort"])
    return None


def probe_target(probe: Obj | None, container: Obj) -> tuple[str, int | None, str]:
    """(kind, port, description) of a probe: ("httpGet", 8080, "HTTP GET :8080/healthz")."""
    if not probe:
        return "", None, ""
    for kind in ("httpGet", "tcpSocket", "grpc"):
        action = probe.get(kind)
        if action is not None:
            port = resolve_container_port(action.get("port"), container)
            if kind == "httpGet":
                scheme = action.get("scheme") or "HTTP"
                return kind, port, f"{scheme} GET :{port}{action.get('path') or '/'}"
            return kind, port, f"{'TCP' if kind == 'tcpSocket' else 'gRPC'} :{port}"
    if probe.get("exec"):
        return "exec", None, "exec " + " ".join(probe["exec"].get("command") or [])
    return "", None, ""


_TLS_NAMES = ("https", "tls", "grpcs")
_TLS_APP_PROTOCOLS = ("https", "tls", "grpcs", "kubernetes.io/wss")


def _tls_name(name: Any) -> bool:
    # Istio's port naming convention prefixes the protocol: https-443, tls-passthrough.
    low = str(name or "").lower()
    return low in _TLS_NAMES or any(low.startswith(n + "-") for n in _TLS_NAMES)


def _plain_name(name: Any) -> bool:
    low = str(name or "").lower()
    return low in ("http", "h2c") or low.startswith(("http-", "h2c-"))


def tls_port_reason(service_port: Obj, pod_or_template: Obj, port: int) -> str | None:
    """Why the container port a Service port sends to speaks TLS, or None: the Service port's
    appProtocol or name, the container port's name, or an HTTPS readiness probe on it.

    A plain-HTTP probe of such a port is reset or answered 400 by design; it is probed with TLS."""
    app = str(service_port.get("appProtocol") or "").lower()
    if app in _TLS_APP_PROTOCOLS:
        return f"the Service port's appProtocol is {service_port.get('appProtocol')}"
    named = [cp.get("name") for c in containers(pod_or_template) for cp in c.get("ports") or []
             if cp.get("containerPort") == port]
    # A container port named http says what the pod serves; a Service port named https in front of
    # it is the clients' side of an LB that ends TLS (service.beta.kubernetes.io/oci-load-balancer-ssl-ports).
    if _tls_name(service_port.get("name")) and not any(_plain_name(n) for n in named):
        return f"the Service port is named {service_port.get('name')}"
    for c in containers(pod_or_template):
        for cp in c.get("ports") or []:
            if cp.get("containerPort") == port and _tls_name(cp.get("name")):
                return f"container port {port} is named {cp.get('name')}"
        get = (c.get("readinessProbe") or {}).get("httpGet") or {}
        if str(get.get("scheme") or "").upper() == "HTTPS" and resolve_container_port(get.get("port"), c) == port:
            return f"the readiness probe of {c.get('name')} uses HTTPS on {port}"
    return None


def service_ports(service: Obj) -> list[Obj]:
    return list((service.get("spec") or {}).get("ports") or [])


def port_label(service_port: Obj) -> str:
    name = service_port.get("name")
    return f"{name} ({service_port.get('port')})" if name else str(service_port.get("port"))


# ---- events -----------------------------------------------------------------------------------

def event_message(ev: Obj) -> str:
    return ev.get("message") or ev.get("note") or ""


def event_count(ev: Obj) -> int:
    return int(ev.get("count") or (ev.get("series") or {}).get("count") or 1)


def event_quote(ev: Obj) -> dict:
    """An event as a root cause quotes it: the object it is about, reason, message (redacted), count, last seen."""
    ref = ev.get("involvedObject") or ev.get("regarding") or {}
    obj = "/".join(x for x in ((ref.get("kind") or "").lower(), ref.get("namespace") or "", ref.get("name") or "") if x)
    return {"object": obj, "reason": ev.get("reason"), "message": redact(event_message(ev)),
            "count": event_count(ev), "lastSeen": ev.get("lastTimestamp") or ev.get("eventTime")}


def events_with_reason(events: Iterable[Obj], *reasons: str) -> list[Obj]:
    return [e for e in events if e.get("reason") in reasons]


def latest(events: list[Obj]) -> Obj | None:
    return events[-1] if events else None


# ---- owners ------------------------------------------------------------------------------------

def workload_ref(facts: Any, pod: Obj) -> str:
    """`deployment/app` for kubectl commands, or `pod/NAME` when the pod has no Deployment."""
    dep = facts.deployment_of(pod)
    if dep:
        return f"deployment/{name_of(dep)}"
    rs = facts.owner(pod, "ReplicaSet")
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") in ("StatefulSet", "DaemonSet"):
            return f"{ref['kind'].lower()}/{ref.get('name')}"
    return f"replicaset/{name_of(rs)}" if rs else f"pod/{name_of(pod)}"


def has_earlier_revision(facts: Any, namespace: str, ref: str) -> bool:
    """Whether `kubectl rollout undo ref` has a revision to go back to (a Deployment with an older ReplicaSet)."""
    kind, _, name = ref.partition("/")
    dep = facts.get("Deployment", namespace, name) if kind == "deployment" else None
    if not dep:
        return False
    revisions = {(rs.get("metadata") or {}).get("annotations", {}).get("deployment.kubernetes.io/revision")
                 for rs in facts.replicasets_of(dep)}
    return len(revisions - {None}) >= 2


# ---- logs ---------------------------------------------------------------------------------------
# Quoted log lines and bodies go through the same redactor as collection (okedoctor.redact), which
# this module re-exports as `redact` for the checks.


# Log analysis reads a bounded tail: the collector asks the kubelet for 16 KiB, but a snapshot file
# may carry any size, and every check that reads a log would pay for it again.
LOG_ANALYSIS_CHARS = 64 * 1024
LOG_LINE_CHARS = 4096  # a hint sits near the start of its line; the rest of a long line is not read
LOG_ANALYSIS_SECONDS = 1.0  # a backstop: the bounds above already keep one log well under it


def log_lines(text: str | None) -> list[str]:
    """The lines of a log's analysed tail (the last LOG_ANALYSIS_CHARS), each cut to LOG_LINE_CHARS."""
    return [ln[:LOG_LINE_CHARS] for ln in (text or "")[-LOG_ANALYSIS_CHARS:].splitlines()]


def tail(text: str | None, n: int = 10) -> list[str]:
    """The last n non-empty lines, redacted."""
    lines = [ln.rstrip() for ln in log_lines(text) if ln.strip()]
    return [redact(ln)[:300] for ln in lines[-n:]]


@dataclass(frozen=True)
class LogHint:
    """A startup failure recognised in a log line, said in plain words."""

    kind: str  # missing-env | refused | addr-in-use | permission | loopback | dns | file-missing | oom
    plain: str
    line: str  # the redacted log line it was read from
    detail: dict[str, Any]


_ENV = r"['\"`$]?\{?([A-Z][A-Z0-9_]{1,})\}?['\"`]?"
# A host starts where its run of host characters starts (the look-behinds), so a long run without
# ":port" is tried once, not once from each of its characters.
_HOSTPORT = r"\[?((?<![\w.-])[\w.-]+|(?<![\w.:-])[0-9a-fA-F:]+)\]?:(\d{2,5})"
_LOG_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("missing-env", re.compile(
        r"(?:environment variable|env(?:ironment)?\s*var(?:iable)?|\benv\b)s?\s*:?\s*" + _ENV
        + r"\s*(?:is\s+|was\s+)?(?:not set|not defined|unset|missing|required|undefined|must be set|is empty|empty)",
        re.I)),
    ("missing-env", re.compile(
        r"(?:missing|required|undefined|unset)\s+(?:required\s+)?(?:environment variable|env(?:ironment)?\s*var"
        r"(?:iable)?|config(?:uration)? (?:key|value))s?\s*:?\s*" + _ENV, re.I)),
    ("missing-env", re.compile(r"KeyError: '([A-Z][A-Z0-9_]+)'")),
    ("missing-env", re.compile(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\s+(?:is\s+)?(?:not set|must be set|is required|"
                               r"is empty|is missing|not defined)")),
    ("loopback", re.compile(
        r"(?:listen|serv|bound|bind|running|started|accepting)\w{0,16}+\b.{0,40}?\b(?:on|at|to)\s+(?:https?://)?"
        r"(127\.0\.0\.1|localhost|\[::1\]|::1):(\d{2,5})", re.I)),
    ("addr-in-use", re.compile(r"(?:address already in use|EADDRINUSE|port is already allocated)", re.I)),
    ("refused", re.compile(r"connection to server at \"([^\"]+)\".{0,40}?port (\d+) failed:\s*Connection refused",
                           re.I)),
    ("refused", re.compile(_HOSTPORT + r"[^\n]{0,40}?(?:connection refused|ECONNREFUSED)", re.I)),
    ("refused", re.compile(r"(?:connection refused|ECONNREFUSED)[^\n]{0,40}?" + _HOSTPORT, re.I)),
    ("dns", re.compile(r"(?:lookup ([\w.-]+)(?: on [\d.:]+)?: no such host|getaddrinfo (?:ENOTFOUND|EAI_AGAIN) "
                       r"([\w.-]+)|could not translate host name \"([\w.-]+)\")", re.I)),
    # nslookup's answers, typical of init containers waiting for a Service (`until nslookup db; ...`).
    ("dns", re.compile(r"(?:server can't find ([\w.-]+?)(?:\.[\w-]+\.svc\.cluster\.local)?: NXDOMAIN|"
                       r"nslookup: can't resolve '([\w.-]+)'|bad address '([\w.-]+)')", re.I)),
    ("chown", re.compile(r"chown: (?:changing ownership of|cannot (?:change|access)[^'\"]{0,200}?)"
                         r"\s*['\"]([^'\"]+)['\"][^\n]{0,200}?operation not permitted", re.I)),
    ("permission", re.compile(r"(?:permission denied|EACCES|operation not permitted)", re.I)),
    ("file-missing", re.compile(r"(?:no such file or directory|ENOENT|FileNotFoundError)[^\n]{0,200}?(/[\w./-]+)|"
                                r"(?:open|read|load|stat)\w{0,16}+\s+['\"]?(/[\w./-]+)['\"]?:?\s*no such file", re.I)),
    ("oom", re.compile(r"(?:OutOfMemoryError|JavaScript heap out of memory|Cannot allocate memory|MemoryError)")),
    ("exec-format", re.compile(r"exec format error", re.I)),
)


def _hint(kind: str, m: re.Match[str], line: str) -> LogHint:
    groups = [g for g in m.groups() if g] if m.groups() else []
    if kind == "missing-env":
        var = groups[0]
        empty = "empty" in line.lower()
        plain = f"the app exits because the environment variable {var} is {'empty' if empty else 'not set'}"
        return LogHint(kind, plain, line, {"variable": var})
    if kind == "loopback":
        host, port = groups[0], int(groups[1])
        return LogHint(kind, f"the app listens on {host}:{port} only (loopback), so nothing outside the "
                       "container (kubelet probes, the Service, the LB) can reach it; it must bind 0.0.0.0",
                       line, {"address": f"{host}:{port}", "port": port})
    if kind == "addr-in-use":
        port = re.search(r":(\d{2,5})\b", line)
        where = f" port {port.group(1)}" if port else " its port"
        return LogHint(kind, f"the app cannot bind{where}: another process in the pod (a sidecar, or a second "
                       "server in the same container) already listens there", line,
                       {"port": int(port.group(1)) if port else None})
    if kind == "refused":
        host, port = groups[0], int(groups[1])
        return LogHint(kind, f"the app cannot reach its dependency at {host}:{port} (connection refused): "
                       "that service is down, has no ready pods, or listens on another port", line,
                       {"dependency": f"{host}:{port}"})
    if kind == "dns":
        host = groups[0] if groups else "?"
        return LogHint(kind, f"the app cannot resolve the host name {host}: a typo in its configuration, or "
                       "the Service/namespace it names does not exist", line, {"host": host})
    if kind == "permission":
        path = re.search(r"(/[\w./-]+)", line)
        what = f" on {path.group(1)}" if path else ""
        low = re.search(r"bind|listen", line, re.I)
        plain = ("the app may not bind a port below 1024 as a non-root user: listen on a high port "
                 "(8080) or grant NET_BIND_SERVICE" if low else
                 f"permission denied{what}: the container's user (securityContext runAsUser/fsGroup) "
                 "cannot read or write it")
        return LogHint(kind, plain, line, {"path": path.group(1) if path else None})
    if kind == "chown":
        return LogHint(kind, f"chown of {groups[0]} is refused (Operation not permitted): root in the container "
                       "cannot change owners on this volume, typically an NFS/File Storage export that squashes "
                       "root to an anonymous user (root squash)", line, {"path": groups[0]})
    if kind == "file-missing":
        path = groups[0] if groups else None
        return LogHint(kind, f"the app cannot find the file {path}: a volume, subPath or config file is "
                       "missing or mounted elsewhere", line, {"path": path})
    if kind == "exec-format":
        return LogHint(kind, "the image's binary is built for another CPU architecture than the node (e.g. an "
                       "amd64 image on an Ampere arm64 node)", line, {})
    return LogHint(kind, "the app ran out of memory (heap or allocation failure)", line, {})


def log_hints(text: str | None) -> list[LogHint]:
    """Startup failures recognised in a log tail, first occurrence of each kind, in log order."""
    return list(_log_hints(text)) if isinstance(text, str) else []


@functools.lru_cache(maxsize=256)
def _log_hints(text: str) -> tuple[LogHint, ...]:
    # Cached: several checks read the hints of the same log, and a fleet run shares logs' text.
    seen: set[tuple[str, str]] = set()
    out: list[LogHint] = []
    stop = time.monotonic() + LOG_ANALYSIS_SECONDS
    for raw in log_lines(text):
        if time.monotonic() > stop:
            break
        line = redact(raw.strip())
        for kind, pattern in _LOG_PATTERNS:
            m = pattern.search(line)
            if not m:
                continue
            hint = _hint(kind, m, line[:300])
            key = (kind, str(sorted(hint.detail.items())))
            if key not in seen:
                seen.add(key)
                out.append(hint)
            break
    return tuple(out)


# ---- secrets and config maps (key names only: values never leave the snapshot) -------------------

ENV_NAME_RE = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
ENV_VAR_STYLE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def data_keys(obj: Obj | None) -> set[str]:
    """Key names of a Secret or ConfigMap (data, stringData, binaryData)."""
    if not obj:
        return set()
    keys: set[str] = set()
    for section in ("data", "stringData", "binaryData"):
        keys |= set((obj.get(section) or {}).keys())
    return keys


def iter_key_refs(container: Obj) -> Iterator[tuple[str, str, str, str, bool]]:
    """(env var, kind "Secret"/"ConfigMap", object name, key, optional) for each env valueFrom ref."""
    for env in container.get("env") or []:
        vf = env.get("valueFrom") or {}
        for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            ref = vf.get(field)
            if ref and ref.get("name") and ref.get("key"):
                yield env.get("name", ""), kind, ref["name"], ref["key"], bool(ref.get("optional"))


@dataclass(frozen=True)
class EndpointAddress:
    ip: str
    node: str | None
    pod: str | None
    ready: bool


def endpoint_addresses(facts: Any, service: Obj) -> list[EndpointAddress]:
    """The Service's endpoint addresses, from EndpointSlices when there are any, else Endpoints."""
    out: list[EndpointAddress] = []
    slices = facts.endpoint_slices(service)
    for s in slices:
        for ep in s.get("endpoints") or []:
            # An absent `ready` means ready, per the EndpointSlice API.
            ready = (ep.get("conditions") or {}).get("ready", True) is not False
            pod = (ep.get("targetRef") or {}).get("name")
            out.extend(EndpointAddress(ip, ep.get("nodeName"), pod, ready) for ip in ep.get("addresses") or [])
    if slices:
        return out
    for subset in (facts.endpoints(service) or {}).get("subsets") or []:
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for a in subset.get(key) or []:
                pod = (a.get("targetRef") or {}).get("name")
                out.append(EndpointAddress(a.get("ip", ""), a.get("nodeName"), pod, ready))
    return out


def ready_endpoint_nodes(facts: Any, service: Obj) -> dict[str, int]:
    """node name -> number of ready endpoints on it."""
    out: dict[str, int] = {}
    for a in endpoint_addresses(facts, service):
        if a.ready and a.node:
            out[a.node] = out.get(a.node, 0) + 1
    return out


_LISTEN_RE = re.compile(r"(?:listen|serving|server started|started server|running|bound|accepting)\w{0,16}+\b"
                        r"[^\n]{0,40}?(?:port\s+|:)(\d{2,5})\b", re.I)


def listening_ports(text: str | None) -> list[int]:
    """Ports a log says the app listens on ("listening on 0.0.0.0:8080", "Server listening on port 3000")."""
    out: list[int] = []
    for line in log_lines(text):
        m = _LISTEN_RE.search(line)
        if m and int(m.group(1)) not in out:
            out.append(int(m.group(1)))
    return out


def dependency_commands(namespace: str, dependency: str) -> list[str]:
    """kubectl commands that show whether a dependency named in a log (host:port) has ready endpoints."""
    host = dependency.rsplit(":", 1)[0] if re.search(r":\d+$", dependency) else dependency
    # An address (IPv4, or IPv6 with its colons): a Service name such as "db" or "cafe" is hex too.
    if re.fullmatch(r"[\d.]+|[0-9a-fA-F]*:[0-9a-fA-F:]+", host):
        return [f"kubectl get services -A -o wide | grep -w {host}"]
    parts = host.split(".")
    name, ns = parts[0], (parts[1] if len(parts) > 1 and parts[1] not in ("svc", "cluster") else namespace)
    return [f"kubectl -n {ns} get service {name} -o wide",
            f"kubectl -n {ns} get endpointslices -l kubernetes.io/service-name={name} -o wide"]
