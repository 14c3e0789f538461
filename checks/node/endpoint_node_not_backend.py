"""OKD-NODE-007: with ETP Local, a node holding ready pods is not a backend of the load balancer."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import (
    NODE_MISSING_FROM_BACKENDS,
    backend_details,
    backend_set_update_command,
    node_backends,
)
from okedoctor.chain.nodes import backend_ips, etp_local, why_not_backend
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.kube import ready_endpoint_nodes
from okedoctor.model import Finding, Fix, Hop, Severity


class EndpointNodeNotBackend(Check):
    """With externalTrafficPolicy Local, nodes holding ready pods of the Service are not backends of its LB.

    What it checks
        The nodes that hold a ready endpoint of the Service (EndpointSlices) against the IPs of
        the LB/NLB's backends. Only with externalTrafficPolicy Local: with Cluster any backend
        forwards to pods on any node. It names what keeps each node out when a node check
        explains it (exclusion label, autoscaler deletion, missing providerID).

    Why it breaks
        With ETP Local a backend passes the LB health check only when it holds a ready pod. If
        the nodes holding pods are not backends, every backend fails its check and the LB
        drops the traffic (some missing: less capacity, uneven load).

    How to fix
        Fix what keeps the node out (its own finding), or, when nothing does, make the cloud
        controller reconcile the Service (a no-op annotation change) and read its events;
        ETP Cluster avoids the dependency on pod placement.
    """

    code = "OKD-NODE-007"
    name = "endpoint-node-not-lb-backend"
    hop = Hop.NODE
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        if not facts.service or not etp_local(facts):
            return
        backends = backend_ips(facts)
        if backends is None:
            return
        ready = ready_endpoint_nodes(facts, facts.service)
        outside = []
        for name in sorted(ready):
            node = facts.node(name)
            ip = facts.node_internal_ip(node) if node else None
            if node and ip not in backends:
                outside.append((name, ip, why_not_backend(node)))
        if not outside:
            return
        none_in = len(outside) == len(ready)
        ns, sname = facts.service["metadata"].get("namespace", ""), facts.service["metadata"]["name"]
        causes = {c for _, _, c in outside}
        cause = causes.pop() if len(causes) == 1 else None
        if cause is None and not causes and facts.load_balancer.ccm_managed:
            # Nodes that qualify and are missing: the LB-hop check reports the controller not syncing them.
            cause = NODE_MISSING_FROM_BACKENDS
        yield self.finding(
            f"{len(outside)} of {len(ready)} node(s) holding ready pods of {sname} are not LB backends"
            + (": no backend can pass the externalTrafficPolicy Local health check" if none_in else ""),
            subject=f"service/{ns}/{sname}",
            evidence={"externalTrafficPolicy": "Local", "nodesNotBackends": [
                {"node": n, "ip": ip, **({"explainedBy": c} if c else {})} for n, ip, c in outside],
                "backendIPs": sorted(backends)},
            fix=_fix(facts, ns, sname, outside),
            severity=Severity.ERROR if none_in else Severity.WARNING,
            caused_by=cause,
        )


def _fix(facts: Facts, ns: str, sname: str, outside: list[tuple]) -> Fix:
    ref = facts.load_balancer
    if ref.ccm_managed:
        return Fix("Fix what keeps those nodes out of the backend set; when nothing does, make the cloud "
                   "controller reconcile the Service and read its events.",
                   (f"kubectl -n {ns} annotate service {sname} okedoctor/reconcile=\"$(date +%s)\" --overwrite",
                    f"kubectl -n {ns} get events --field-selector involvedObject.name={sname}"))
    # A load balancer made by hand: add the nodes ourselves, on the port its backends already use,
    # in one update of each set's list (a create per node conflicts while the first one runs).
    commands = []
    for set_name, bs in sorted(ref.backend_sets.items()):
        port = next((b.get("port") for b in bs.get("backends") or []), None)
        ips = [ip for _, ip, _ in outside if ip]
        if port and ips:
            kept = [backend_details(ref, b, int(b.get("port") or port)) for b in bs.get("backends") or []]
            commands.append(backend_set_update_command(
                ref, set_name, bs, new_backends=kept + node_backends(ref, facts, ips, int(port))))
    return Fix("Add the nodes that hold the pods to the hand-made load balancer's backend sets (or run pods on "
               "every backend node, or use externalTrafficPolicy Cluster).", tuple(commands))
