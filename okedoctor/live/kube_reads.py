"""Kubernetes reads for one diagnosis: each a GET, each counted, each at a known depth.

Errors are sorted into what the user can act on: 401 and transport failures stop the run
(CollectionError), 403 becomes a `denied` entry with the RBAC rule, 404 means "not there".
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from okedoctor.docfile import check_structure
from okedoctor.errors import CollectionError, UsageError
from okedoctor.live.engine import KUBE_API, Engine
from okedoctor.live.kube import KubeTarget

if TYPE_CHECKING:
    from okedoctor.live.probe import ExecResult

LOG_TAIL_LINES = 200
LOG_LIMIT_BYTES = 16 * 1024


class Forbidden(Exception):  # noqa: N818
    pass


class Gone(Exception):  # noqa: N818 - 404
    pass


class BadRequest(Exception):  # noqa: N818 - 400, e.g. "previous terminated container ... not found"
    pass


class Unreachable(Exception):  # noqa: N818
    pass


# Idempotent reads are retried on these (and on a reset connection), as client-go does for 429
# and 5xx; 501 Not Implemented will not change.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
ATTEMPTS = 3
BACKOFF_BASE_S = 0.2
BACKOFF_MAX_S = 2.0
RETRY_AFTER_MAX_S = 10.0  # a longer Retry-After is not waited for: the read is reported unavailable


class Answer(NamedTuple):
    status: int
    body: bytes
    reason: str | None
    retry_after: float | None = None  # seconds, from a Retry-After header


class KubeWire(Protocol):
    """The read seam: GETs and execs against an API server (the real one, or a snapshot in memory)."""

    def get(self, path: str, query: list[tuple[str, Any]], accept: str,
            timeout: tuple[float, float, float]) -> tuple:
        """(status, body, reason[, retry_after]) of GET `path` (parameters already filled in).

        `timeout` is (connect, each socket read, the whole answer) in seconds.
        """
        ...

    def exec(self, path: str, query: list[tuple[str, Any]], timeout: float, remaining: float,
             after: tuple[str, float] | None = None) -> ExecResult:
        """Run the command `query` names, waiting at most `timeout` seconds for it to end, and at
        most `after[1]` seconds once `after[0]` has appeared on its stderr (then `cut`); raises
        Forbidden or Unreachable."""
        ...


@dataclass
class ApiClientWire:
    """The kubernetes client's ApiClient: its auth, TLS and proxy handling.

    The generated API classes are not used: importing CoreV1Api alone costs over a second,
    and we want the raw JSON anyway.
    """

    api_client: Any
    # One TLS context for every exec of the run: websocket-client builds (and loads the CA into)
    # a new one per connection otherwise, ~240 times in a fleet report.
    _exec_tls: Any = field(default=None, init=False, repr=False)
    _exec_tls_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def get(self, path: str, query: list[tuple[str, Any]], accept: str,
            timeout: tuple[float, float, float]) -> Answer:
        client = self.api_client
        connect, each_read, whole = timeout
        until = time.monotonic() + whole
        try:
            method, url, headers, _, _ = client.param_serialize(
                method="GET", resource_path=path, path_params={}, query_params=query,
                header_params={"Accept": accept}, auth_settings=["BearerToken"])
            resp = client.call_api(method, url, headers, _request_timeout=(connect, each_read))
            data = _read_until(resp.response, until)
        except Unreachable:
            raise
        except Exception as exc:  # urllib3 transport errors: refused, reset, TLS, timeout
            raise Unreachable(_one_line(exc)) from None
        return Answer(resp.status, data, resp.reason, _retry_after(resp.headers.get("Retry-After")))

    def exec(self, path: str, query: list[tuple[str, Any]], timeout: float, remaining: float,
             after: tuple[str, float] | None = None) -> ExecResult:
        """Over the exec WebSocket."""
        from kubernetes.stream import ws_client

        from okedoctor.live.probe import ExecResult, parse_status_channel

        client = self.api_client
        _, url, headers, _, _ = client.param_serialize(
            method="GET", resource_path=path, path_params={}, query_params=query, header_params={},
            auth_settings=["BearerToken"])
        _bound_websockets(ws_client)
        _WS_EXEC.value = max(1.0, min(timeout + 1, remaining))
        try:
            _WS_EXEC.context = self._exec_context(url)
            ws = ws_client.WSClient(client.configuration, ws_client.get_websocket_url(url), headers,
                                    capture_all=False)
        except Exception as exc:
            text = str(exc)
            head = text.split("-+-+-")[0]
            if "403" in head:
                raise Forbidden(head.strip()) from None
            if "executable file not found" in text or "not found in $PATH" in text:
                return ExecResult("", text, {"status": "Failure", "message": text})
            raise Unreachable(_one_line(head)) from None
        finally:
            # Only this exec's WebSocket: another client's stream() on this thread keeps its own TLS.
            _WS_EXEC.context = None
        try:
            _run_until(ws, timeout, after)
            out, err = ws.read_channel(1), ws.read_channel(2)
            status = parse_status_channel(ws.read_channel(3))
            cut = status is None and ws.is_open()  # still running after `timeout`: we stop waiting
        finally:
            # A cut command has not closed its stream: send the close frame and do not wait for
            # the server's answer to it (websocket-client waits up to 3 s otherwise).
            if ws.is_open():
                ws.close(timeout=0)
            else:
                ws.close()
        return ExecResult(out, err, status, cut)

    def _exec_context(self, url: str) -> ssl.SSLContext | None:
        cfg = self.api_client.configuration
        if not url.startswith("https://") or (cfg.verify_ssl and not cfg.ssl_ca_cert):
            # No TLS, or the system's bundle (kubernetes picks certifi's): websocket-client's own.
            return None
        with self._exec_tls_lock:
            if self._exec_tls is None:
                self._exec_tls = exec_tls_context(cfg)
            return self._exec_tls


def _run_until(ws: Any, timeout: float, after: tuple[str, float] | None) -> None:
    """The WebSocket's run_forever(timeout), but once `after[0]` is on stderr (the command the
    probe waits for has started), at most `after[1]` seconds more."""
    until = time.monotonic() + timeout
    marked = after is None
    while ws.is_open():
        now = time.monotonic()
        if not marked and after[0] in ws.peek_channel(2):
            marked, until = True, min(until, now + after[1])
        if now >= until:
            return
        ws.update(timeout=until - now)


def exec_tls_context(cfg: Any) -> ssl.SSLContext:
    """The context websocket-client would build from the options kubernetes' create_websocket
    passes it (the kubeconfig's CA, client certificate and verification), built once, not per exec."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog is not None:
        ctx.keylog_filename = keylog
    if cfg.verify_ssl:
        ctx.load_verify_locations(cafile=cfg.ssl_ca_cert)
        # kubernetes passes check_hostname only when assert_hostname is set; websocket-client
        # checks it by default.
        ctx.check_hostname = True if cfg.assert_hostname is None else bool(cfg.assert_hostname)
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cfg.cert_file:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file or None)
    return ctx


