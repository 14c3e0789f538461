"""OKD-LB-003: the LB/NLB is not in the ACTIVE state."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import cli, kind_name
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop, Severity

IN_PROGRESS = {"CREATING", "UPDATING"}


class LoadBalancerNotActive(Check):
    """The load balancer or network load balancer is not ACTIVE.

    What it checks
        The lifecycleState of the LB/NLB that fronts the Service: ACTIVE is the only state in
        which it is known to serve its current configuration. CREATING/UPDATING is reported as
        a warning (a change is being applied), FAILED, DELETING and DELETED as errors.

    Why it breaks
        A failed work request (a bad certificate, an update racing another one, a service
        issue) leaves an LB FAILED; the cloud controller manager refuses to update an L7 LB
        that is not ACTIVE ("rejecting request to update LB which is not in ACTIVE state"), so
        NodePort and node changes stop reaching it. A DELETING/DELETED LB is on its way out.

    How to fix
        Read the last work requests of the LB (the printed command) for the error. For a
        FAILED NLB the cloud controller manager retries its update on the next sync; for a
        FAILED LB, fix the cause and retry the change, or delete it and let the controller
        recreate it (the public IP changes unless it is a reserved IP).
    """

    code = "OKD-LB-003"
    name = "load-balancer-not-active"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref:
            return
        state = ref.body.get("lifecycleState") or "UNKNOWN"
        if state == "ACTIVE":
            return
        compartment = ref.body.get("compartmentId") or "<compartment-ocid>"
        if ref.flavor == "nlb":
            # `oci nlb work-request list` has no --sort-order and no NLB filter: it lists the whole
            # compartment, so the query keeps this NLB's requests.
            command = (f"oci nlb work-request list --compartment-id {compartment} --all --query "
                       f"\"data.items[?resources[?identifier=='{ref.id}']]\"")
        else:
            command = f"{cli(ref)} work-request list --load-balancer-id {ref.id} --limit 5"
        yield self.finding(
            f"The {kind_name(ref)} {ref.body.get('displayName')} is {state}, not ACTIVE",
            evidence={"lb": ref.id, "lifecycleState": state, "lifecycleDetails": ref.body.get("lifecycleDetails"),
                      "timeUpdated": ref.body.get("timeUpdated")},
            severity=Severity.WARNING if state in IN_PROGRESS else Severity.ERROR,
            fix=Fix(summary="Read the failed work request; fix its cause and let the change be retried.",
                    commands=(command,)),
            subject=ref.id,
        )
