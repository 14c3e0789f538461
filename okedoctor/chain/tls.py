"""TLS at the edge: the certificates the public addresses served and the listeners' protocols.

The certificate comes from the internet probe (`live.internet[ADDR:PORT].tls`); for a URL,
the address its name resolved to on the URL's port, for a Service every probed public
address. Time is the snapshot's `metadata.capturedAt`, so a file gives the same verdict
whenever it is read. Read-only helpers over Facts; no check lives here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from okedoctor.chain import route as routes
from okedoctor.chain.coverage import probed_addresses
from okedoctor.check import CheckSkipped
from okedoctor.facts import LIVE_INTERNET, Facts, per_target

Obj = dict[str, Any]

EXPIRY_WARNING_DAYS = 14
CERT_EXPIRED = "OKD-TLS-001"


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def reference_time(facts: Facts) -> dt.datetime:
    """When the facts were observed: `metadata.capturedAt`, else now (a file without it is fresh)."""
    return parse_time((facts.snapshot.metadata or {}).get("capturedAt")) or dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Served:
    """What one public address served: its certificate (None when it spoke plain HTTP)."""

    address: str  # ip:port
    seen: Obj
    cert: Obj | None  # the `tls` mapping; {} when the probe only recorded that TLS was spoken
    host: str | None  # the name the client asked for (the URL's host), None for a Service target

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])


def _served(address: str, seen: Obj, host: str | None) -> Served:
    tls = seen.get("tls")
    cert = tls if isinstance(tls, dict) else ({} if tls else None)
    return Served(address, seen, cert, host)


@per_target
def served(facts: Facts) -> list[Served]:
    """Every edge address a client reached, with what it served."""
    walk = routes.walk(facts)
    if walk is not None:
        if not walk.address:
            return []
        address = f"{walk.address}:{walk.url.port}"
        seen = facts.internet(address)
        return [_served(address, seen, walk.url.host)] if seen is not None else []
    return [_served(a, seen, None) for a, seen in probed_addresses(facts)]


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125: exact, or a leftmost `*` label standing for exactly one label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def covers(cert: Obj, host: str) -> bool:
    names = list(cert.get("sans") or [])
    if not names:  # only without SANs does a client fall back to the subject's CN
        subject = str(cert.get("subject") or "")
        names = [p.split("=", 1)[1] for p in subject.split(",") if p.strip().upper().startswith("CN=")]
    return any(name_matches(n.strip(), host) for n in names)


def is_expiry_error(message: str | None) -> bool:
    return bool(message) and "expired" in str(message).lower()


def is_name_error(message: str | None) -> bool:
    text = str(message or "").lower()
    return "hostname mismatch" in text or "doesn't match" in text or "not valid for" in text


def require_source(facts: Facts, configured: bool) -> None:
    """A TLS check judges what the probe met and what the L7 listeners are configured with; with
    neither, it did not run, for the probe's reason (its kind kept: denied is not 'not observed')."""
    gap = facts.unavailable(LIVE_INTERNET)
    if gap and not configured:
        raise CheckSkipped(gap.reason, gap.kind)


def expiry(cert: Obj, now: dt.datetime) -> tuple[str, bool] | None:
    """(notAfter as printed, expired) when the certificate expired or expires within the warning window."""
    not_after = parse_time(cert.get("notAfter"))
    if not_after is None or not_after - now > dt.timedelta(days=EXPIRY_WARNING_DAYS):
        return None
    return not_after.strftime("%Y-%m-%dT%H:%M:%SZ"), not_after <= now
