"""What every simulated endpoint shares: the request log, latency and fault injection."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from okedoctor.errors import UsageError

APIS = ("kubernetes", "oci", "internet")


# What a faulty server or proxy does besides answering a status (`mode:`).
MODES = ("reset", "hang", "trickle-headers", "trickle-body", "html", "garbage", "redirect")
# An HTML page such as a proxy's login screen answers 200 where JSON was expected.
HTML_BODY = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=/login>"
             b"<input name=user><input type=password name=pw></form></body></html>")
GARBAGE_BODY = bytes(range(256)) * 4
FAULT_KEYS = ("api", "path", "status", "delay_ms", "drop", "times", "mode", "retry_after", "trickle_ms",
              "location")


@dataclass
class Fault:
    """Requests of `api` whose path matches `path` get `status`, after `delay_ms`, or are dropped.

    `mode` makes the server misbehave as proxies and overloaded API servers do: `reset` (RST
    after reading the request), `hang` (read it, never answer), `trickle-headers` /
    `trickle-body` (one byte every `trickle_ms`, for as long as the client listens), `html` /
    `garbage` (200 with a login page or binary noise), `redirect` (302 to `location`).
    """

    api: str
    path: re.Pattern[str]
    status: int | None = None
    delay_ms: int = 0
    drop: bool = False
    times: int | None = None  # None: every matching request
    denied: str | None = None  # the `collection` fact this fault replays (see denials.py)
    mode: str | None = None
    retry_after: int | None = None  # seconds, sent as Retry-After with `status`
    trickle_ms: int = 200
    location: str = "http://127.0.0.2:9/"  # another host, still on loopback

    @classmethod
    def from_dict(cls, raw: Any, where: str = "fault") -> Fault:
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: expected a mapping with api, path and status/delay_ms/drop/mode")
        unknown = set(raw) - set(FAULT_KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        api = raw.get("api")
        if api not in APIS:
            raise UsageError(f"{where}: api must be one of {', '.join(APIS)}, not {api!r}")
        try:
            pattern = re.compile(str(raw.get("path", ".*")))
        except re.error as exc:
            raise UsageError(f"{where}: path is not a valid regex: {exc}") from None
        try:
            status = int(raw["status"]) if raw.get("status") is not None else None
            delay = int(raw.get("delay_ms") or 0)
            times = int(raw["times"]) if raw.get("times") is not None else None
            retry_after = int(raw["retry_after"]) if raw.get("retry_after") is not None else None
            trickle_ms = int(raw.get("trickle_ms") or 200)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: status, delay_ms, times, retry_after and trickle_ms must be integers") \
                from None
        drop = raw.get("drop", False)
        if not isinstance(drop, bool):
            drop = str(drop).lower() in ("1", "true", "yes")
        mode = raw.get("mode")
        if mode is not None and mode not in MODES:
            raise UsageError(f"{where}: mode must be one of {', '.join(MODES)}, not {mode!r}")
        if status is not None and not 100 <= status <= 599:
            raise UsageError(f"{where}: status {status} is not an HTTP status code")
        if status is None and not delay and not drop and mode is None:
            raise UsageError(f"{where}: give a status, a delay_ms, a mode or drop: true")
        if trickle_ms < 1:
            raise UsageError(f"{where}: trickle_ms must be at least 1")
        return cls(api, pattern, status, delay, drop, times, mode=mode, retry_after=retry_after,
                   trickle_ms=trickle_ms, location=str(raw.get("location") or cls.location))

    @classmethod
    def parse_spec(cls, spec: str) -> Fault:
        """`api=oci,path=/networkLoadBalancers/.*,status=503,times=2` (the --fault flag)."""
        parts = re.split(r",(?=(?:" + "|".join(FAULT_KEYS) + ")=)", spec)
        raw: dict[str, str] = {}
        for part in parts:
            key, sep, value = part.partition("=")
            if not sep:
                raise UsageError(f"--fault {spec!r}: expected KEY=VALUE pairs separated by commas")
            raw[key.strip()] = value
        return cls.from_dict(raw, where=f"--fault {spec!r}")


class Faults:
    def __init__(self, faults: list[Fault]) -> None:
        self._faults = faults
        self._lock = threading.Lock()

    def take(self, api: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.api != api or not fault.path.search(path):
                    continue
                if fault.times is not None:
                    if fault.times <= 0:
                        continue
                    fault.times -= 1
                return fault
        return None


@dataclass
class Recorder:
    """sim.requests, and the --request-log file (one JSON object per line)."""

    log_path: Path | None = None
    keep: bool = True  # False for a long-running `sim serve`: the log file is the record
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, api: str, method: str, path: str, query: str, status: int | None, **extra: Any) -> None:
        entry: dict[str, Any] = {"api": api, "method": method, "path": path, "query": query, "status": status}
        entry.update(extra)
        entry["time"] = round(time.time(), 3)
        with self._lock:
            if self.keep:
                self.requests.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry) + "\n")


@dataclass
class Behaviour:
    """What every listener of one Simulator applies before answering."""

    recorder: Recorder
    faults: Faults
    latency_ms: int = 0
    # Set when the simulator stops: ends hanging and trickling answers.
    stopped: threading.Event = field(default_factory=threading.Event)


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Clients open many connections at once (kubectl discovery, concurrent collectors).
    request_queue_size = 64

    def __init__(self, handler: type[BaseHTTPRequestHandler], behaviour: Behaviour, app: Any,
                 port: int = 0) -> None:
        self.behaviour = behaviour
        self.app = app
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        with self._conns_lock:
            self._conns.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Stop serving and end the kept-alive connections, so no handler thread lingers."""
        self.shutdown()
        self.server_close()
        with self._conns_lock:
            conns = list(self._conns)
            self._conns.clear()
        for conn in conns:
            _hard_close(conn)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-answer (a timeout, a dropped fault) is normal here.
        pass


