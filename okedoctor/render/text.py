"""`-o text`: the chain drawn hop by hop, then root causes and their fixes.

rich writes colour only to a terminal and honours NO_COLOR, so the same code gives plain text
in a pipe or a cron mail.
"""

from __future__ import annotations

import json
import os
from typing import IO

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from okedoctor.model import CHAIN, Finding, Report, Severity

_STYLE = {"ok": "green", "warning": "yellow", "failure": "bold red", "unknown": "magenta"}
_MARK = {"ok": "✔", "warning": "!", "failure": "✖", "unknown": "?"}
_LABEL = {"internet": "Internet", "loadbalancer": "LB", "nodeport": "NodePort", "node": "Node", "pod": "Pod"}
_SEV = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def make_console(out: IO[str]) -> Console:
    width = int(os.environ.get("COLUMNS", "0") or 0) or None
    return Console(file=out, width=width or (None if out.isatty() else 100), highlight=False, soft_wrap=False)


def render(report: Report, out: IO[str]) -> None:
    console = make_console(out)
    console.print(header(report))
    console.print(chain(report))
    console.print()
    roots = [f for f in report.findings if f.root_cause and f.severity is not Severity.INFO]
    others = [f for f in report.findings if f not in roots]
    if not report.findings:
        console.print(Text("No problem found on any hop.", style="green"))
    for f in roots:
        console.print(finding_panel(f, root=True))
    for f in others:
        console.print(finding_panel(f, root=False))
    if report.skipped:
        console.print(Text("Not checked:", style="bold"))
        for s in report.skipped:
            console.print(Text(f"  - {s.code or s.check} ({s.kind.value}): {s.reason}"))
    console.print(footer(report))


def header(report: Report) -> Text:
    ctx = report.context
    t = Text()
    t.append("okedoctor ", style="bold")
    t.append(f"{report.target}\n")
    t.append(f"context {ctx.get('kubeContext', '?')}", style="dim")
    if ctx.get("server"):
        t.append(f"  server {ctx['server']}", style="dim")
    t.append(f"  cluster {ctx.get('cluster', '?')}  region {ctx.get('region', '?')}", style="dim")
    return t


def chain(report: Report) -> Text:
    t = Text()
    for i, hop in enumerate(CHAIN):
        status = report.hop_status(hop).value
        if i:
            t.append(" ──▶ ", style="dim")
        t.append(f"{_LABEL[hop.value]} {_MARK[status]}", style=_STYLE[status])
    return t


def finding_panel(f: Finding, root: bool) -> Panel:
    parts: list = []
    if f.subject:
        parts.append(Text(f"object: {f.subject}", style="dim"))
    if f.caused_by:
        parts.append(Text(f"consequence of {f.caused_by}", style="dim"))
    parts.append(Text("evidence:", style="bold"))
    for k, v in f.evidence.items():
        value = v if isinstance(v, str) else json.dumps(v, default=str)
        parts.append(Text(f"  {k}: {value}"))
    parts.append(Text.assemble(("fix: ", "bold"), f.fix.summary))
    for cmd in f.fix.commands:
        parts.append(Text(f"  $ {cmd}", style="cyan"))
    if f.fix.patch:
        parts.append(Syntax(f.fix.patch.rstrip(), "yaml", theme="ansi_dark", background_color="default"))
    kind = "ROOT CAUSE" if root else ("consequence" if f.caused_by else f.severity.value)
    title = Text.assemble((f"{f.code} ", "bold"), (f"[{f.hop.value}] ", "dim"), f.title)
    return Panel(Group(*parts), title=title, title_align="left", subtitle=kind,
                 subtitle_align="right", border_style=_SEV[f.severity])


def footer(report: Report) -> Text:
    verdict = report.verdict
    t = Text()
    t.append(f"verdict: {verdict.value} (exit {verdict.exit_code})", style=_STYLE[verdict.value])
    dur = report.stats.get("duration_s")
    if dur is not None:
        t.append(f"  in {dur:.2f}s", style="dim")
    reqs = report.stats.get("api_requests")
    if reqs:
        t.append("  requests " + ", ".join(f"{k} {v}" for k, v in reqs.items()), style="dim")
    return t
