"""`--webhook URL`: post the changes as a Slack-compatible message (text plus blocks).

A failed post is reported on stderr and never changes the diagnosis exit code: the report
is the product, the notification a convenience.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from okedoctor.errors import UsageError
from okedoctor.fleet.model import FleetReport
from okedoctor.safeout import printable

MAX_ATTEMPTS = 3
BLOCK_TEXT_LIMIT = 2900  # Slack refuses section text over 3000 characters


@dataclass(frozen=True)
class PostResult:
    ok: bool
    attempts: int
    detail: str


def _mrkdwn(text: Any) -> str:
    """Text as Slack shows it literally: `<...>` would be a link or an @channel mention, and a
    title read back from a state file may never have been cleaned."""
    return printable(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code_link(f) -> str:
    """The code linked to its docs in Slack's `<url|text>` syntax; a URL that could break out of
    it (a plugin's docs_url with `|`, `>` or a space) leaves the code unlinked."""
    if f.docs and re.fullmatch(r"https?://[^\s<>|]+", f.docs):
        return f"<{f.docs}|{_mrkdwn(f.code)}>"
    return f"`{_mrkdwn(f.code)}`"


def build_message(fleet: FleetReport, cluster: str) -> dict[str, Any]:
    changes = fleet.changes
    cluster = _mrkdwn(cluster)
    counts = {v: sum(1 for r in fleet.services if r.verdict.value == v) for v in ("failure", "warning", "unknown")}
    headline = (f"okedoctor {cluster}: {fleet.verdict.value.upper()} - {len(fleet.services)} services, "
                f"{counts['failure']} failing, {counts['warning']} warning, {counts['unknown']} unknown")
    lines = []
    if changes is not None:
        for svc, findings in sorted(changes.new.items()):
            for f in findings:
                lines.append(f":red_circle: NEW {_mrkdwn(svc)}: {_code_link(f)} [{f.hop.value}] {_mrkdwn(f.title)}")
        for svc, gone in sorted(changes.resolved.items()):
            for f in gone:
                note = f" ({_mrkdwn(f['note'])})" if f.get("note") else ""
                lines.append(f":large_green_circle: RESOLVED {_mrkdwn(svc)}: `{_mrkdwn(f['code'])}` "
                             f"{_mrkdwn(f['title'])}{note}")
        # Still open but not checked by this run: said so, never announced as resolved.
        for svc, kept in sorted(changes.unverified.items()):
            by_reason: dict[str, list[str]] = {}
            for f in kept:
                by_reason.setdefault(_mrkdwn(f["reason"]), []).append(f"`{_mrkdwn(f['code'])}`")
            for reason, codes in by_reason.items():
                lines.append(f":white_circle: NOT VERIFIED {_mrkdwn(svc)}: {', '.join(codes)} still open, {reason}")
    body = "\n".join(lines) or "No change since the last run."
    if len(body) > BLOCK_TEXT_LIMIT:
        body = body[:BLOCK_TEXT_LIMIT].rsplit("\n", 1)[0] + "\n…"
    return {
        "text": headline,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        ],
    }


def check_url(url: str) -> str:
    """The webhook URL, refused before the report runs when it is not an http(s) URL with a host."""
    from urllib.parse import urlsplit

    import httpx

    # Neither the URL nor a parser's message quoting it is echoed: a webhook URL carries its secret.
    try:
        parts = urlsplit(url)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise UsageError("--webhook: not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--webhook: expected an http:// or https:// URL with a host")
    return url


def post(url: str, message: dict[str, Any], timeout: float = 10.0) -> PostResult:
    """POST with timeouts; retry 5xx, 429 and transport errors a bounded number of times."""
    import httpx

    detail = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            resp = httpx.post(url, json=message, timeout=timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            detail = f"{type(exc).__name__}: {exc}"
        else:
            if resp.status_code < 300:
                return PostResult(True, attempt, f"HTTP {resp.status_code}")
            detail = f"HTTP {resp.status_code}: {resp.text[:200]}"
            if resp.status_code < 500 and resp.status_code != 429:
                return PostResult(False, attempt, detail)
        if attempt < MAX_ATTEMPTS:
            time.sleep(0.2 * 2 ** (attempt - 1))
    return PostResult(False, MAX_ATTEMPTS, detail)
