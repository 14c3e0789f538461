"""The runner: ordering, skipped checks, root-cause marking, verdicts."""

from __future__ import annotations

from okedoctor.check import Check, CheckSkipped
from okedoctor.facts import Facts
from okedoctor.model import Fix, Hop, Severity, SkipKind, Verdict
from okedoctor.registry import Registry
from okedoctor.runner import mark_root_causes, run_checks
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR

DOC = """{title}

What it checks
    x
Why it breaks
    x
How to fix
    x
"""


def make_check(code, hop, severity=Severity.ERROR, symptom=False, raises=None, needs=("kubernetes",)):
    class _C(Check):
        __doc__ = DOC.format(title=code)

        def run(self, facts):
            if raises:
                raise raises
            yield self.finding(f"{code} broke", evidence={"k": 1}, fix=Fix("fix it"), subject=code)

    _C.code, _C.name, _C.hop, _C.severity, _C.symptom, _C.needs = code, code.lower(), hop, severity, symptom, needs
    return _C


def facts():
    return Facts(load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml"))


def registry(*checks):
    reg = Registry()
    for c in checks:
        reg.add(c, "test")
    return reg


def test_symptom_becomes_consequence_of_nearest_cause_closer_to_pod():
    pod = make_check("T-POD-001", Hop.POD)
    lb_cause = make_check("T-LB-001", Hop.LOADBALANCER)
    lb_symptom = make_check("T-LB-002", Hop.LOADBALANCER, symptom=True)
    inet = make_check("T-INET-001", Hop.INTERNET, symptom=True)
    report = run_checks(facts(), registry(inet, lb_symptom, lb_cause, pod))
    by_code = {f.code: f for f in report.findings}
    assert by_code["T-POD-001"].root_cause and by_code["T-LB-001"].root_cause
    # The LB's own misconfiguration explains the LB symptom before the pod fault does.
    assert by_code["T-LB-002"].caused_by == "T-LB-001" and not by_code["T-LB-002"].root_cause
    assert by_code["T-INET-001"].caused_by == "T-LB-001"
    # Root causes come first in the report.
    assert [f.root_cause for f in report.findings] == [True, True, False, False]


def test_symptom_without_a_cause_stays_a_root_cause():
    report = run_checks(facts(), registry(make_check("T-LB-002", Hop.LOADBALANCER, symptom=True)))
    assert report.findings[0].root_cause and report.findings[0].caused_by is None


def test_cause_further_from_the_pod_does_not_explain_a_symptom_closer_to_it():
    out = mark_root_causes([
        make_check("T-INET-001", Hop.INTERNET)().finding("x", evidence={}, fix=Fix("y")),
        make_check("T-POD-009", Hop.POD, symptom=True)().finding("x", evidence={}, fix=Fix("y")),
    ])
    assert all(f.root_cause for f in out)


def test_a_crashing_check_is_skipped_with_reason_and_the_rest_still_run():
    boom = make_check("T-POD-002", Hop.POD, raises=KeyError("status"))
    fine = make_check("T-NODE-001", Hop.NODE, severity=Severity.WARNING)
    report = run_checks(facts(), registry(boom, fine))
    assert [f.code for f in report.findings] == ["T-NODE-001"]
    (skip,) = report.skipped
    assert skip.kind is SkipKind.ERROR and "KeyError" in skip.reason and skip.code == "T-POD-002"
    # A crashed check makes the result unknown: nothing proves the hop it covers is fine.
    assert report.verdict is Verdict.UNKNOWN


def test_missing_facts_skip_the_check_without_making_the_verdict_unknown():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.oci = None
    needs_oci = make_check("T-LB-003", Hop.LOADBALANCER, needs=("kubernetes", "oci"))
    report = run_checks(Facts(snap), registry(needs_oci))
    assert report.findings == []
    assert report.skipped[0].kind is SkipKind.NOT_OBSERVED and "OCI" in report.skipped[0].reason
    assert report.verdict is Verdict.OK


def test_denied_facts_make_the_verdict_unknown():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.collection = {"oci": {"kind": "denied", "reason": "Allow group X to read load-balancers in ..."}}
    report = run_checks(Facts(snap), registry(make_check("T-LB-003", Hop.LOADBALANCER, needs=("oci",))))
    assert report.verdict is Verdict.UNKNOWN and report.verdict.exit_code == 3
    assert "Allow group" in report.skipped[0].reason


def test_check_skipped_signal_is_a_skip_not_an_error():
    report = run_checks(facts(), registry(make_check("T-POD-003", Hop.POD, raises=CheckSkipped("no probe"))))
    assert report.skipped[0].kind is SkipKind.NOT_OBSERVED and report.verdict is Verdict.OK


def test_verdicts_map_to_exit_codes():
    err = make_check("T-POD-001", Hop.POD)
    warn = make_check("T-NODE-001", Hop.NODE, severity=Severity.WARNING)
    info = make_check("T-CL-001", Hop.CLUSTER, severity=Severity.INFO)
    assert run_checks(facts(), registry(info)).verdict.exit_code == 0
    assert run_checks(facts(), registry(info, warn)).verdict.exit_code == 1
    assert run_checks(facts(), registry(info, warn, err)).verdict.exit_code == 2


def test_order_is_stable_across_runs():
    checks = [make_check(f"T-POD-{i:03d}", Hop.POD) for i in (5, 1, 3)]
    a = [f.code for f in run_checks(facts(), registry(*checks)).findings]
    b = [f.code for f in run_checks(facts(), registry(*reversed(checks))).findings]
    assert a == b == ["T-POD-001", "T-POD-003", "T-POD-005"]


def test_a_hop_nothing_checked_is_drawn_unknown_not_ok():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.live = {}
    inet = make_check("T-INET-009", Hop.INTERNET, needs=("live.internet",))
    pod = make_check("T-POD-009", Hop.POD, severity=Severity.INFO)
    report = run_checks(Facts(snap), registry(inet, pod))
    assert report.hop_status(Hop.INTERNET) is Verdict.UNKNOWN
    assert report.hop_status(Hop.POD) is Verdict.OK
    # Not observed is not a failure to run: the exit code stays 0.
    assert report.verdict is Verdict.OK
    assert report.to_dict()["hops"]["internet"] == "unknown"


def test_a_hop_whose_checks_were_denied_is_unknown():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.collection = {"oci": {"kind": "denied", "reason": "Allow group X to read load-balancers"}}
    lb = make_check("T-LB-003", Hop.LOADBALANCER, needs=("oci",))
    lb_ok = make_check("T-LB-004", Hop.LOADBALANCER, severity=Severity.INFO)
    report = run_checks(Facts(snap), registry(lb, lb_ok))
    assert report.hop_status(Hop.LOADBALANCER) is Verdict.UNKNOWN
    assert report.skipped[0].to_dict()["hop"] == "loadbalancer"
