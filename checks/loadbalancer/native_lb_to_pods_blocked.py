"""OKD-NIC-003: the VCN's rules block the native ingress LB from the rule's pods."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import native as nat
from okedoctor.chain import route as routes
from okedoctor.chain.podnet import gap_fix
from okedoctor.check import Check, CheckSkipped
from okedoctor.facts import Facts
from okedoctor.model import Finding, Hop


class NativeLbToPodsBlocked(Check):
    """The security lists / NSGs do not let the native ingress LB reach the pods on the target port.

    What it checks
        For a URL served by the OCI Native Ingress Controller's LB: the LB subnet's security lists
        plus the LB's NSGs must allow TCP egress to each pod IP of the rule on its target port,
        and the pod VNIC's subnet security lists plus NSGs must allow that port in from the LB
        subnet (a stateless rule needs its return rule).
    Why it breaks
        The controller's LB sends to the pods' own IPs in the pod subnet, not to NodePorts on the
        workers: rules written for the cloud controller manager's LBs (LB subnet to the workers on
        30000-32767) do not cover it, and nothing writes these rules for the controller. Every
        health check then fails to connect, all backends turn CRITICAL and the URL answers 502.
    How to fix
        Add the rule on the side that lacks it: an egress rule on the LB subnet's security list
        (or the LB's NSG) to the pod subnet, an ingress rule on the pod subnet's security list (or
        the pods' NSG) from the LB subnet, TCP on the target port. `security-list update` replaces
        every rule of that direction: the printed command carries the existing ones.
    """

    code = "OKD-NIC-003"
    name = "native-lb-to-pods-blocked"
    hop = Hop.LOADBALANCER
    # OCI is read only for a URL through the native LB: a Service diagnosis never lists these as skipped.
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.native_class is None:
            return
        target = nat.rule_target(facts, walk)
        if target is None or not target.expected:
            return
        gaps = nat.lb_pod_gaps(facts, target)
        if gaps is None:
            raise CheckSkipped("the rules of the LB subnet or of the pods' VNICs were not read, or the pods' IPs "
                               "are in no subnet of their nodes (an overlay network)")
        for gap in gaps:
            direction = "egress to" if gap.direction == "EGRESS" else "ingress from"
            yield self.finding(
                f"the rules of {gap.side.label} do not allow {direction} {gap.peer_cidr} on "
                f"{', '.join(t.describe() for t in gap.traffic)}: the native ingress LB cannot reach the pods",
                subject=f"{gap.side.subnet_id}/{gap.direction.lower()}/{gap.peer_cidr}",
                evidence={"loadBalancer": target.ref.id, "side": gap.side.label, "direction": gap.direction,
                          "peer": gap.peer_cidr, "flows": gap.flows,
                          "evaluated": [rs.label() for rs in gap.side.rulesets],
                          "returnRuleMissing": gap.return_missing},
                fix=gap_fix(gap, "between the native ingress LB and the pods"),
            )
