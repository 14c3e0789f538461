"""The OCI Native Ingress Controller's URL: its LB found by the IngressClass, the names it gives
what it makes, and the checks of its pod backends, rules and readiness gates."""

from __future__ import annotations

import copy

from okedoctor.chain import native as nat
from okedoctor.chain.ingress import RulePath
from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.options import parse_target
from okedoctor.registry import load_registry
from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR

HEALTHY = SCENARIOS_DIR / "healthy-native-ingress-url.yaml"
BLOCKED = SCENARIOS_DIR / "native-ingress-pod-subnet-blocks-lb.yaml"
STALE_GATE = SCENARIOS_DIR / "native-ingress-readiness-gate-false.yaml"
LB = "ocid1.loadbalancer.oc1.ap-tokyo-1.aaaaaaaanativeiclb"
BS = "bs_d9725067d07be5e"


def _doc(path=HEALTHY) -> dict:
    return copy.deepcopy(load_snapshot(path).to_dict())


def _report(doc: dict, target: str | None = None):
    snap = snapshot_from_dict(doc, "test")
    wanted = parse_target(target, "shop") if target else None
    tgt = resolve_target(snap, wanted, None, "test")
    return diagnose_snapshot(snap, tgt, load_registry([], entry_points_enabled=False))


def _obj(doc: dict, kind: str, name: str) -> dict:
    return next(o for o in doc["kubernetes"] if o["kind"] == kind and o["metadata"]["name"] == name)


def _codes(report, root: bool | None = None) -> set[str]:
    return {f.code for f in report.findings if root is None or f.root_cause is root}


def test_names_are_the_controllers_own():
    """The values oracle/oci-native-ingress-controller's pkg/util/util_test.go pins for its own functions."""
    assert nat.backend_set_name("default", "serviceA", 80) == "bs_cfb8fa8a831f46d"
    rule = RulePath({"kind": "Ingress", "metadata": {"name": "ingressName"}}, "foo.bar.com", "/test", "Exact",
                    "TestService", None)
    assert nat.rule_policy_name(rule) == "k8s_925195924b"
    assert nat.readiness_gate(rule) == "podreadiness.ingress.oraclecloud.com/k8s_925195924b"
    assert nat.listener_name(443) == "route_443"


def test_the_walk_goes_from_the_address_to_the_class_lb_and_draws_no_nodeport():
    report = _report(_doc())
    assert report.verdict.value == "ok"
    assert report.route["ingressClass"] == "native-ic" and report.route["loadBalancer"] == LB
    assert report.route["controller"] == "oci-native-ingress" and report.route["backendService"] == "shop/storefront"
    assert {h.value: v.state.value for h, v in report.hops.items()}["nodeport"] == "notApplicable"
    assert "pods' IPs" in report.hops[next(h for h in report.hops if h.value == "node")].reason


def test_the_ingress_status_finds_the_class_when_oci_was_not_read():
    doc = _doc()
    doc["oci"] = None
    report = _report(doc)
    assert report.route["ingressClass"] == "native-ic"  # the address the controller wrote on the Ingress
    hops = {h.value: v for h, v in report.hops.items()}
    assert hops["loadbalancer"].state.value == "unknown" and report.verdict.value == "unknown"


def test_a_ready_pod_missing_from_the_backend_set():
    doc = _doc()
    bset = next(b for b in doc["oci"]["loadBalancers"] if b["id"] == LB)["backendSets"][BS]
    bset["backends"] = [b for b in bset["backends"] if b["ipAddress"] != "10.0.32.44"]
    report = _report(doc)
    (f,) = [f for f in report.findings if f.code == "OKD-NIC-001"]
    assert f.severity.value == "warning" and f.evidence["missing"] == ["10.0.32.44:8080"]
    bset["backends"] = [{"name": "10.0.32.99:8080", "ipAddress": "10.0.32.99", "port": 8080}]
    report = _report(doc)
    (f,) = [f for f in report.findings if f.code == "OKD-NIC-001"]
    assert f.severity.value == "error" and f.evidence["stale"] == ["10.0.32.99:8080"]
    assert report.verdict.value == "failure"


def test_a_backend_set_the_controller_never_made():
    doc = _doc()
    del next(b for b in doc["oci"]["loadBalancers"] if b["id"] == LB)["backendSets"][BS]
    report = _report(doc)
    assert "OKD-NIC-001" in _codes(report, root=True)
    assert any(BS in c for f in report.findings for c in f.fix.commands)


