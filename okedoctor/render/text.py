"""`-o text`: the chain drawn hop by hop, then root causes and their fixes.

rich writes colour only to a terminal and honours NO_COLOR, so the same code gives plain text
in a pipe or a cron mail.
"""

from __future__ import annotations

import json
import os
import re
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from okedoctor.i18n import ENGLISH, Translator, translator
from okedoctor.model import Finding, Report, Severity
from okedoctor.render import COLOR

_STYLE = {"ok": "green", "warning": "yellow", "failure": "bold red", "error": "bold red", "unknown": "magenta",
          "notApplicable": "dim", "notReached": "dim"}
_MARK = {"ok": "✔", "warning": "!", "error": "✖", "unknown": "?", "notApplicable": "n/a", "notReached": "–"}
_LABEL = {"dns": "DNS", "ingress": "Ingress", "internet": "Internet", "loadbalancer": "LB",
          "nodeport": "NodePort", "node": "Node", "pod": "Pod"}
_SEV = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
# The finding that names the cluster: the header says it, so its block is shown only with -v.
CONTEXT_CODE = "OKD-CL-001"
KEY_EVIDENCE = 4  # at most this many evidence fields in text without -v
VALUE_WIDTH = 160  # a longer evidence value is cut in text without -v (JSON has all of it)


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
    mode = COLOR["mode"]
    colors = {"always": {"force_terminal": True, "no_color": False},
              "never": {"color_system": None, "no_color": True}}.get(mode, {})
    return _Console(file=out, width=width or (None if out.isatty() else 100), highlight=False, soft_wrap=False,
                    **colors)


def render(report: Report, out: IO[str], verbose: bool = False, lang: str = "en") -> None:
    """The chain, root causes, their consequences, what was not checked, the verdict naming the
    root causes last (the final screen of a long report still shows it). `verbose`: every
    evidence field in full, and the context finding's block. `lang`: the labels' language (the
    report's sentences are translated before, by okedoctor.i18n.localize)."""
    tr = translator(lang)
    u = tr.ui
    console = make_console(out)
    console.print(header(report, tr), soft_wrap=True)
    console.print(chain(report, tr), soft_wrap=True)
    console.print()
    roots = report.root_causes
    shown = [f for f in report.findings if verbose or f.code != CONTEXT_CODE]
    others = [f for f in shown if f not in roots]
    if not [f for f in report.findings if f.severity is not Severity.INFO]:
        checked = report.verdict.value == "ok"
        console.print(Text(u("No problem found on any hop." if checked else "No problem found on the hops checked."),
                           style="green" if checked else "magenta"))
        console.print()
    for f, root in [(f, True) for f in roots] + [(f, False) for f in others]:
        for line in finding_block(f, root, verbose, tr):
            console.print(line, soft_wrap=True)
        console.print()
    notes = hop_notes(report, tr)
    for line in notes:
        console.print(line, soft_wrap=True)
    if report.skipped:
        console.print(Text(u("Not checked:"), style="bold"))
        said = " ".join(n.plain for n in notes)
        for gap in report.gaps:
            reason = u("as above") if gap["reason"] in said else gap["reason"]
            console.print(Text(f"  - {_checks(gap['checks'])} ({gap['kind']}): {reason}"), soft_wrap=True)
    for line in silenced_lines(report, tr):
        console.print(line, soft_wrap=True)
    console.print(footer(report, tr), soft_wrap=True)


def silenced_lines(report: Report, tr: Translator = ENGLISH) -> list[Text]:
    """What the user silenced or switched off: one line per silence, so nothing vanishes unseen."""
    if not (report.silenced or report.disabled):
        return []
    u = tr.ui
    out = [Text(f"{u('Silenced:')} {len(report.silenced)} {u('finding(s)')}", style="bold")]
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for s in report.silenced:
        until = f", {u('until')} {s.expires.isoformat()}" if s.expires else ""
        grouped.setdefault((s.source, s.reason, until), []).append(s.finding.code)
    for (source, reason, until), codes in grouped.items():
        out.append(Text(f"  - {_checks(sorted(set(codes)))} x{len(codes)}: {reason} ({source}{until})", style="dim"))
    if report.disabled:
        out.append(Text(f"  - {u('not run (--disable / config)')}: {_checks(report.disabled)}", style="dim"))
    return out


