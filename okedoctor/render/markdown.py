"""`-o markdown`: a report to paste into an incident ticket."""

from __future__ import annotations

import json
from typing import IO

from okedoctor.model import Finding, Report

_ICON = {"ok": "✅", "warning": "⚠️", "failure": "❌", "error": "❌", "unknown": "❔", "notApplicable": "➖",
         "notReached": "⏹️"}


def render(report: Report, out: IO[str]) -> None:
    out.write("\n".join(lines(report)) + "\n")


def lines(report: Report, heading: str = "#") -> list[str]:
    ctx = report.context
    verdict = report.verdict.value
    out = [
        f"{heading} okedoctor: `{report.target}` is **{verdict.upper()}** {_ICON[verdict]}",
        "",
        f"- kube context: `{ctx.get('kubeContext', '?')}`; cluster: `{ctx.get('cluster', '?')}`; "
        f"region: `{ctx.get('region', '?')}`",
        "- chain: " + " → ".join(
            f"{hop.value} {_ICON[report.hop_status(hop).value]}" for hop in report.chain
        ),
        "",
    ]
    roots = report.root_causes
    rest = [f for f in report.findings if f not in roots]
    if roots:
        out += [f"{heading}# Root cause", ""]
        for f in roots:
            out += _finding(f, heading + "##")
    if rest:
        out += [f"{heading}# Other findings", ""]
        for f in rest:
            out += _finding(f, heading + "##")
    if not report.findings:
        out += ["No problem found on any hop.", ""]
    notes = [(hop, report.hop_view(hop)) for hop in report.chain]
    notes = [(hop, v) for hop, v in notes if v.reason and v.state.value != "ok"]
    if notes:
        out += [f"- {hop.value} **{v.state.value}**: {v.reason}" for hop, v in notes] + [""]
    if report.skipped:
        out += [f"{heading}# Not checked", ""]
        out += [f"- {g['reason']} ({g['kind']}; " + ", ".join(f"`{c}`" for c in g["checks"]) + ")"
                for g in report.gaps]
        out.append("")
    if report.silenced or report.disabled:
        out += [f"{heading}# Silenced", ""]
        out += [f"- `{s.finding.code}` {s.finding.title}: {s.reason} ({s.source}"
                + (f", until {s.expires.isoformat()})" if s.expires else ")") for s in report.silenced]
        if report.disabled:
            out.append("- not run: " + ", ".join(f"`{c}`" for c in report.disabled))
        out.append("")
    return out


def _finding(f: Finding, heading: str) -> list[str]:
    tag = f"(consequence of `{f.caused_by}`)" if f.caused_by else (
        f"(effect; cause not found: {f.cause_unknown})" if f.cause_unknown else "")
    code = f"[`{f.code}`]({f.docs})" if f.docs else f"`{f.code}`"
    out = [f"{heading} {code} [{f.severity.value}, {f.hop.value}] {f.title} {tag}".rstrip(), ""]
    if f.silence_expired:
        gone = f.silence_expired
        out += [f"Shown again: the silence in {gone.get('source')} expired on {gone.get('expires')} "
                f"({gone.get('reason')}).", ""]
    if f.subject:
        out.append(f"Object: `{f.subject}`")
        out.append("")
    out += ["Evidence:", "", "```json", json.dumps(f.evidence, indent=2, default=str), "```", ""]
    out += [f"**Fix:** {f.fix.summary}", ""]
    if f.fix.commands:
        out += ["```sh", *f.fix.commands, "```", ""]
    if f.fix.patch:
        out += ["```yaml", f.fix.patch.rstrip(), "```", ""]
    return out
