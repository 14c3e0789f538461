"""`-o text`: the chain drawn hop by hop, then root causes and their fixes.

rich writes colour only to a terminal and honours NO_COLOR, so the same code gives plain text
in a pipe or a cron mail.
"""

from __future__ import annotations

import json
import os
from typing import IO

from rich.console import Console
from rich.text import Text

from okedoctor.model import CHAIN, Finding, Report, Severity

_STYLE = {"ok": "green", "warning": "yellow", "failure": "bold red", "error": "bold red", "unknown": "magenta",
          "notApplicable": "dim", "notReached": "dim"}
_MARK = {"ok": "✔", "warning": "!", "error": "✖", "unknown": "?", "notApplicable": "n/a", "notReached": "–"}
_LABEL = {"internet": "Internet", "loadbalancer": "LB", "nodeport": "NodePort", "node": "Node", "pod": "Pod"}
_SEV = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """`okedoctor diagnose | head`: hand the broken pipe to the caller (cliopts.write_out).

        rich's default exits 1, which to cron and alerting means "warnings only"; the caller
        ends the output and keeps the diagnosis' exit code, as for every other format.
        """
        self.quiet = True
        raise BrokenPipeError


def make_console(out: IO[str]) -> Console:
    width = int(os.environ.get("COLUMNS", "0") or 0) or None
    return _Console(file=out, width=width or (None if out.isatty() else 100), highlight=False, soft_wrap=False)


def render(report: Report, out: IO[str]) -> None:
    console = make_console(out)
    console.print(header(report), soft_wrap=True)
    console.print(chain(report), soft_wrap=True)
    console.print()
    roots = report.root_causes
    others = [f for f in report.findings if f not in roots]
    if not report.findings:
        console.print(Text("No problem found on any hop.", style="green"))
    for f, root in [(f, True) for f in roots] + [(f, False) for f in others]:
        for line in finding_block(f, root):
            console.print(line, soft_wrap=True)
        console.print()
    notes = hop_notes(report)
    for line in notes:
        console.print(line, soft_wrap=True)
    if report.skipped:
        console.print(Text("Not checked:", style="bold"))
        said = " ".join(n.plain for n in notes)
        for gap in report.gaps:
            reason = "as above" if gap["reason"] in said else gap["reason"]
            console.print(Text(f"  - {_checks(gap['checks'])} ({gap['kind']}): {reason}"), soft_wrap=True)
    for line in silenced_lines(report):
        console.print(line, soft_wrap=True)
    console.print(footer(report))


def silenced_lines(report: Report) -> list[Text]:
    """What the user silenced or switched off: one line per silence, so nothing vanishes unseen."""
    if not (report.silenced or report.disabled):
        return []
    out = [Text(f"Silenced: {len(report.silenced)} finding(s)", style="bold")]
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for s in report.silenced:
        until = f", until {s.expires.isoformat()}" if s.expires else ""
        grouped.setdefault((s.source, s.reason, until), []).append(s.finding.code)
    for (source, reason, until), codes in grouped.items():
        out.append(Text(f"  - {_checks(sorted(set(codes)))} x{len(codes)}: {reason} ({source}{until})", style="dim"))
    if report.disabled:
        out.append(Text(f"  - not run (--disable / config): {_checks(report.disabled)}", style="dim"))
    return out


def _checks(codes: list[str]) -> str:
    shown = ", ".join(codes[:4])
    return shown + (f" and {len(codes) - 4} more" if len(codes) > 4 else "")


def hop_notes(report: Report) -> list[Text]:
    """Why each hop is unknown, n/a or not reached: one line per reason, naming its hops."""
    label = {"unknown": "unknown", "notApplicable": "not applicable", "notReached": "not reached"}
    grouped: dict[tuple[str, str], list[str]] = {}
    for hop in CHAIN:
        view = report.hop_view(hop)
        if view.reason and view.state.value in label:
            grouped.setdefault((view.state.value, view.reason), []).append(_LABEL[hop.value])
    return [Text(f"{', '.join(hops)} {label[state]}: {reason}", style=_STYLE[state])
            for (state, reason), hops in grouped.items()]


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


def finding_block(f: Finding, root: bool) -> list[Text]:
    """One finding as plain lines: never hard-wrapped, so a fix command copies in one piece."""
    kind = "ROOT CAUSE" if root else ("consequence" if f.caused_by else
                                      "effect, cause not checked" if f.cause_unknown else f.severity.value)
    lines = [Text.assemble((f"━━ {kind} ", _SEV[f.severity]), (f"{f.code} ", "bold"), (f"[{f.hop.value}] ", "dim"),
                           f.title)]
    if f.subject:
        lines.append(Text(f"   object: {f.subject}", style="dim"))
    if f.caused_by:
        lines.append(Text(f"   consequence of {f.caused_by}", style="dim"))
    if f.cause_unknown:
        lines.append(Text(f"   cause not found: {f.cause_unknown}", style="dim"))
    if f.silence_expired:
        gone = f.silence_expired
        lines.append(Text(f"   shown again: the silence in {gone.get('source')} expired on {gone.get('expires')} "
                          f"({gone.get('reason')})", style="yellow"))
    lines.append(Text("   evidence:", style="bold"))
    for k, v in f.evidence.items():
        value = v if isinstance(v, str) else json.dumps(v, default=str)
        lines.append(Text(f"     {k}: {value}"))
    lines.append(Text.assemble(("   fix: ", "bold"), f.fix.summary))
    lines += [Text(f"     $ {cmd}", style="cyan") for cmd in f.fix.commands]
    if f.fix.patch:
        lines.append(Text("     patch:", style="bold"))
        lines += [Text(f"       {line}", style="cyan") for line in f.fix.patch.rstrip().splitlines()]
    return lines


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
