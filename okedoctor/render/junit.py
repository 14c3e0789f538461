"""`-o junit`: JUnit XML for CI pipelines and test dashboards.

One <testsuite> per Service, one <testcase> per check that ran (classname `<ns>/<service>`,
name `CODE check-name`). A check's error or warning findings are its <failure> (type = the
severity; the message the title, the body the evidence and the fix); a check that could not
run, or whose findings were silenced, is <skipped> with why. Information findings pass.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import IO

from okedoctor.model import Finding, Report, Severity


def render(report: Report, out: IO[str]) -> None:
    _write(_suites([report]), out)


def render_fleet(fleet, out: IO[str], only_changes: bool = False) -> None:
    """The fleet as one <testsuites>; `only_changes` keeps the Services with a new or resolved finding."""
    reports = fleet.services
    if only_changes and fleet.changes is not None:
        changed = set(fleet.changes.new) | set(fleet.changes.resolved)
        reports = [r for r in reports if f"{r.target.namespace}/{r.target.service}" in changed]
    _write(_suites(reports), out)


def _write(root: ET.Element, out: IO[str]) -> None:
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def _suites(reports: list[Report]) -> ET.Element:
    root = ET.Element("testsuites", name="okedoctor")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for report in reports:
        suite = _suite(report)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, n in totals.items():
        root.set(key, str(n))
    return root


def _suite(report: Report) -> ET.Element:
    name = f"{report.target.namespace}/{report.target.service}"
    suite = ET.Element("testsuite", name=name)
    found: dict[str, list[Finding]] = {}
    for f in report.findings:
        found.setdefault(f.code, []).append(f)
    silenced: dict[str, list[str]] = {}
    for s in report.silenced:
        silenced.setdefault(s.finding.code, []).append(f"silenced: {s.reason} ({s.source})")
    skipped = {s.code: s for s in report.skipped if s.code}
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    for code, check, hop in report.checks_run:
        case = ET.SubElement(suite, "testcase", classname=name, name=f"{code} {check} [{hop.value}]")
        counts["tests"] += 1
        faults = [f for f in found.get(code, []) if f.severity is not Severity.INFO]
        if faults:
            # One <failure> per case (the JUnit schema allows no more): every finding in its body.
            counts["failures"] += 1
            more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
            worst = max(faults, key=lambda f: f.severity.rank)
            failure = ET.SubElement(case, "failure", message=_clean(faults[0].title + more), type=worst.severity.value)
            failure.text = _clean("\n\n".join(_body(f) for f in faults))
        elif code in skipped:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_clean(f"{skipped[code].kind.value}: {skipped[code].reason}"))
        elif code in silenced:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_clean("; ".join(silenced[code])))
        for f in found.get(code, []):
            if f.severity is Severity.INFO:
                ET.SubElement(case, "system-out").text = _clean(f"{f.title}\n{_evidence(f)}")
    for key, n in counts.items():
        suite.set(key, str(n))
    return suite


# Characters XML 1.0 cannot hold even escaped (a log line's ESC, NUL): dropped, or no parser reads the file.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _evidence(f: Finding) -> str:
    return "\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v, default=str)}" for k, v in f.evidence.items())


def _body(f: Finding) -> str:
    lines = [f"{'root cause' if f.root_cause else 'consequence of ' + (f.caused_by or 'a cause not checked')}"
             f" [{f.hop.value}] {f.subject}".rstrip(), "", _evidence(f), "", f"fix: {f.fix.summary}"]
    lines += [f"  $ {cmd}" for cmd in f.fix.commands]
    if f.docs:
        lines.append(f"docs: {f.docs}")
    return "\n".join(lines)
