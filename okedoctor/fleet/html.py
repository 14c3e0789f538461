"""`okedoctor report -o html`: one self-contained page (no script, no external CSS, font or
image) for a status screen or a mail attachment: the fleet table failures first with a "since"
column (from `--state`), then each Service with a problem: its chain drawn, root causes with
evidence and fixes, consequences folded, what was silenced.

Every value is escaped; ids and data- attributes name Services, hops and codes so a reader (or
a test in a headless browser) can find them.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import IO, Any

from okedoctor.fleet.model import FleetReport, service_key
from okedoctor.fleet.render import _root, change_lines, since_text
from okedoctor.model import CHAIN, Finding, Report
from okedoctor.render.text import _LABEL, _MARK, key_evidence

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2125;background:#f6f7f9}
header,main,footer{max-width:1180px;margin:0 auto;padding:12px 20px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:6px 0}h3{font-size:15px;margin:4px 0}
.meta{color:#5b6570}code,pre{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#1d2125;color:#e6edf3;padding:8px 10px;border-radius:6px;white-space:pre;overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#eef0f3}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;color:#fff}
.v-failure{background:#c62828}.v-unknown{background:#7b1fa2}.v-warning{background:#b26a00}.v-ok{background:#2e7d32}
tr.v-failure td:first-child{border-left:6px solid #c62828}tr.v-unknown td:first-child{border-left:6px solid #7b1fa2}
tr.v-warning td:first-child{border-left:6px solid #b26a00}tr.v-ok td:first-child{border-left:6px solid #2e7d32}
tr.v-failure,tr.v-unknown,tr.v-warning,tr.v-ok{background:#fff}
section.service{background:#fff;margin:18px 0;padding:10px 16px;border-radius:8px;border:1px solid #e3e6ea}
ol.chain{list-style:none;display:flex;flex-wrap:wrap;gap:4px;padding:0;margin:8px 0}
ol.chain li{padding:4px 10px;border-radius:6px;background:#eef0f3;font-weight:600}
ol.chain li+li::before{content:"\\2192";margin-right:8px;color:inherit;opacity:.6;font-weight:400}
li.s-ok{color:#2e7d32}li.s-error{color:#fff;background:#c62828 !important}
li.s-warning{color:#fff;background:#b26a00 !important}li.s-unknown{color:#fff;background:#7b1fa2 !important}
li.s-notApplicable,li.s-notReached{color:#8a949e}
ol.chain.mini{margin:0;flex-wrap:nowrap}ol.chain.mini li{padding:0 6px;font-size:13px}
ol.chain.mini li+li::before{margin-right:4px}
.finding{border-left:4px solid #c62828;padding:2px 12px;margin:10px 0}
.finding.sev-warning{border-color:#b26a00}.finding.sev-info{border-color:#0277bd}
dl.evidence{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
dl.evidence dt{color:#5b6570}dl.evidence dd{margin:0;font-family:ui-monospace,Menlo,monospace;font-size:13px;
word-break:break-all}
.notes{color:#7b1fa2}
"""


def render_fleet(fleet: FleetReport, out: IO[str], only_changes: bool = False) -> None:
    ctx = fleet.context
    verdict = fleet.verdict.value
    title = f"okedoctor report: {ctx.get('kubeContext', '?')} is {verdict.upper()}"
    body = [_header(fleet, title)]
    body.append("<main>")
    if fleet.changes is not None:
        body.append('<section id="changes"><h2>Changes</h2><ul>')
        body += [f"<li>{_e(line.strip())}</li>" for line in change_lines(fleet.changes)]
        body.append("</ul></section>")
    if fleet.nothing_to_check:
        body.append(f'<p id="nothing-to-check">{_e(fleet.nothing_to_check)}</p>')
    elif not only_changes:
        body.append(_table(fleet))
        body += [_service(r) for r in fleet.worst_first() if _matters(r)]
    body.append("</main>")
    summary = ", ".join(f"{v} {n}" for v, n in fleet.to_dict()["summary"].items() if n) or "nothing checked"
    body.append(f'<footer><p id="verdict">verdict: {_e(verdict)} (exit {fleet.verdict.exit_code}) '
                f'&middot; {_e(summary)}</p></footer>')
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n")
    out.write("\n".join(body))
    out.write("\n</body></html>\n")


def _matters(r: Report) -> bool:
    """A Service gets its own section when something is wrong, unknown or silenced."""
    return bool(r.root_causes or [f for f in r.findings if f.severity.value != "info"] or r.silenced
                or r.verdict.value != "ok")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(key: str) -> str:
    return "svc-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _header(fleet: FleetReport, title: str) -> str:
    ctx = fleet.context
    when = datetime.now(UTC).isoformat(timespec="seconds")
    scope = f"namespace {fleet.scope}" if fleet.scope is not None else "all namespaces"
    silenced = sum(len(r.silenced) for r in fleet.services)
    extra = f" &middot; {silenced} finding(s) silenced" if silenced else ""
    return (f'<header><h1>{_e(title.split(" is ")[0])} <span class="verdict v-{_e(fleet.verdict.value)}">'
            f'{_e(fleet.verdict.value)}</span></h1>'
            f'<p class="meta">context {_e(ctx.get("kubeContext", "?"))} &middot; cluster {_e(ctx.get("cluster", "?"))}'
            f' &middot; region {_e(ctx.get("region", "?"))} &middot; {_e(scope)} &middot; '
            f'<time datetime="{when}">{when}</time>{extra}</p></header>')