class SimHandler(BaseHTTPRequestHandler):
    """Base handler: subclasses set `api` and implement `route()`; reply() records the status."""

    api = "kubernetes"
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK would add ~40 ms to every kept-alive request.
    disable_nagle_algorithm = True
    server: SimServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces the stderr access log

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    @property
    def url_path(self) -> str:
        return urlsplit(self.path).path

    @property
    def url_query(self) -> str:
        return urlsplit(self.path).query

    def _dispatch(self) -> None:
        self._recorded = False
        self._extra: dict[str, Any] = {}
        self._extra_headers: dict[str, str] = {}
        behaviour = self.server.behaviour
        if behaviour.latency_ms:
            time.sleep(behaviour.latency_ms / 1000)
        self._drain_body()
        fault = behaviour.faults.take(self.api, self.url_path)
        if fault is not None:
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000)
            if fault.drop:
                self.record(None, fault="drop")
                self.close_connection = True
                _hard_close(self.connection)
                return
            if fault.mode is not None:
                self.misbehave(fault)
                return
            if fault.status is not None:
                self._extra["denied" if fault.denied else "fault"] = fault.denied or fault.status
                if fault.retry_after is not None:
                    self._extra_headers = {"Retry-After": str(fault.retry_after)}
                self.fault_response(fault.status)
                return
        try:
            self.route()
        except OSError:
            raise  # the client went away; socketserver closes the connection
        except Exception as exc:  # a simulator bug: answer 500 and say so, rather than hang up
            message = f"okedoctor sim: internal error serving {self.command} {self.url_path}: " \
                      f"{type(exc).__name__}: {exc}"
            print(message, file=sys.stderr)
            if not self._recorded:
                self.reply(500, message.encode(), "text/plain; charset=utf-8")

    def misbehave(self, fault: Fault) -> None:
        """Answer as a broken server or proxy would (see Fault)."""
        self.record(None if fault.mode in ("reset", "hang") or fault.mode.startswith("trickle") else
                    (302 if fault.mode == "redirect" else 200), fault=fault.mode)
        self.close_connection = True
        stopped = self.server.behaviour.stopped
        if fault.mode == "reset":
            _reset(self.connection)
        elif fault.mode == "hang":
            stopped.wait()
        elif fault.mode == "trickle-headers":
            self._trickle(b"HTTP/1.1 200 OK\r\nX-Trickle: ", b"a", fault.trickle_ms, stopped)
        elif fault.mode == "trickle-body":
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1073741824\r\n\r\n{\"items\": [")
            self._trickle(head, b" ", fault.trickle_ms, stopped)
        elif fault.mode == "redirect":
            self._raw(302, b"", "text/plain", {"Location": fault.location + self.path.lstrip("/")})
        else:
            self._raw(200, HTML_BODY if fault.mode == "html" else GARBAGE_BODY,
                      "text/html" if fault.mode == "html" else "application/json", {})

    def _raw(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, head: bytes, filler: bytes, every_ms: int, stopped: threading.Event) -> None:
        """`head` at once, then `filler` every `every_ms` until the client hangs up or the simulator stops."""
        try:
            self.wfile.write(head)
            while not stopped.wait(every_ms / 1000):
                self.wfile.write(filler)
                self.wfile.flush()
        except OSError:
            return

    def _drain_body(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # a chunked body is not read: do not parse it as a request
        length = int(self.headers.get("Content-Length") or 0)
        self.request_body = self.rfile.read(length) if length > 0 else b""

    def route(self) -> None:  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def fault_response(self, status: int) -> None:  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def record(self, status: int | None, **extra: Any) -> None:
        if self._recorded:
            return
        self._recorded = True
        self.server.behaviour.recorder.record(
            self.api, self.command, self.url_path, self.url_query, status, **{**self._extra, **extra})

    def reply(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**(headers or {}), **self._extra_headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        self.reply(status, json.dumps(doc).encode(), "application/json", headers)


def _reset(conn: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0): the client sees "connection reset by peer"."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


def _hard_close(conn: socket.socket) -> None:
    """Close so the peer sees the connection end with no answer."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