def fill_path(path: str, params: dict[str, str] | None) -> str:
    """The path with its {parameters} filled in, each quoted as the kubernetes client does."""
    for key, value in (params or {}).items():
        path = path.replace("{" + key + "}", urllib.parse.quote(str(value), safe=""))
    return path


@dataclass
class KubeReads:
    """The Kubernetes reads of a diagnosis, each counted at its depth, through a `KubeWire`."""

    wire: KubeWire
    engine: Engine
    target: KubeTarget

    # ---- the request wrapper ------------------------------------------------------------
    def get(self, depth: int, path: str, params: dict[str, str] | None = None,
            query: list[tuple[str, Any]] | None = None, raw: bool = False, attempts: int = ATTEMPTS) -> Any:
        self.engine.hit(KUBE_API, depth)
        ans = self._answer(fill_path(path, params), query or [], "text/plain" if raw else "application/json",
                           attempts)
        if not 200 <= ans.status <= 299:
            raise self._classify(ans.status, ans.body, ans.reason)
        if raw:
            return ans.body.decode("utf-8", "replace")
        return api_object(ans.body)  # a proxy's login page, a JSON array, garbage: a failed read

    def _answer(self, path: str, query: list[tuple[str, Any]], accept: str, attempts: int = ATTEMPTS) -> Answer:
        """One GET, retried with backoff on 429/5xx or a reset connection while the deadline allows.

        Only GETs come here (list, get, logs), so a retry can never repeat a change.
        """
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self.engine.count(KUBE_API)
            connect, each_read = self.engine.request_timeout()
            try:
                ans = Answer(*self.wire.get(path, query, accept, (connect, each_read, self.engine.remaining())))
            except Unreachable as exc:
                if attempt == attempts or not _transient(str(exc)) or not self._pause(attempt, None):
                    raise
                continue
            if ans.status not in RETRY_STATUSES or attempt == attempts or not self._pause(attempt, ans.retry_after):
                return ans
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _pause(self, attempt: int, retry_after: float | None) -> bool:
        """Sleep before the next attempt; False when the server's wait or ours would pass the deadline."""
        if retry_after is not None:
            wait = retry_after
        else:
            wait = random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))
        if wait > RETRY_AFTER_MAX_S or wait + 0.2 >= self.engine.remaining():
            return False
        time.sleep(wait)
        return True

    def _classify(self, status: int, body: bytes, reason: str | None) -> Exception:
        message = _status_message(body) or reason or ""
        if status == 401:
            return CollectionError(
                f"the API server {self.target.server} rejected the credentials of context "
                f"{self.target.context!r} (401 Unauthorized): refresh them (for OKE, check that "
                "`oci ce cluster generate-token` works with the kubeconfig's OCI profile)")
        if status == 403:
            return Forbidden(message)
        if status == 404:
            return Gone(message)
        if status == 400:
            return BadRequest(message)
        return Unreachable(f"{status} {message}".strip())

    # ---- reads --------------------------------------------------------------------------
    def service(self, ns: str, name: str, depth: int = 1) -> dict:
        return self.get(depth, "/api/v1/namespaces/{namespace}/services/{name}", {"namespace": ns, "name": name})

    def services(self, ns: str | None, depth: int = 1) -> list[dict]:
        if ns is None:
            return list_items(self.get(depth, "/api/v1/services"))
        return list_items(self.get(depth, "/api/v1/namespaces/{namespace}/services", {"namespace": ns}))

    def endpoints(self, ns: str, name: str, depth: int = 1) -> dict:
        return self.get(depth, "/api/v1/namespaces/{namespace}/endpoints/{name}", {"namespace": ns, "name": name})

    def namespace(self, ns: str, depth: int = 1) -> dict:
        return self.get(depth, "/api/v1/namespaces/{name}", {"name": ns})

    def namespaces(self, depth: int = 1) -> list[dict]:
        return list_items(self.get(depth, "/api/v1/namespaces"))

    def endpoint_slices(self, ns: str, name: str, depth: int = 1) -> list[dict]:
        return list_items(self.get(depth, "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
                                   {"namespace": ns}, [("labelSelector", f"kubernetes.io/service-name={name}")]))

    def listed(self, plural_path: str, ns: str, depth: int = 1) -> list[dict]:
        """Every object of a namespaced kind in `ns`; `plural_path` is the kind's path without the
        namespace part: "/api/v1/pods", "/apis/discovery.k8s.io/v1/endpointslices"."""
        prefix, plural = plural_path.rsplit("/", 1)
        return list_items(self.get(depth, prefix + "/namespaces/{namespace}/" + plural, {"namespace": ns}))

    def pods(self, ns: str, selector: str | None, depth: int) -> list[dict]:
        return list_items(self.get(depth, "/api/v1/namespaces/{namespace}/pods", {"namespace": ns},
                                   [("labelSelector", selector)] if selector else []))

    def node_pods(self, node: str, depth: int) -> list[dict]:
        """The pods that hold resources on a node (what `kubectl describe node` sums), every namespace."""
        return list_items(self.get(depth, "/api/v1/pods", query=[(
            "fieldSelector", f"spec.nodeName={node},status.phase!=Succeeded,status.phase!=Failed")]))

    def nodes(self, depth: int = 1) -> list[dict]:
        return list_items(self.get(depth, "/api/v1/nodes"))

    def events(self, ns: str, depth: int = 1, field_selector: str | None = None) -> list[dict]:
        query = [("fieldSelector", field_selector)] if field_selector else []
        return list_items(self.get(depth, "/api/v1/namespaces/{namespace}/events", {"namespace": ns}, query))

    def replicasets(self, ns: str, depth: int = 1) -> list[dict]:
        return list_items(self.get(depth, "/apis/apps/v1/namespaces/{namespace}/replicasets", {"namespace": ns}))

    def deployments(self, ns: str, depth: int = 1) -> list[dict]:
        return list_items(self.get(depth, "/apis/apps/v1/namespaces/{namespace}/deployments", {"namespace": ns}))

    def pvcs(self, ns: str, depth: int = 1) -> list[dict]:
        return list_items(self.get(depth, "/api/v1/namespaces/{namespace}/persistentvolumeclaims",
                                   {"namespace": ns}))

    def persistent_volume(self, name: str, depth: int) -> dict:
        return self.get(depth, "/api/v1/persistentvolumes/{name}", {"name": name})

    def storage_classes(self, depth: int = 1) -> list[dict]:
        return list_items(self.get(depth, "/apis/storage.k8s.io/v1/storageclasses"))

    def secret(self, ns: str, name: str, depth: int) -> dict:
        return self.get(depth, "/api/v1/namespaces/{namespace}/secrets/{name}", {"namespace": ns, "name": name})

    def configmap(self, ns: str, name: str, depth: int) -> dict:
        return self.get(depth, "/api/v1/namespaces/{namespace}/configmaps/{name}", {"namespace": ns, "name": name})

    def log(self, ns: str, pod: str, container: str, previous: bool, depth: int, attempts: int = ATTEMPTS) -> str:
        query = [("container", container), ("tailLines", LOG_TAIL_LINES), ("limitBytes", LOG_LIMIT_BYTES)]
        if previous:
            query.append(("previous", "true"))
        return self.get(depth, "/api/v1/namespaces/{namespace}/pods/{name}/log", {"namespace": ns, "name": pod},
                        query, raw=True, attempts=attempts)

    def exec(self, ns: str, pod: str, container: str, argv: list[str], timeout: float, depth: int,
             after: tuple[str, float] | None = None) -> ExecResult:
        """Run argv in the container; returns ExecResult (KubeWire.exec says what `after` does)."""
        self.engine.hit(KUBE_API, depth)
        query = [("command", a) for a in argv] + [
            ("container", container), ("stderr", "true"), ("stdin", "false"), ("stdout", "true"), ("tty", "false")]
        path = fill_path("/api/v1/namespaces/{namespace}/pods/{name}/exec", {"namespace": ns, "name": pod})
        return self.wire.exec(path, query, timeout, self.engine.remaining(), after)


