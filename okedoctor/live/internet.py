"""The outside view: connect to each public LB address and listener port and GET /.

Safety: when a redirect map is set (OKEDOCTOR_INTERNET_REDIRECT, "ip:port=127.0.0.1:p,..."),
every connection goes to the mapped loopback address and an address missing from the map is
never contacted. Set but empty is an empty map: nothing is contacted. Only an unset variable
(None) means "no map: probe the public addresses themselves". The simulator always sets it,
empty when the file has no `live.internet` entry it can serve.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from okedoctor.certinfo import describe_der
from okedoctor.errors import UsageError
from okedoctor.live.redact import redact
from okedoctor.probe_scripts import BODY_LIMIT

# How long a public address may take before it counts as a timeout (issue #15; documented in
# docs/live-diagnosis.md), in two parts:
# - CONNECT_WAIT for the TCP handshake. An LB completes it itself (an NLB's backend node does)
#   within one round trip, and the longest round trips between continents on the public internet
#   are about 0.3 s; a security list, NSG or route that drops the packets never completes it.
# - INTERNET_WAIT for the answer once connected: the round trip plus the app's own time, which a
#   short wait must not cut (a slow honest answer is not a timeout).
# So a dropped address costs a diagnosis half a second, not its whole --timeout.
CONNECT_WAIT = 0.5
INTERNET_WAIT = 1.0


def parse_redirect(text: str | None) -> dict[str, tuple[str, int]] | None:
    """"203.0.113.10:80=127.0.0.1:40123,..." -> {"203.0.113.10:80": ("127.0.0.1", 40123)}.

    None (unset) -> None: no map. "" (set, empty) -> {}: a map that lets nothing through.
    """
    if text is None:
        return None
    out: dict[str, tuple[str, int]] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        src, sep, dst = item.partition("=")
        host, _, port = dst.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise UsageError(f"bad internet redirect {item!r}: expected ip:port=127.0.0.1:port")
        if not ipaddress.ip_address(host.strip("[]")).is_loopback:
            raise UsageError(f"internet redirect {item!r} must point at a loopback address")
        out[src.strip()] = (host, int(port))
    return out


def is_public(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    # Documentation ranges count as public: scenarios use them for public LB addresses.
    doc_nets = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    return addr.is_global or any(addr in n for n in doc_nets)


def probe_address(address: str, timeout: float, redirect: dict[str, tuple[str, int]] | None,
                  tls: bool) -> dict[str, Any] | None:
    """GET / at ip:port; None when the address may not be contacted (not in the redirect map)."""
    import httpx

    if redirect is not None:
        if address not in redirect:
            return None
        host, port = redirect[address]
    else:
        host, _, p = address.rpartition(":")
        port = int(p)
    scheme = "https" if tls else "http"
    hostpart = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{hostpart}:{port}/"
    started = time.perf_counter()
    out: dict[str, Any] = {}
    try:
        waits = httpx.Timeout(timeout, connect=min(CONNECT_WAIT, timeout))
        with httpx.Client(verify=False, timeout=waits, trust_env=False, follow_redirects=False) as client:
            resp = client.get(url, headers={"Host": address, "User-Agent": "okedoctor"})
            out = {"status": resp.status_code, "body": redact(resp.text[:BODY_LIMIT])}
            if tls:
                out["tls"] = True
    except httpx.ConnectError as exc:
        text = str(exc).lower()
        if "refused" in text:
            out = {"error": "refused"}
        elif "reset" in text:
            out = {"error": "reset"}
        elif tls and ("ssl" in text or "tls" in text or "handshake" in text):
            out = {"error": "tls", "tls": False}
        else:  # no route, host unreachable: from outside this looks like a silent drop
            out = {"error": "timeout"}
    except httpx.TimeoutException:
        out = {"error": "timeout"}
    except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
        out = {"error": "reset"}
    except httpx.HTTPError as exc:
        out = {"error": type(exc).__name__}
    out["elapsedMs"] = int((time.perf_counter() - started) * 1000)
    return out


def _connect_to(address: str, redirect: dict[str, tuple[str, int]] | None) -> tuple[str, int] | None:
    if redirect is not None:
        return redirect.get(address)
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _trusting(ca_file: str):
    """A verifying client context that trusts only `ca_file` (the simulator's stand-in for the
    system's CAs); an empty file trusts nothing."""
    import ssl
    from pathlib import Path

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if Path(ca_file).is_file() and Path(ca_file).stat().st_size:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


def peer_certificate(target: tuple[str, int], host: str, timeout: float, ca_file: str | None) -> dict | None:
    """The certificate `target` serves for `host` (SNI), and what a verifying client says of it;
    None when it speaks no TLS."""
    import socket
    import ssl

    def handshake(ctx: ssl.SSLContext) -> bytes:
        with socket.create_connection(target, timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=host) as conn:
            return conn.getpeercert(binary_form=True) or b""

    verifying = ssl.create_default_context() if ca_file is None else _trusting(ca_file)
    try:
        return describe_der(handshake(verifying), None)
    except ssl.SSLCertVerificationError as exc:
        error = str(exc.verify_message)
    except (ssl.SSLError, OSError):
        return None
    lenient = ssl.create_default_context()
    lenient.check_hostname, lenient.verify_mode = False, ssl.CERT_NONE
    try:
        return describe_der(handshake(lenient), error)
    except (ssl.SSLError, OSError):
        return None


def probe_url(address: str, host: str, scheme: str, path: str, timeout: float,
              redirect: dict[str, tuple[str, int]] | None, ca_file: str | None) -> dict[str, Any] | None:
    """What a client asking for `scheme://host/path` at `address` met: the answer, and for https
    the certificate. None when the address may not be contacted (not in the redirect map)."""
    import httpx

    target = _connect_to(address, redirect)
    if target is None:
        return None
    out: dict[str, Any] = {}
    if scheme == "https":
        cert = peer_certificate(target, host, timeout, ca_file)
        if cert is not None:
            out["tls"] = cert
    hostpart = f"[{target[0]}]" if ":" in target[0] else target[0]
    try:
        with httpx.Client(verify=False, timeout=timeout, trust_env=False, follow_redirects=False) as client:
            resp = client.get(f"{scheme}://{hostpart}:{target[1]}{path}",
                              headers={"Host": host, "User-Agent": "okedoctor"})
            out.update(status=resp.status_code, body=redact(resp.text[:BODY_LIMIT]))
            # Only the Server header is kept: it names who wrote the answer; others may carry cookies.
            if resp.headers.get("server"):
                out["headers"] = {"server": redact(resp.headers["server"])}
    except httpx.HTTPError as exc:
        out["error"] = type(exc).__name__
    return out
