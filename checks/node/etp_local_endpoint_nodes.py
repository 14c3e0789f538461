"""OKD-NODE-008: with ETP Local, which nodes hold a ready endpoint (information)."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.nodes import etp_local, uses_lb
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import name_of, ready_endpoint_nodes
from okedoctor.model import Finding, Fix, Hop, Severity


class EtpLocalEndpointNodes(Check):
    """With externalTrafficPolicy Local: the nodes holding a ready endpoint, and the ones expected to fail the LB check.

    What it checks
        For a LoadBalancer Service with `externalTrafficPolicy: Local`: the nodes holding ready
        endpoints, the nodes without, and the healthCheckNodePort kube-proxy answers on.

    Why it breaks
        It does not, by itself. With ETP Local kube-proxy answers the LB's health check on
        healthCheckNodePort with 200 only on nodes holding a ready pod of the Service and 503
        elsewhere, so the LB sends traffic only where a pod runs and the client address is
        preserved. Backends without a pod read Critical (INVALID_STATUS_CODE) by design: that is
        not an error. It becomes one only when no backend holds a pod.

    How to fix
        Nothing to fix. To spread traffic evenly, run pods on more nodes (topology spread
        constraints or more replicas); to avoid the dependency, use ETP Cluster.
    """

    code = "OKD-NODE-008"
    name = "etp-local-endpoint-nodes"
    hop = Hop.NODE
    severity = Severity.INFO

    def run(self, facts: Facts) -> Iterator[Finding]:
        if not facts.service or not etp_local(facts) or not uses_lb(facts):
            return
        ready = ready_endpoint_nodes(facts, facts.service)
        without = sorted(name_of(n) for n in facts.nodes if name_of(n) not in ready)
        ns, name = facts.service["metadata"].get("namespace", ""), facts.service["metadata"]["name"]
        port = facts.service["spec"].get("healthCheckNodePort")
        yield self.finding(
            f"externalTrafficPolicy Local: {len(ready)} node(s) hold a ready endpoint of {name}; "
            f"{len(without)} node(s) answer the LB health check with 503 by design",
            subject=f"service/{ns}/{name}",
            evidence={"healthCheckNodePort": port, "nodesWithReadyEndpoints": dict(sorted(ready.items())),
                      "nodesWithout": without},
            fix=Fix("Nothing to fix: backends without a pod are expected to fail the health check.",
                    (f"kubectl -n {ns} get endpointslices -l kubernetes.io/service-name={name} -o wide",)),
        )