def _table(fleet: FleetReport) -> str:
    since = fleet.since is not None
    rows = ['<section id="fleet"><h2>Services</h2><table id="fleet-table"><thead><tr><th>Service</th>'
            f'<th>Verdict</th>{"<th>Since</th>" if since else ""}<th>Chain</th><th>Hop</th><th>Root cause</th></tr>'
            "</thead><tbody>"]
    for r in fleet.worst_first():
        key, v = service_key(r), r.verdict.value
        code, hop, text = _root(r)
        name = (f'<a href="#{_anchor(key)}">{_e(key)}</a>' if _matters(r) else _e(key))
        cell = ""
        if since:
            first = (fleet.since or {}).get(key, "")
            cell = f'<td class="since"><time datetime="{_e(first)}">{_e(since_text(first))}</time></td>' if first \
                else '<td class="since"></td>'
        cause = f"<code>{_e(code)}</code> {_e(text)}" if code else _e(text)
        rows.append(f'<tr class="v-{_e(v)}" data-service="{_e(key)}" data-verdict="{_e(v)}"><td>{name}</td>'
                    f'<td><span class="verdict v-{_e(v)}">{_e(v)}</span></td>{cell}<td>{_chain(r, mini=True)}</td>'
                    f"<td>{_e(hop)}</td><td>{cause}</td></tr>")
    rows.append("</tbody></table></section>")
    return "".join(rows)


def _chain(r: Report, mini: bool = False) -> str:
    """The hops as traffic flows; `mini`: marks only, for the table (the hop's name in its title)."""
    items = []
    for hop in CHAIN:
        view = r.hop_view(hop)
        state = view.state.value
        tip = f"{_LABEL[hop.value]}: {state}" + (f" ({view.reason})" if view.reason else "")
        label = _e(_MARK[state]) if mini else f"{_e(_LABEL[hop.value])} {_e(_MARK[state])}"
        items.append(f'<li class="hop s-{_e(state)}" data-hop="{hop.value}" data-state="{_e(state)}" '
                     f'title="{_e(tip)}">{label}</li>')
    kind = "chain mini" if mini else "chain"
    return f'<ol class="{kind}" aria-label="the chain, as traffic flows">{"".join(items)}</ol>'


def _service(r: Report) -> str:
    key = service_key(r)
    parts = [f'<section class="service" id="{_anchor(key)}" data-service="{_e(key)}" '
             f'data-verdict="{_e(r.verdict.value)}">',
             f'<h2>{_e(key)} <span class="verdict v-{_e(r.verdict.value)}">{_e(r.verdict.value)}</span></h2>',
             _chain(r)]
    notes = sorted({f"{_LABEL[h.value]}: {r.hop_view(h).reason}" for h in CHAIN if r.hop_view(h).reason})
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    roots = r.root_causes
    parts += [_finding(f, root=True) for f in roots]
    rest = [f for f in r.findings if f not in roots and f.severity.value != "info"]
    if rest:
        parts.append(f'<details class="consequences"><summary>{len(rest)} consequence(s) and effects</summary>')
        parts += [_finding(f, root=False) for f in rest]
        parts.append("</details>")
    if r.silenced:
        parts.append('<p class="silenced">silenced: ' + "; ".join(
            f"<code>{_e(s.finding.code)}</code> {_e(s.reason)}" for s in r.silenced) + "</p>")
    parts.append("</section>")
    return "".join(parts)


def _finding(f: Finding, root: bool) -> str:
    kind = "ROOT CAUSE" if root else (f"consequence of {f.caused_by}" if f.caused_by else "effect, cause not checked")
    parts = [f'<div class="finding sev-{_e(f.severity.value)}{" root" if root else ""}" data-code="{_e(f.code)}">',
             f"<h3>{_e(kind)} <code>{_e(f.code)}</code> [{_e(f.hop.value)}] {_e(f.title)}</h3>"]
    if f.subject:
        parts.append(f'<p class="meta">object: <code>{_e(f.subject)}</code></p>')
    if f.evidence:
        parts.append('<dl class="evidence">')
        for k in key_evidence(f):
            v = f.evidence[k]
            parts.append(f"<dt>{_e(k)}</dt><dd>{_e(v if isinstance(v, str) else json.dumps(v, default=str))}</dd>")
        parts.append("</dl>")
    parts.append(f'<p class="fix"><strong>fix:</strong> {_e(f.fix.summary)}</p>')
    if f.fix.commands:
        parts.append('<pre class="commands">' + "\n".join(_e(c) for c in f.fix.commands) + "</pre>")
    if f.docs:
        parts.append(f'<p class="meta"><a class="docs" href="{_e(f.docs)}">'
                     f"okedoctor checks explain {_e(f.code)}</a></p>")
    parts.append("</div>")
    return "".join(parts)