def test_gates_set_false_by_the_controller_follow_from_the_blocked_rules():
    """The pods of the blocked scenario with the gate injected: the controller set it False."""
    doc = _doc(BLOCKED)
    gate = "podreadiness.ingress.oraclecloud.com/k8s_fc0729b70c"
    for name in ("storefront-6c9d7f5b8a-k2x8p", "storefront-6c9d7f5b8a-q7w4n"):
        pod = _obj(doc, "Pod", name)
        pod["spec"]["readinessGates"] = [{"conditionType": gate}]
        pod["status"]["conditions"] = [c for c in pod["status"]["conditions"] if c["type"] not in ("Ready", gate)] + [
            {"type": gate, "status": "False", "reason": "backend is CRITICAL"},
            {"type": "Ready", "status": "False", "reason": "ReadinessGatesNotReady"}]
    report = _report(doc)
    (f,) = [f for f in report.findings if f.code == "OKD-NIC-004"]
    assert f.caused_by == "OKD-NIC-003" and not f.root_cause and "backend is CRITICAL" in f.title
    assert "OKD-POD-020" not in _codes(report)  # the gate is set: something runs, OKD-NIC-004 says what
    assert _codes(report, root=True) >= {"OKD-NIC-003"}


def test_a_gate_the_lb_contradicts_is_reported_as_stale():
    """The LB finds the pod's backend OK, its gate still says UNKNOWN: the controller stopped rewriting it."""
    report = _report(_doc(STALE_GATE))
    (f,) = [f for f in report.findings if f.code == "OKD-NIC-004"]
    assert f.root_cause and f.caused_by is None and f.severity.value == "warning"
    assert f.title.endswith("although the LB finds their backends OK")
    assert f.evidence["lbHealth"] == {"10.0.32.14:8080": "OK"}
    assert "kubectl describe ingressclass native-ic" in f.fix.commands and "tied to" not in f.fix.summary


def test_a_gate_with_no_lb_view_names_no_cause():
    """Without the LB's view (OCI not read) the gate's finding claims neither a cause nor a stale gate."""
    doc = _doc(STALE_GATE)
    doc["oci"] = None
    report = _report(doc)
    (f,) = [f for f in report.findings if f.code == "OKD-NIC-004"]
    assert "lbHealth" not in f.evidence and "tied to" not in f.fix.summary and "although" not in f.title
    assert "does not find these pods healthy" in f.fix.summary


def test_parameters_missing_or_unreadable():
    doc = _doc()
    doc["kubernetes"] = [o for o in doc["kubernetes"] if o["kind"] != "IngressClassParameters"]
    report = _report(doc)
    (f,) = [f for f in report.findings if f.code == "OKD-NIC-005"]
    assert f.severity.value == "warning" and "native-ingress-controller-system/native-ic-params" in f.title
    doc["collection"] = {"kubernetes.ingressclassparameters": {
        "kind": "unavailable", "reason": "the IngressClassParameters CRD (ingress.oraclecloud.com/v1beta1) is "
                                         "not installed"}}
    report = _report(doc)
    assert report.verdict.value == "unknown" and "OKD-NIC-005" not in _codes(report)
    ingress = {h.value: v for h, v in report.hops.items()}["ingress"]
    assert ingress.state.value == "unknown" and "CRD" in ingress.reason


def test_parameters_named_without_a_namespace_are_never_found():
    """oracle/oci-native-ingress-controller#79: the class names the parameters without a namespace;
    the controller looks them up in none, so they are missing although they exist elsewhere."""
    doc = _doc()
    cls = _obj(doc, "IngressClass", "native-ic")
    del cls["spec"]["parameters"]["namespace"], cls["spec"]["parameters"]["scope"]
    report = _report(doc)
    (f,) = [f for f in report.findings if f.code == "OKD-NIC-005"]
    assert "native-ic-params without a namespace" in f.title and f.root_cause
    assert "spec.parameters.namespace" in f.fix.summary
    assert "kubectl get ingressclassparameters -A --field-selector metadata.name=native-ic-params" in f.fix.commands


def test_a_name_pointing_elsewhere_lists_the_native_lb():
    doc = _doc()
    doc["live"]["dns"] = {"shop.example.com": ["203.0.113.77"]}
    report = _report(doc)
    (f,) = [f for f in report.findings if f.code == "OKD-DNS-002"]
    assert {"ingressClass": "native-ic", "loadBalancer": LB, "addresses": ["203.0.113.50"]} in \
        f.evidence["loadBalancerServices"]


def test_an_ingress_target_from_a_file_walks_its_first_rule():
    report = _report(_doc(), "ingress/storefront")
    assert report.target.url == "http://shop.example.com/" and report.verdict.value == "ok"


def test_the_native_lb_checks_stay_silent_for_a_service():
    report = _report(_doc(SCENARIOS_DIR / "healthy-nlb.yaml"))
    assert not {c for c in _codes(report) if c.startswith("OKD-NIC-")}
