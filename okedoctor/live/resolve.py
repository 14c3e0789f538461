"""Resolve the URL's name the way a client would, or through the simulator's answers.

OKEDOCTOR_DNS (`name=addr addr,name=addr`, what `okedoctor sim serve` exports) replaces the
machine's resolver entirely: a name it does not list does not resolve, and no query is sent.
Only when it is unset is the system resolver asked (A and AAAA, in its order).
"""

from __future__ import annotations

import os
import socket

DNS_ENV = "OKEDOCTOR_DNS"


def parse_dns(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, _, answers = item.partition("=")
        out[name.strip().rstrip(".").lower()] = answers.split()
    return out


def resolve(host: str) -> list[str]:
    """The addresses `host` resolves to; [] for a name that does not resolve (NXDOMAIN)."""
    setting = os.environ.get(DNS_ENV)
    if setting is not None:
        return parse_dns(setting).get(host.rstrip(".").lower(), [])
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in out:
            out.append(addr)
    return out
