"""The runner: ordering, skipped checks, root-cause marking, verdicts."""

from __future__ import annotations

from okedoctor.check import Check, CheckSkipped
from okedoctor.facts import Facts
from okedoctor.model import CHAIN, Fix, Hop, HopState, Severity, SkipKind, Verdict
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


def quiet(*hops):
    """Checks that look at each hop (every hop of the chain by default) and find nothing."""
    out = []
    for hop in hops or CHAIN:
        c = make_check(f"T-{hop.name}-900", hop)
        c.run = lambda self, facts: iter(())
        out.append(c)
    return out


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


def test_symptom_without_a_cause_stays_a_root_cause_when_every_inner_hop_was_checked():
    report = run_checks(facts(), registry(*quiet(), make_check("T-LB-002", Hop.LOADBALANCER, symptom=True)))
    assert report.findings[0].root_cause and report.findings[0].caused_by is None


def test_an_effect_whose_cause_could_not_be_looked_at_is_not_a_root_cause():
    snap = load_snapshot(SCENARIOS_DIR / "internet-timeout-no-oci.yaml")
    inet = make_check("T-INET-002", Hop.INTERNET, symptom=True)
    report = run_checks(Facts(snap), registry(*quiet(), inet))
    (f,) = report.findings
    assert not f.root_cause and f.caused_by is None
    assert "loadbalancer hop could not be checked" in f.cause_unknown and "OCI" in f.cause_unknown
    assert report.root_causes == [] and report.verdict is Verdict.FAILURE
    assert f.to_dict()["causeUnknown"] == f.cause_unknown


def test_info_findings_are_never_root_causes():
    report = run_checks(facts(), registry(*quiet(), make_check("T-CL-009", Hop.CLUSTER, severity=Severity.INFO)))
    assert [f.to_dict()["rootCause"] for f in report.findings] == [False]


def test_a_consequence_names_its_cause_in_the_fix():
    pod = make_check("T-POD-001", Hop.POD)
    inet = make_check("T-INET-001", Hop.INTERNET, symptom=True)
    report = run_checks(facts(), registry(*quiet(), pod, inet))
    effect = next(f for f in report.findings if f.code == "T-INET-001")
    assert effect.caused_by == "T-POD-001" and "T-POD-001" in effect.fix.summary and "T-POD-001 broke" in \
        effect.fix.summary


def test_a_degraded_cause_explains_a_degraded_effect_but_not_a_broken_one():
    node = make_check("T-NODE-001", Hop.NODE, severity=Severity.WARNING)
    lb_warn = make_check("T-LB-002", Hop.LOADBALANCER, severity=Severity.WARNING, symptom=True)
    inet_err = make_check("T-INET-001", Hop.INTERNET, symptom=True)
    by = {f.code: f for f in run_checks(facts(), registry(*quiet(), node, lb_warn, inet_err)).findings}
    assert by["T-LB-002"].caused_by == "T-NODE-001"
    assert by["T-INET-001"].root_cause and by["T-INET-001"].caused_by is None


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


def test_missing_oci_facts_leave_the_lb_hop_unknown_never_ok():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.oci = None
    needs_oci = make_check("T-LB-003", Hop.LOADBALANCER, needs=("kubernetes", "oci"))
    report = run_checks(Facts(snap), registry(*quiet(), needs_oci))
    assert report.findings == []
    assert report.skipped[0].kind is SkipKind.NOT_OBSERVED and "OCI" in report.skipped[0].reason
    assert report.hop_status(Hop.LOADBALANCER) is HopState.UNKNOWN
    assert "OCI" in report.to_dict()["hopReasons"]["loadbalancer"]
    assert report.verdict is Verdict.UNKNOWN


def test_denied_facts_make_the_verdict_unknown():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.collection = {"oci": {"kind": "denied", "reason": "Allow group X to read load-balancers in ..."}}
    report = run_checks(Facts(snap), registry(make_check("T-LB-003", Hop.LOADBALANCER, needs=("oci",))))
    assert report.verdict is Verdict.UNKNOWN and report.verdict.exit_code == 3
    assert "Allow group" in report.skipped[0].reason


def test_check_skipped_signal_is_a_skip_not_an_error():
    report = run_checks(facts(), registry(*quiet(), make_check("T-POD-003", Hop.POD, raises=CheckSkipped("no probe"))))
    assert report.skipped[0].kind is SkipKind.NOT_OBSERVED and report.verdict is Verdict.OK


def test_verdicts_map_to_exit_codes():
    err = make_check("T-POD-001", Hop.POD)
    warn = make_check("T-NODE-001", Hop.NODE, severity=Severity.WARNING)
    info = make_check("T-CL-001", Hop.CLUSTER, severity=Severity.INFO)
    assert run_checks(facts(), registry(*quiet(), info)).verdict.exit_code == 0
    assert run_checks(facts(), registry(*quiet(), info, warn)).verdict.exit_code == 1
    assert run_checks(facts(), registry(*quiet(), info, warn, err)).verdict.exit_code == 2
    # Nothing looked at the chain: that is not healthy.
    assert run_checks(facts(), registry(info)).verdict.exit_code == 3


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
    report = run_checks(Facts(snap), registry(*quiet(Hop.LOADBALANCER, Hop.NODEPORT, Hop.NODE), inet, pod))
    assert report.hop_status(Hop.INTERNET) is HopState.UNKNOWN
    assert report.hop_status(Hop.POD) is HopState.OK
    # A hop on the path that nothing observed makes the answer unknown, not healthy.
    assert report.verdict is Verdict.UNKNOWN
    assert report.to_dict()["hops"]["internet"] == "unknown"


def test_a_hop_whose_checks_were_denied_is_unknown():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.collection = {"oci": {"kind": "denied", "reason": "Allow group X to read load-balancers"}}
    lb = make_check("T-LB-003", Hop.LOADBALANCER, needs=("oci",))
    lb_ok = make_check("T-LB-004", Hop.LOADBALANCER, severity=Severity.INFO)
    report = run_checks(Facts(snap), registry(lb, lb_ok))
    assert report.hop_status(Hop.LOADBALANCER) is HopState.UNKNOWN
    assert report.skipped[0].to_dict()["hop"] == "loadbalancer"


def _no_exec(name):
    snap = load_snapshot(SCENARIOS_DIR / f"{name}.yaml")
    snap.collection = {**(snap.collection or {}),
                       "live.probe": {"kind": "disabled", "reason": "--no-exec: the in-pod probe was not run"}}
    return Facts(snap)


def test_no_exec_leaves_the_pod_hop_unknown_unless_the_public_address_answered(builtin_registry):
    private = run_checks(_no_exec("private-nlb"), builtin_registry)
    assert private.hop_status(Hop.POD) is HopState.UNKNOWN and "--no-exec" in private.hop_view(Hop.POD).reason
    assert private.verdict is Verdict.UNKNOWN
    public = run_checks(_no_exec("healthy-nlb"), builtin_registry)
    assert public.hop_status(Hop.POD) is HopState.OK and public.verdict is Verdict.OK


def test_hop_states_of_services_that_are_not_public(builtin_registry):
    def hops(name):
        return run_checks(Facts(load_snapshot(SCENARIOS_DIR / f"{name}.yaml")), builtin_registry).to_dict()["hops"]

    assert hops("clusterip-service")["loadbalancer"] == "notApplicable"
    assert hops("private-nlb")["internet"] == "notApplicable"
    # A LoadBalancer Service whose LB was never made: no public address to reach.
    pending = hops("lb-pending-quota")
    assert (pending["loadbalancer"], pending["nodeport"], pending["internet"]) == ("error", "notReached", "notReached")
