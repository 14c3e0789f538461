"""Run checks against Facts and turn their findings into a Report with root causes marked."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace

from okedoctor.chain import coverage as chain
from okedoctor.check import Check, CheckSkipped
from okedoctor.contain import CheckFailed, CheckTimedOut, run_contained, validated
from okedoctor.facts import KIND_FACTS, Facts
from okedoctor.model import CHAIN, Finding, Hop, HopState, HopView, Report, Severity, SkipKind, Skipped
from okedoctor.policy import Policy
from okedoctor.registry import Registry
from okedoctor.safeout import clean_report

# (findings, skipped, hops a check ran on, how many checks ran)
Checked = tuple[list[Finding], list[Skipped], set[Hop], int]


def run_checks(
    facts: Facts,
    registry: Registry,
    *,
    context: dict | None = None,
    stats: dict | None = None,
    policy: Policy | None = None,
) -> Report:
    """Run every registered check the policy leaves on; the policy's silences and overrides
    apply before hops are judged, so a silenced finding neither colours a hop nor the verdict."""
    policy = policy or Policy()
    started = time.perf_counter()
    findings, skipped, checked, ran = run_group(facts, registry, frozenset((*CHAIN, Hop.CLUSTER)), policy)
    skipped[:0] = load_errors(registry)
    labels = ((facts.service or {}).get("metadata") or {}).get("labels") or {}
    findings, silenced = policy.apply(findings, facts.target.namespace, facts.target.service, labels)
    skipped += unused_gaps(facts, skipped)
    covered = chain.coverage(facts)
    hops = judge_hops(findings, skipped, checked, covered, end_to_end=chain.answers_end_to_end(facts))
    return build_report(facts, findings, skipped, hops, context=context, stats=stats, ran=ran, started=started,
                        registry=registry, policy=policy, silenced=silenced)


def build_report(facts: Facts, findings: list[Finding], skipped: list[Skipped], hops: dict[Hop, HopView], *,
                 context: dict | None, stats: dict | None, ran: int, started: float, registry: Registry,
                 policy: Policy, silenced: list, drawn: tuple[Hop, ...] = CHAIN) -> Report:
    on_chain = {*drawn, Hop.CLUSTER}
    report = Report(
        target=facts.target,
        context=context if context is not None else dict(facts.context),
        findings=order_findings(mark_root_causes(findings, hops)),
        skipped=skipped,
        stats=dict(stats or {}),
        hops=hops,
        silenced=silenced,
        disabled=sorted(c.code for c in registry.checks if c.code in policy.disabled),
        checks_run=[(c.code, c.name, c.hop) for c in registry.sorted()
                    if c.code not in policy.disabled and c.hop in on_chain],
        chain=drawn,
    )
    clean_report(report, facts.unsafe_words)
    report.stats.setdefault("checks_run", ran)
    report.stats["checks_s"] = round(time.perf_counter() - started, 4)
    return report


def load_errors(registry: Registry) -> list[Skipped]:
    return [Skipped(check=where, reason=f"plugin failed to load: {err}", kind=SkipKind.ERROR)
            for where, err in registry.load_errors]


def run_group(facts: Facts, registry: Registry, hops: frozenset[Hop], policy: Policy) -> Checked:
    """Run the checks of `hops` on `facts`: (findings, skipped, hops a check ran on, checks run).

    A check runs only on a hop the report draws: a Service's report has no DNS or ingress hop,
    so their checks neither run nor count as skipped there.
    """
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    checked: set[Hop] = set()
    ran = 0
    for check_cls in registry.sorted():
        if check_cls.hop not in hops or check_cls.code in policy.disabled:
            continue
        ran += 1
        got, skip = _run_one(check_cls, facts, registry)
        findings.extend(got)
        if skip:
            skipped.append(skip)
        else:
            checked.add(check_cls.hop)
    return findings, skipped, checked, ran


def _run_one(check_cls: type[Check], facts: Facts, registry: Registry) -> tuple[list[Finding], Skipped | None]:
    def skipped(reason: str, kind: SkipKind = SkipKind.ERROR) -> tuple[list[Finding], Skipped]:
        return [], Skipped(check_cls.name, reason, kind, check_cls.code, check_cls.hop)

    for need in check_cls.needs:
        missing = facts.unavailable(need)
        if missing:
            return skipped(missing.reason, missing.kind)
    if check_cls.code in registry.abandoned:
        return skipped(registry.abandoned[check_cls.code])
    reads = facts.reading()
    try:
        if registry.is_plugin(check_cls):
            found = run_contained(check_cls().run, facts, check_cls.code, registry.plugin_timeout_s)
        else:
            found = validated(check_cls().run(facts), check_cls.code)
        return found, _read_without(check_cls, facts, reads)
    except CheckSkipped as skip:
        return skipped(str(skip), skip.kind)
    except CheckTimedOut as exc:
        # Not started again for the next Services of a fleet run: each would leave one more thread spinning.
        registry.abandoned[check_cls.code] = f"{exc} earlier in this run"
        return skipped(str(exc))
    except CheckFailed as exc:
        return skipped(str(exc))
    except Exception as exc:  # a check bug is reported, never a crash
        return skipped(f"check raised {type(exc).__name__}: {exc}")


def unused_gaps(facts: Facts, skipped: list[Skipped]) -> list[Skipped]:
    """Failed reads no check ran into: still said, and still no `ok` verdict, since the run
    cannot tell whether they would have shown a fault (a check's cue may sit in them)."""
    said = " | ".join(s.reason for s in skipped)
    out = []
    for fact, gap in sorted(facts.gaps.items()):
        kind, reason = SkipKind(gap.get("kind", "unavailable")), str(gap.get("reason", ""))
        if kind.makes_unknown and reason not in said:
            out.append(Skipped(f"read of {fact}", reason, kind))
    return out


def _read_without(check_cls: type[Check], facts: Facts, kinds: set[str]) -> Skipped | None:
    """The check ran, but read a kind whose collection failed: what it found stands, what it did
    not find is not known. Reported like a skip, so the hop is not drawn ok, the verdict is
    unknown unless something failed, and `--state` does not take its silence as resolved."""
    for kind in sorted(kinds):
        gap = facts.unavailable(KIND_FACTS[kind])
        if gap and gap.kind.makes_unknown:
            return Skipped(check_cls.name, f"ran without the {kind} objects: {gap.reason}", gap.kind,
                           check_cls.code, check_cls.hop)
    return None


def judge_hops(findings: list[Finding], skipped: list[Skipped], checked: set[Hop],
               covered: dict[Hop, HopView], *, end_to_end: bool,
               drawn: tuple[Hop, ...] = CHAIN) -> dict[Hop, HopView]:
    """Each hop's state: its worst finding, else what the facts rule out, else whether a check looked.

    A hop is ok only when a check ran on it and nothing hid its facts. A check switched off by
    the user (`--no-exec`) hides what it would have seen, unless the public address answered,
    which proves the path it would have tested.
    """
    out: dict[Hop, HopView] = {}
    for hop in drawn:
        severities = {f.severity for f in findings if f.hop is hop}
        hidden = [s for s in skipped if s.hop is hop and
                  (s.kind.makes_unknown or (s.kind is SkipKind.DISABLED and not end_to_end))]
        if Severity.ERROR in severities:
            out[hop] = HopView(HopState.ERROR)
        elif Severity.WARNING in severities:
            out[hop] = HopView(HopState.WARNING)
        elif hop in covered:
            out[hop] = covered[hop]
        elif hidden:
            out[hop] = HopView(HopState.UNKNOWN, f"{hidden[0].code or hidden[0].check} not checked: {hidden[0].reason}")
        elif hop not in checked:
            out[hop] = HopView(HopState.UNKNOWN, "no check could run on this hop")
        else:
            out[hop] = HopView(HopState.OK)
    return out


def mark_root_causes(findings: Iterable[Finding], hops: dict[Hop, HopView] | None = None) -> list[Finding]:
    """Tie symptom findings to the cause that explains them; only errors and warnings are causes.

    A symptom (an observed effect such as every backend Critical, or the public address timing
    out) follows from a non-symptom error at the same hop or one closer to the pod; we pick the
    nearest such cause, so a stale health-check port explains Critical backends before a pod
    fault does. Cluster-hop findings (context, permissions) explain no traffic symptom. A
    symptom with no cause stays a root cause only when every hop between it and the pod was
    looked at; otherwise its cause may sit on the hop nothing could check, and it says so.
    """
    findings = list(findings)
    causes = [f for f in findings if not f.symptom and f.root_cause and f.severity is not Severity.INFO]
    out = []
    for f in findings:
        if f.severity is Severity.INFO:
            f = replace(f, root_cause=False)
        elif f.symptom and f.root_cause:
            # A degraded cause (warning) explains a degraded effect, never a broken one.
            candidates = [c for c in causes if 0 <= c.hop.depth <= f.hop.depth and c is not f
                          and c.severity.rank >= f.severity.rank]
            blind = _unchecked_below(f.hop, hops or {})
            if candidates:
                nearest = max(candidates, key=lambda c: (c.hop.depth, c.code))
                f = f.as_consequence_of(nearest)
            elif blind:
                f = f.as_unexplained(blind)
        out.append(f)
    return out


def _unchecked_below(hop: Hop, hops: dict[Hop, HopView]) -> str | None:
    """The first hop between `hop` and the pod that could not be checked, and why."""
    for inner in sorted((h for h in hops if 0 <= h.depth < hop.depth), key=lambda h: -h.depth):
        view = hops[inner]
        if view.state is HopState.UNKNOWN:
            return f"the {inner.value} hop could not be checked: {view.reason}"
    return None


def order_findings(findings: list[Finding]) -> list[Finding]:
    """Root causes first, then by severity, hop (pod first) and code: stable across runs."""
    return sorted(
        findings,
        key=lambda f: (not f.root_cause, -f.severity.rank, f.hop.depth, f.code, f.subject),
    )
