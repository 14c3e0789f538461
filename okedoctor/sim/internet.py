"""The internet side: each public address of `live.internet` becomes a loopback listener.

{status, body} answers HTTP (HTTPS with the simulator's certificate on port 443); {error: refused}
is a bound port that is not listening (the kernel refuses); {error: timeout} never completes the
TCP handshake, as when a security list, NSG or route drops the packets (its accept queue is kept
full, so the kernel drops every SYN; nothing reaches the simulator, so nothing is recorded);
{error: reset} accepts, reads the request and resets the connection; {error: tls} answers
a TLS client in plain text, so its handshake fails. Any other error (an exception name a snapshot
recorded) cannot be replayed: that address gets no listener and no redirect.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from okedoctor.sim.edgecerts import EdgeCerts
from okedoctor.sim.httpbase import Behaviour, SimHandler, SimServer

RAW_ERRORS = ("refused", "timeout", "reset", "tls")


class InternetHandler(SimHandler):
    api = "internet"

    def route(self) -> None:
        ans = self.server.app
        # An answer that depends on the name asked for (Host header / SNI): the entry's `hosts`.
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower() if "]" not in (
            self.headers.get("Host") or "") else ""
        ans = ((ans.get("hosts") or {}).get(host)) or ans
        status = int(ans.get("status", 200))
        body = "" if ans.get("body") is None else str(ans["body"])
        # The Server header is part of the answer (who wrote it: nginx, envoy): the file's, else none.
        self._server = str({str(k).lower(): v for k, v in (ans.get("headers") or {}).items()}.get("server") or "")
        self.reply(status, body.encode(), "text/plain; charset=utf-8")

    def version_string(self) -> str:
        return getattr(self, "_server", "")

    def fault_response(self, status: int) -> None:
        self.reply(status, b"", "text/plain; charset=utf-8")


@dataclass
class RawListener:
    """A listener for refused/timeout/reset answers, which no HTTP server can give."""

    kind: str
    address: str
    behaviour: Behaviour
    bind_port: int = 0
    sock: socket.socket = field(init=False)
    held: list[socket.socket] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.bind_port))
        if self.kind == "timeout":
            self._drop_every_syn()
        elif self.kind != "refused":
            self.sock.listen(16)
            self.sock.settimeout(0.2)
            threading.Thread(target=self._accept, name=f"sim-internet-{self.kind}", daemon=True).start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _drop_every_syn(self) -> None:
        """A backlog of 0 with one connection queued and never accepted: Linux drops further SYNs,
        so a client's connect() hangs until its own timeout, as behind a dropping firewall."""
        self.sock.listen(0)
        filler = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        self.held.append(filler)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.behaviour.recorder.record("internet", "", self.address, "", None, error=self.kind)
            if self.kind == "tls":
                threading.Thread(target=_not_tls, args=(conn,), daemon=True).start()
            else:
                threading.Thread(target=_reset, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self.stopped.set()
        for conn in [*self.held, self.sock]:
            with contextlib.suppress(OSError):
                # shutdown wakes a thread blocked in accept(): close alone leaves the port listening
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()


def _not_tls(conn: socket.socket) -> None:
    """A TLS client meets a plain-HTTP answer: its handshake fails, as on a port without TLS."""
    conn.settimeout(1.0)
    with contextlib.suppress(OSError):
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    conn.close()


def _reset(conn: socket.socket) -> None:
    conn.settimeout(1.0)
    with contextlib.suppress(OSError):
        conn.recv(65536)
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


@dataclass
class Internet:
    behaviour: Behaviour
    servers: list[SimServer] = field(default_factory=list)
    raw: list[RawListener] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)
    by_address: dict[str, SimServer | RawListener] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None

    edge: EdgeCerts | None = None

    def start(self, internet: dict[str, Any], tls: ssl.SSLContext, edge: EdgeCerts | None = None) -> None:
        self.tls, self.edge = tls, edge
        for address, ans in internet.items():
            self._listen(address, ans if isinstance(ans, dict) else {}, 0)

    def _listen(self, address: str, ans: dict[str, Any], port: int) -> None:
        if "error" in ans and ans["error"] not in RAW_ERRORS:
            return  # an error the file names but cannot be replayed: the address is not served
        if "error" in ans:
            raw = RawListener(str(ans["error"]), address, self.behaviour, port)
            self.raw.append(raw)
            self.by_address[address] = raw
            port = raw.port
        else:
            server = SimServer(InternetHandler, self.behaviour, ans, port)
            if isinstance(ans.get("tls"), dict) and self.edge is not None:
                server.socket = self.edge.context(ans["tls"]).wrap_socket(
                    server.socket, server_side=True, do_handshake_on_connect=False)
            elif (address.rsplit(":", 1)[-1] == "443" or ans.get("tls") is True) and self.tls is not None:
                server.socket = self.tls.wrap_socket(server.socket, server_side=True,
                                                     do_handshake_on_connect=False)
            threading.Thread(target=server.serve_forever, args=(0.05,), name=f"sim-internet-{address}",
                             daemon=True).start()
            self.servers.append(server)
            self.by_address[address] = server
            port = server.port
        self.redirects[address] = f"127.0.0.1:{port}"

    def answer(self, address: str, ans: dict[str, Any]) -> None:
        """Serve a new answer on the address's port (the redirect clients hold stays right)."""
        old = self.by_address.pop(address, None)
        if old is None:
            return
        port = old.port
        if isinstance(old, RawListener):
            old.close()
            self.raw.remove(old)
        else:
            old.close_all()
            self.servers.remove(old)
        for _ in range(20):  # the old socket may need a moment to leave the port
            try:
                self._listen(address, ans, port)
                return
            except OSError:
                time.sleep(0.05)
        self._listen(address, ans, port)

    def close(self) -> None:
        for server in self.servers:
            server.close_all()
        for raw in self.raw:
            raw.close()
        self.servers.clear()
        self.raw.clear()
