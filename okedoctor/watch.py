"""`okedoctor diagnose --watch`: diagnose again every few seconds until the chain is green (or
Ctrl-C), printing the chain and what changed between two runs. For the engineer who applies a
fix by hand, or waits for a rollout. The exit code is the last verdict's."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from okedoctor.model import CHAIN, Report, Verdict


def chain_line(report: Report) -> str:
    hops = " -> ".join(f"{hop.value} {report.hop_status(hop).value}" for hop in CHAIN)
    return f"{datetime.now().strftime('%H:%M:%S')} {report.verdict.value.upper():8} {hops}"


def changes(before: Report, after: Report) -> list[str]:
    """What differs between two runs: the verdict, each hop's state, the root causes found or gone."""
    out = []
    if before.verdict is not after.verdict:
        out.append(f"verdict {before.verdict.value} -> {after.verdict.value}")
    for hop in CHAIN:
        a, b = before.hop_status(hop), after.hop_status(hop)
        if a is not b:
            out.append(f"{hop.value} {a.value} -> {b.value}")
    old = {f.key: f for f in before.findings if f.severity.rank > 0}
    new = {f.key: f for f in after.findings if f.severity.rank > 0}
    out += [f"fixed: {old[k].code} {old[k].title}" for k in old if k not in new]
    out += [f"new:   {new[k].code} {new[k].title}" for k in new if k not in old]
    return out


def pause(seconds: float) -> None:
    time.sleep(seconds)


def watch(diagnose: Callable[[], Report], interval: float, out: TextIO) -> Report:
    """Run until the verdict is ok or the user interrupts; return the last report."""
    last: Report | None = None
    try:
        while True:
            report = diagnose()
            print(chain_line(report), file=out)
            for line in changes(last, report) if last else []:
                print(f"  {line}", file=out)
            last = report
            out.flush()
            if report.verdict is Verdict.OK:
                return report
            pause(interval)
    except KeyboardInterrupt:
        if last is None:
            raise
        return last
