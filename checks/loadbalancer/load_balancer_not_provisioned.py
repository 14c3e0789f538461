"""OKD-LB-001: a Service of type LoadBalancer that has no load balancer, and why."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from typing import Any

from okedoctor.chain.annotations import annotation_problems
from okedoctor.chain.lb import INVALID_ANNOTATION, spec, wanted_flavor
from okedoctor.check import Check, subject_of
from okedoctor.facts import KIND_FACTS, Facts
from okedoctor.kube import event_quote
from okedoctor.model import Finding, Fix, Hop, Severity

FAILED = "SyncLoadBalancerFailed"


def _cause(message: str, facts: Facts) -> tuple[str, str, tuple[str, ...]]:
    """(what went wrong, what to do, commands) read from the CCM's event message."""
    compartment = facts.context.get("compartmentId") or "<compartment-ocid>"
    if "LimitExceeded" in message:
        limit = (re.search(r"exceeded:\s*([\w-]+)", message) or [None, "the load-balancer limit"])[1]
        return (f"the tenancy's service limit {limit} is used up",
                "Request a limit increase, delete unused load balancers, or ask for another shape "
                "(service.beta.kubernetes.io/oci-load-balancer-shape: flexible with -shape-flex-min/-max).",
                (f"oci limits resource-availability get --service-name load-balancer --limit-name {limit} "
                 f"--compartment-id {compartment}",))
    if "NotAuthorizedOrNotFound" in message or "not authorized" in message.lower():
        if "NetworkSecurityGroup" in message:
            # NSG mode: the CCM creates the frontend NSG itself and needs IAM for it (OKE documentation).
            statements = [f"Allow any-user to manage {what} in compartment id {compartment} where "
                          "request.principal.type = 'cluster'"
                          for what in ("network-security-groups", "vcns", "virtual-network-family")]
            return ("the cluster is not allowed to manage network security groups",
                    "Create a policy (a new one: updating a policy replaces all its statements) with: "
                    f"{statements[0]}; and the same for vcns and virtual-network-family. The cloud controller "
                    "manager retries by itself.",
                    (f"oci iam policy list --compartment-id {compartment} --all",
                     f"oci iam policy create --compartment-id {compartment} --name oke-ccm-nsg-mode "
                     "--description 'OKE cloud controller manager: NSG security rule management' "
                     f"--statements {shlex.quote(json.dumps(statements))}"))
        return ("the cluster is not allowed to manage load balancers or the VCN, or an OCID it was given does not "
                "exist",
                "Check the subnet/NSG OCIDs in the Service annotations, and the IAM policies that let the "
                "cluster manage load balancers and network resources in this compartment.",
                (f"oci iam policy list --compartment-id {compartment} --all",))
    if "subnet" in message.lower():
        return ("the load balancer subnet is missing, wrong, or full",
                "Give a valid LB subnet: annotation service.beta.kubernetes.io/oci-load-balancer-subnet1 (LB) or "
                "oci-network-load-balancer.oraclecloud.com/subnet (NLB), or fix the cluster's LB subnet setting.",
                ())
    return ("the cloud controller manager could not create the load balancer",
            "Read the full event message; the CCM retries by itself once the cause is fixed.", ())


def _failures(facts: Facts, svc: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in facts.events_for(svc) if e.get("reason") == FAILED]


class LoadBalancerNotProvisioned(Check):
    """A Service of type LoadBalancer has no load balancer (status.loadBalancer is empty).

    What it checks
        A Service of type LoadBalancer whose status.loadBalancer.ingress is empty (and, when OCI
        was read, with no LB/NLB found for it), with the reason from the Service's
        SyncLoadBalancerFailed events: a service limit (LimitExceeded, e.g. lb-100mbps-count),
        IAM or a wrong OCID (NotAuthorizedOrNotFound), the LB subnet, or an annotation value
        the cloud controller manager rejects (then tied to OKD-LB-002). Also a Service whose
        ingress IP is set but whose LB was not found, by name, address or backends, in any
        compartment searched (named in the evidence: the Service's annotation, the cluster's,
        the nodes', and --compartment-id).

    Why it breaks
        The cloud controller manager creates the LB/NLB on its own, asynchronously; when the
        OCI call fails it records an event and retries forever, and `kubectl get svc` shows
        EXTERNAL-IP <pending> with no other sign.

    How to fix
        Fix what the event says (limit increase or another shape, IAM policy, subnet OCID,
        annotation value); the CCM retries by itself. `kubectl describe service NAME` shows the
        events. A load balancer renamed in the console or moved to another compartment is no
        longer found by its display name: pass it with --lb-ocid.
    """

    code = "OKD-LB-001"
    name = "load-balancer-not-provisioned"
    hop = Hop.LOADBALANCER

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        if not svc or spec(svc).get("type") != "LoadBalancer":
            return
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        meta = svc["metadata"]
        describe = f"kubectl describe service -n {meta.get('namespace')} {meta.get('name')}"
        if ingress:
            if facts.load_balancer is None and facts.unavailable("oci") is None:
                searched = facts.searched_compartments
                yield self.finding(
                    f"The Service has ingress {', '.join(i.get('ip', '') for i in ingress)}, but no "
                    f"{wanted_flavor(svc).upper()} with its display name, address or backends was found in "
                    f"compartment{'s' if len(searched) > 1 else ''} {', '.join(searched) or '(none known)'}",
                    evidence={"ingress": ingress, "uid": meta.get("uid"), "compartmentsSearched": searched},
                    severity=Severity.WARNING,
                    fix=Fix(summary="If the LB was renamed or moved to another compartment, name it with --lb-ocid "
                                    "or search that compartment too with --compartment-id "
                                    "(or annotate oci.oraclecloud.com/compartment-id)."),
                    subject=subject_of(svc),
                )
            return
        failures = _failures(facts, svc)
        last = failures[-1] if failures else None
        # Only an event seen to be absent makes it a grace period (a warning): unread events
        # may hold the failure, and a failure must not be downgraded for want of a read.
        unread = facts.unavailable(KIND_FACTS["Event"])
        message = (last or {}).get("message") or (last or {}).get("note") or ""
        caused_by = INVALID_ANNOTATION if annotation_problems(svc) else None
        if caused_by:
            what, todo, commands = ("an annotation value is rejected", "Correct the annotation (OKD-LB-002).", ())
        elif last:
            what, todo, commands = _cause(message, facts)
        elif unread:
            what, todo, commands = (f"its events could not be read, so the cause is not known ({unread.reason})",
                                    "Read the Service events (SyncLoadBalancerFailed names the cause).", ())
        else:
            what, todo, commands = ("no SyncLoadBalancerFailed event explains it yet",
                                    "Wait a minute and read the Service events; the CCM may still be creating it.", ())
        yield self.finding(
            f"Service {meta.get('namespace')}/{meta.get('name')} has no load balancer (EXTERNAL-IP pending): {what}",
            evidence={"type": "LoadBalancer", "loadBalancerType": wanted_flavor(svc),
                      "compartmentsSearched": facts.searched_compartments,
                      "lastEvent": event_quote(last) if last else None},
            severity=Severity.ERROR if (last or caused_by or unread) else Severity.WARNING,
            fix=Fix(summary=todo, commands=(*commands, describe)),
            subject=subject_of(svc),
            caused_by=caused_by,
        )
