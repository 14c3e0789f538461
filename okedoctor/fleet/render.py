"""Fleet output: a summary table (text), okedoctor/fleet/v1 (json), a morning report (markdown)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import IO, Any

from rich.table import Table
from rich.text import Text

from okedoctor.fleet.model import Changes, FleetReport, service_key
from okedoctor.model import HopState, Report
from okedoctor.render import markdown as report_markdown
from okedoctor.render.text import _STYLE, make_console
from okedoctor.safeout import printable


def _root(report: Report) -> tuple[str, str, str]:
    """(code, hop, text) for the table: the root cause, else an effect whose cause was not
    checked, else the first hop that could not be checked and why."""
    root = next(iter(report.root_causes), None)
    if root is not None:
        return root.code, root.hop.value, root.title
    effect = next((f for f in report.findings if f.cause_unknown), None)
    if effect is not None:
        return effect.code, effect.hop.value, f"(effect) {effect.title}; cause not found: {effect.cause_unknown}"
    blind = next((h for h in report.chain if report.hop_status(h) is HopState.UNKNOWN), None)
    if blind is not None:
        return "", blind.value, f"not checked: {report.hop_view(blind).reason}"
    return "", "", ""


def _unverified_codes(fleet: FleetReport) -> dict[str, str]:
    """Per diagnosed Service, the codes of earlier findings this run could not verify (still open)."""
    unverified = fleet.changes.unverified if fleet.changes is not None else {}
    diagnosed = {service_key(r) for r in fleet.services}
    return {svc: ", ".join(f["code"] for f in kept) for svc, kept in unverified.items() if svc in diagnosed}


def since_text(iso: str | None, now: datetime | None = None) -> str:
    """How long ago, compact: `45m`, `3h`, `2d`; "" when unknown."""
    if not iso:
        return ""
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    minutes = max(0, int(((now or datetime.now(UTC)) - then).total_seconds() // 60))
    if minutes < 120:
        return f"{minutes}m"
    return f"{minutes // 60}h" if minutes < 48 * 60 else f"{minutes // (24 * 60)}d"


def render_text(fleet: FleetReport, out: IO[str], only_changes: bool = False) -> None:
    """The table, failures first; in a pipe or a cron mail every row is one line, never wrapped."""
    console = make_console(out)
    if not out.isatty() and not os.environ.get("COLUMNS"):
        console.width = 100_000  # no wrap, no crop: each row stays one line for grep and mail
    ctx = fleet.context
    console.print(Text(f"okedoctor report  context {ctx.get('kubeContext', '?')}  cluster {ctx.get('cluster', '?')}",
                       style="bold"), soft_wrap=True)
    if fleet.nothing_to_check:
        console.print(Text(fleet.nothing_to_check), soft_wrap=True)
    elif not only_changes:
        console.print(fleet_table(fleet))
    if fleet.changes is not None:
        for line in change_lines(fleet.changes):
            console.print(Text(line), soft_wrap=True)
    summary = ", ".join(f"{v} {n}" for v, n in fleet.to_dict()["summary"].items() if n) or "nothing checked"
    silenced = sum(len(r.silenced) for r in fleet.services)
    if silenced:
        summary += f"; {silenced} finding(s) silenced"
    console.print(Text(f"verdict: {fleet.verdict.value} (exit {fleet.verdict.exit_code})  {summary}",
                       style=_STYLE[fleet.verdict.value]), soft_wrap=True)


def fleet_table(fleet: FleetReport) -> Table:
    unverified = _unverified_codes(fleet)
    table = Table(show_edge=False, pad_edge=False)
    cols = ("SERVICE", "VERDICT", *(("SINCE",) if fleet.since is not None else ()), "HOP", "ROOT CAUSE",
            *(("UNVERIFIED",) if unverified else ()))
    for col in cols:
        table.add_column(col, no_wrap=col != "ROOT CAUSE")
    for r in fleet.worst_first():
        code, hop, title = _root(r)
        since = (since_text((fleet.since or {}).get(service_key(r))),) if fleet.since is not None else ()
        extra = (unverified.get(service_key(r), ""),) if unverified else ()
        table.add_row(service_key(r), Text(r.verdict.value, style=_STYLE[r.verdict.value]), *since, hop,
                      f"{code} {title}".strip(), *extra)
    return table


def change_lines(changes: Changes) -> list[str]:
    if changes.first_run:
        out = ["changes: first run, nothing to compare with (state saved)"]
    elif not changes.any:
        out = ["changes: none since the last run"]
    else:
        out = ["changes since the last run:"]
    for svc, findings in sorted(changes.new.items()):
        out += [f"  NEW       {svc}  {f.code} [{f.hop.value}] {f.title}" for f in findings]
    for svc, gone in sorted(changes.resolved.items()):
        out += [f"  RESOLVED  {svc}  {f['code']} {f['title']}" + (f" ({f['note']})" if f.get("note") else "")
                for f in gone]
    if changes.unverified:
        n = sum(len(v) for v in changes.unverified.values())
        out.append(f"not verified by this run, still open ({n}):")
        for svc, kept in sorted(changes.unverified.items()):
            out += [f"  UNVERIFIED {svc}  {f['code']} {f['title']} "
                    f"({f['reason']}; first seen {f.get('firstSeen', '?')})" for f in kept]
    # Resolved and unverified findings are read back from the --state file, not from this run.
    return [printable(line) for line in out]


def render_json(fleet: FleetReport, out: IO[str], only_changes: bool = False) -> None:
    doc = fleet.to_dict()
    if only_changes:
        changed = set((fleet.changes.new if fleet.changes else {}).keys())
        changed |= set((fleet.changes.resolved if fleet.changes else {}).keys())
        doc["services"] = [s for s in doc["services"]
                           if f"{s['target']['namespace']}/{s['target']['service']}" in changed]
    write_json(doc, out)
    out.write("\n")


def write_json(doc: Any, out: IO[str], batch: int = 1 << 16) -> None:
    """What json.dumps(doc, indent=2) returns, written in batches: json.dumps keeps every small
    piece of an indented document in one list before joining them, tens of MiB for a fleet."""
    pending: list[str] = []
    size = 0
    for chunk in json.JSONEncoder(indent=2, default=str).iterencode(doc):
        pending.append(chunk)
        size += len(chunk)
        if size >= batch:
            out.write("".join(pending))
            pending.clear()
            size = 0
    out.write("".join(pending))


def render_markdown(fleet: FleetReport, out: IO[str], only_changes: bool = False) -> None:
    ctx = fleet.context
    lines = [f"# okedoctor report: {ctx.get('kubeContext', '?')} is **{fleet.verdict.value.upper()}**", ""]
    if fleet.changes is not None:
        lines += ["## Changes", "", *[f"- {line.strip()}" for line in change_lines(fleet.changes)], ""]
    if fleet.nothing_to_check:
        lines += [fleet.nothing_to_check[0].upper() + fleet.nothing_to_check[1:] + ".", ""]
    elif not only_changes:
        unverified = _unverified_codes(fleet)
        extra = " unverified |" if unverified else ""
        lines += ["## Services", "", f"| service | verdict | hop | root cause |{extra}",
                  f"| --- | --- | --- | --- |{' --- |' if unverified else ''}"]
        for r in fleet.worst_first():
            code, hop, title = _root(r)
            cell = f" {unverified.get(service_key(r), '')} |" if unverified else ""
            lines.append(f"| `{service_key(r)}` | {r.verdict.value} | {hop} | {f'`{code}` {title}' if code else title} "
                         f"|{cell}")
        lines.append("")
        for r in fleet.worst_first():
            if r.root_causes:
                lines += report_markdown.lines(r, heading="##")
    out.write("\n".join(lines) + "\n")