# This thread's exec WebSocket settings (its socket timeout, the run's shared TLS context): the
# kubernetes client builds the WebSocket itself and passes neither.
_WS_EXEC = threading.local()


def _bound_websockets(ws_client) -> None:
    """Give the exec WebSocket a socket timeout: the client sets none, so a server that accepts
    the upgrade and then says nothing would hold the thread (and the process exit) forever."""
    import websocket

    if getattr(ws_client.WebSocket, "_okedoctor_bounded", False):
        return

    class BoundedWebSocket(websocket.WebSocket):
        _okedoctor_bounded = True

        def __init__(self, *args, sslopt=None, **kwargs):
            context = getattr(_WS_EXEC, "context", None)
            if context is not None:
                # websocket-client uses a given context as is; server_hostname still applies.
                sslopt = {**(sslopt or {}), "context": context}
            super().__init__(*args, sslopt=sslopt, **kwargs)

        def connect(self, url, **options):
            options.setdefault("timeout", getattr(_WS_EXEC, "value", 30.0))
            return super().connect(url, **options)

    ws_client.WebSocket = BoundedWebSocket


def _read_until(resp: Any, until: float) -> bytes:
    """The whole body, or Unreachable once `until` passes: a server trickling its answer a byte
    at a time never trips a per-read socket timeout."""
    chunks = []
    while True:
        if time.monotonic() > until:
            with contextlib.suppress(Exception):  # the connection is not reusable: drop it
                resp.close()
            raise Unreachable("timed out reading the answer (the server sent it too slowly)")
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read()
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        if not hasattr(resp, "read1"):
            return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the API server sends seconds; an HTTP date is not honoured)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _transient(message: str) -> bool:
    """A connection reset or closed mid-request: worth one more try, unlike refused or timed out."""
    return any(m in message for m in ("Connection reset", "RemoteDisconnected", "Connection aborted",
                                      "without response", "IncompleteRead", "ProtocolError"))


