"""The URL a user pages about (`https://shop.example.com/cart`), split the way a client uses it.

A client resolves the host, connects to the port (the scheme's when none is given), sends the
host in SNI and the Host header, and the ingress controller matches the path. Nothing here
touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from okedoctor.errors import UsageError

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Url:
    scheme: str
    host: str
    port: int
    path: str

    @property
    def text(self) -> str:
        default = _DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{self.host}{'' if default else f':{self.port}'}{self.path}"


def looks_like_url(text: str) -> bool:
    """`https://...`/`http://...`, or a bare host name (it has a dot and no type prefix)."""
    if "://" in text:
        return True
    head = text.split("/", 1)[0]
    return "." in head and not head.startswith(".")


def parse_url(text: str) -> Url:
    """`https://host/path`, `http://host:8080/`, or `host[/path]` (https assumed); one-line error otherwise."""
    raw = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"URL {text!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UsageError(f"URL {text!r}: only http:// and https:// are diagnosed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UsageError(f"URL {text!r} names no host")
    return Url(scheme, host, port or _DEFAULT_PORTS[scheme], parts.path or "/")