def _checks(codes: list[str]) -> str:
    shown = ", ".join(codes[:4])
    return shown + (f" and {len(codes) - 4} more" if len(codes) > 4 else "")


# "OKD-INET-002 not checked: <why>", "OCI facts not read: <why>": the same why, said per hop.
_HOP_REASON_PREFIX = re.compile(r"^(?:[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{3} not checked|[A-Za-z ]+ not read): ")


def hop_notes(report: Report, tr: Translator = ENGLISH) -> list[Text]:
    """Why each hop is unknown, n/a or not reached: one line per reason, naming its hops.

    Hops hidden by one source (OCI denied) are one line, whichever check or fact each names."""
    label = {"unknown": "unknown", "notApplicable": "not applicable", "notReached": "not reached"}
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for hop in report.chain:
        view = report.hop_view(hop)
        if view.reason and view.state.value in label:
            key = (view.state.value, _HOP_REASON_PREFIX.sub("", view.reason))
            grouped.setdefault(key, []).append((tr.ui(_LABEL[hop.value]), view.reason))
    lines = {}
    for (state, core), entries in grouped.items():
        full = {reason for _, reason in entries}
        lines[(state, full.pop() if len(full) == 1 else core)] = [hop for hop, _ in entries]
    grouped = lines
    return [Text(f"{', '.join(hops)} {tr.ui(label[state])}: {reason}", style=_STYLE[state])
            for (state, reason), hops in grouped.items()]


def header(report: Report, tr: Translator = ENGLISH) -> Text:
    """Target, context, cluster, region and the load balancer diagnosed: said once, here."""
    ctx, u = report.context, tr.ui
    t = Text()
    t.append("okedoctor ", style="bold")
    t.append(f"{report.target}")
    if report.target.url and report.target.service:
        t.append(f"  -> {report.target.namespace}/svc/{report.target.service}", style="dim")
    t.append("\n")
    t.append(f"{u('context')} {ctx.get('kubeContext', '?')}", style="dim")
    if ctx.get("server"):
        t.append(f"  {u('server')} {ctx['server']}", style="dim")
    t.append(f"  {u('cluster')} {ctx.get('cluster', '?')}  {u('region')} {ctx.get('region', '?')}", style="dim")
    about = next((f for f in report.findings if f.code == CONTEXT_CODE), None)
    lb = about.evidence.get("loadBalancer") if about else None
    if lb:
        t.append(f"\n{u('load balancer')} {lb}", style="dim")
    return t


def chain(report: Report, tr: Translator = ENGLISH) -> Text:
    t = Text()
    for i, hop in enumerate(report.chain):
        status = report.hop_status(hop).value
        if i:
            t.append(" ──▶ ", style="dim")
        t.append(f"{tr.ui(_LABEL[hop.value])} {_MARK[status]}", style=_STYLE[status])
    return t


def key_evidence(f: Finding) -> list[str]:
    """The evidence fields that prove the title: those whose value the title quotes (a port, a
    name), else the first few. The rest is in `-v` and in JSON."""
    quoted = [k for k, v in f.evidence.items() if any(_quoted(x, f.title) for x in _scalars(v))]
    keys = quoted[:KEY_EVIDENCE]
    for k in f.evidence:
        if len(keys) >= max(3, len(quoted[:KEY_EVIDENCE])):
            break
        if k not in keys:
            keys.append(k)
    return [k for k in f.evidence if k in keys]


