"""The annotation values the cloud controller manager rejects (OKD-LB-002), case by case."""

from __future__ import annotations

import pytest

from okedoctor.chain.annotations import annotation_problems, kubectl_fix

NLB = {"oci.oraclecloud.com/load-balancer-type": "nlb"}


def svc(annotations, etp="Cluster", ports=(("TCP", 80),)):
    return {"metadata": {"name": "app", "namespace": "shop", "annotations": annotations},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": etp,
                     "ports": [{"protocol": p, "port": n} for p, n in ports]}}


@pytest.mark.parametrize("value", ["SL-All", "sl-all", "SL-Frontend", "NSG", "None"])
def test_accepted_rule_modes(value):
    assert annotation_problems(svc({"oci.oraclecloud.com/security-rule-management-mode": value})) == []


@pytest.mark.parametrize(("value", "suggested"), [("Frontend", "SL-Frontend"), ("All", "SL-All"), ("none", "None")])
def test_rejected_rule_modes_get_the_right_value(value, suggested):
    (problem,) = annotation_problems(svc({"oci.oraclecloud.com/security-rule-management-mode": value}))
    assert problem.suggested == suggested


def test_preserve_source_with_cluster_policy_is_rejected_and_removed():
    s = svc(NLB | {"oci-network-load-balancer.oraclecloud.com/is-preserve-source": "true"})
    (problem,) = annotation_problems(s)
    assert "externalTrafficPolicy" in problem.why and problem.suggested is None
    assert kubectl_fix(s, [problem]).endswith("oci-network-load-balancer.oraclecloud.com/is-preserve-source-")
    local = svc(NLB | {"oci-network-load-balancer.oraclecloud.com/is-preserve-source": "true"}, etp="Local")
    assert annotation_problems(local) == []


@pytest.mark.parametrize(("flavor", "interval", "bad"), [
    ("nlb", "5000", True), ("nlb", "10000", False), ("lb", "5000", False), ("lb", "500", True),
    ("nlb", "2000000", True), ("nlb", "ten", True),
])
def test_health_check_interval_ranges(flavor, interval, bad):
    key = ("oci-network-load-balancer.oraclecloud.com/health-check-interval" if flavor == "nlb"
           else "service.beta.kubernetes.io/oci-load-balancer-health-check-interval")
    ann = (NLB if flavor == "nlb" else {}) | {key: interval}
    assert bool(annotation_problems(svc(ann))) is bad


def test_udp_on_l7_load_balancer_and_flexible_shape_without_bounds():
    problems = annotation_problems(svc({"service.beta.kubernetes.io/oci-load-balancer-shape": "flexible"},
                                       ports=(("UDP", 53),)))
    keys = {p.key for p in problems}
    assert keys == {"oci.oraclecloud.com/load-balancer-type",
                    "service.beta.kubernetes.io/oci-load-balancer-shape-flex-min",
                    "service.beta.kubernetes.io/oci-load-balancer-shape-flex-max"}
    assert annotation_problems(svc(NLB, ports=(("UDP", 53),))) == []