def api_object(data: bytes) -> dict:
    """A 2xx body that must be one API object: anything else (a proxy's HTML login page, a JSON
    array, nesting no API object has) is an answer the read cannot use, like a 5xx."""
    try:
        doc = json.loads(data)
        check_structure(doc, "the answer")
    except (ValueError, RecursionError, UsageError):
        start = data[:40].decode("utf-8", "replace")
        raise Unreachable(f"the answer is not an API object in JSON (it starts {start!r}): a proxy in the "
                          "way, or not an API server") from None
    if not isinstance(doc, dict):
        raise Unreachable(f"the answer is a JSON {type(doc).__name__}, not an API object")
    return doc


def list_items(body: dict) -> list[dict]:
    """Items of a List, each given the apiVersion and kind a List omits (as kubectl get -o yaml does)."""
    kind = str(body.get("kind") or "").removesuffix("List")
    version = body.get("apiVersion", "v1")
    items = body.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Unreachable(f"the answer's items are not a list of API objects ({kind or 'no'} List)")
    out = []
    for item in items:
        item.setdefault("apiVersion", version)
        item.setdefault("kind", kind)
        out.append(item)
    return out


def _status_message(body: Any) -> str:
    if not body:
        return ""
    try:
        doc = json.loads(body)
    except (TypeError, ValueError):
        return str(body)[:200]
    return doc.get("message", "") if isinstance(doc, dict) else ""


def _one_line(exc: Any) -> str:
    text = str(exc).strip()
    # urllib3 wraps the cause: keep the most telling part.
    for marker in ("Connection refused", "timed out", "Name or service not known", "certificate verify failed",
                   "Connection reset", "No route to host", "RemoteDisconnected"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else type(exc).__name__