def _scalars(value: Any) -> list[str]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, dict):
        return [x for v in value.values() for x in _scalars(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _scalars(v)]
    text = str(value)
    return [text] if len(text) >= 2 else []


def _quoted(text: str, title: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(text)}(?![\w])", title) is not None


def _value(v: Any, verbose: bool) -> str:
    text = v if isinstance(v, str) else json.dumps(v, default=str)
    return text if verbose or len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 1] + "…"


def finding_block(f: Finding, root: bool, verbose: bool = False, tr: Translator = ENGLISH) -> list[Text]:
    """One finding as plain lines: never hard-wrapped, so a fix command copies in one piece."""
    u = tr.ui
    kind = "ROOT CAUSE" if root else ("consequence" if f.caused_by else
                                      "effect, cause not checked" if f.cause_unknown else f.severity.value)
    lines = [Text.assemble((f"━━ {u(kind)} ", _SEV[f.severity]), (f"{f.code} ", "bold"), (f"[{f.hop.value}] ", "dim"),
                           f.title)]
    if f.subject:
        lines.append(Text(f"   {u('object:')} {f.subject}", style="dim"))
    if f.caused_by:
        lines.append(Text(f"   {u('consequence of')} {f.caused_by}", style="dim"))
    if f.cause_unknown:
        lines.append(Text(f"   {u('cause not found:')} {f.cause_unknown}", style="dim"))
    if f.silence_expired:
        gone = f.silence_expired
        lines.append(Text(f"   {u('shown again')}: {u('the silence in')} {gone.get('source')} {u('expired on')} "
                          f"{gone.get('expires')} ({gone.get('reason')})", style="yellow"))
    keys = list(f.evidence) if verbose else key_evidence(f)
    hidden = len(f.evidence) - len(keys)
    lines.append(Text.assemble((f"   {u('evidence:')}", "bold"),
                               (f" ({hidden} {u('more with -v')})" if hidden else "", "dim")))
    for k in keys:
        lines.append(Text(f"     {k}: {_value(f.evidence[k], verbose)}"))
    lines.append(Text.assemble((f"   {u('fix:')} ", "bold"), f.fix.summary))
    lines += [Text(f"     $ {cmd}", style="cyan") for cmd in f.fix.commands]
    if f.fix.patch:
        lines.append(Text("     patch:", style="bold"))
        lines += [Text(f"       {line}", style="cyan") for line in f.fix.patch.rstrip().splitlines()]
    lines.append(Text(f"   {u('explain:')} okedoctor checks explain {f.code}", style="dim"))
    return lines


def verdict_line(report: Report, tr: Translator = ENGLISH) -> str:
    """`verdict: failure: OKD-LB-009 <title> (exit 2)`: the answer, naming what to fix first."""
    verdict, u = report.verdict, tr.ui
    roots = report.root_causes
    more = f"{u('and more')} {len(roots) - 2}" if tr.lang != "en" else f"and {len(roots) - 2} more"
    named = [f"{f.code} {f.title}" for f in roots[:2]] + ([more] if len(roots) > 2 else [])
    if not named and verdict.value == "unknown":
        blind = [u(_LABEL[h.value]) for h in report.chain if report.hop_view(h).state.value == "unknown"]
        if blind:
            named = [f"{', '.join(blind)} {u('not checked')}"]
        elif report.gaps:
            named = [f"{_checks(report.gaps[0]['checks'])} {u('not checked')} ({report.gaps[0]['kind']})"]
    why = f": {'; '.join(named)}" if named else ""
    return f"{u('verdict:')} {u(verdict.value)}{why} ({u('exit')} {verdict.exit_code})"


def footer(report: Report, tr: Translator = ENGLISH) -> Text:
    verdict, u = report.verdict, tr.ui
    t = Text()
    t.append(verdict_line(report, tr), style=_STYLE[verdict.value])
    dur = report.stats.get("duration_s")
    if dur is not None:
        t.append(f"  {u('in')} {dur:.2f}s", style="dim")
    reqs = report.stats.get("api_requests")
    if reqs:
        t.append(f"  {u('requests')} " + ", ".join(f"{k} {v}" for k, v in reqs.items()), style="dim")
    return t
