"""Run checks against Facts and turn their findings into a Report with root causes marked."""

from __future__ import annotations

import time
from collections.abc import Iterable

from okedoctor.check import Check, CheckSkipped
from okedoctor.facts import Facts
from okedoctor.model import Finding, Report, Severity, SkipKind, Skipped
from okedoctor.registry import Registry


def run_checks(
    facts: Facts,
    registry: Registry,
    *,
    context: dict | None = None,
    stats: dict | None = None,
) -> Report:
    started = time.perf_counter()
    findings: list[Finding] = []
    skipped: list[Skipped] = [
        Skipped(check=where, reason=f"plugin failed to load: {err}", kind=SkipKind.ERROR)
        for where, err in registry.load_errors
    ]
    checked: set = set()
    for check_cls in registry.sorted():
        got, skip = _run_one(check_cls, facts)
        findings.extend(got)
        if skip:
            skipped.append(skip)
        else:
            checked.add(check_cls.hop)
    report = Report(
        target=facts.target,
        context=context if context is not None else dict(facts.context),
        findings=order_findings(mark_root_causes(findings)),
        skipped=skipped,
        stats=dict(stats or {}),
        checked_hops=frozenset(checked),
    )
    report.stats.setdefault("checks_run", len(registry.checks))
    report.stats["checks_s"] = round(time.perf_counter() - started, 4)
    return report


def _run_one(check_cls: type[Check], facts: Facts) -> tuple[list[Finding], Skipped | None]:
    for need in check_cls.needs:
        missing = facts.unavailable(need)
        if missing:
            return [], Skipped(check_cls.name, missing.reason, missing.kind, check_cls.code, check_cls.hop)
    try:
        return list(check_cls().run(facts) or ()), None
    except CheckSkipped as skip:
        return [], Skipped(check_cls.name, str(skip), SkipKind.NOT_OBSERVED, check_cls.code, check_cls.hop)
    except Exception as exc:  # a check bug is reported, never a crash
        reason = f"check raised {type(exc).__name__}: {exc}"
        return [], Skipped(check_cls.name, reason, SkipKind.ERROR, check_cls.code, check_cls.hop)


def mark_root_causes(findings: Iterable[Finding]) -> list[Finding]:
    """Tie symptom findings to the cause that explains them.

    A symptom (an observed effect such as every backend Critical, or the public address timing
    out) follows from a non-symptom error at the same hop or one closer to the pod; we pick the
    nearest such cause, so a stale health-check port explains Critical backends before a pod
    fault does. Cluster-hop findings (context, permissions) explain no traffic symptom. A
    symptom with no cause stays a root cause: the effect is all we know.
    """
    findings = list(findings)
    causes = [f for f in findings if not f.symptom and f.root_cause and f.severity is Severity.ERROR]
    out = []
    for f in findings:
        if f.symptom and f.root_cause and f.severity is not Severity.INFO:
            candidates = [c for c in causes if 0 <= c.hop.depth <= f.hop.depth and c is not f]
            if candidates:
                nearest = max(candidates, key=lambda c: (c.hop.depth, c.code))
                f = f.as_consequence_of(nearest)
        out.append(f)
    return out


def order_findings(findings: list[Finding]) -> list[Finding]:
    """Root causes first, then by severity, hop (pod first) and code: stable across runs."""
    return sorted(
        findings,
        key=lambda f: (not f.root_cause, -f.severity.rank, f.hop.depth, f.code, f.subject),
    )
