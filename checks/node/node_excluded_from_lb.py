"""OKD-NODE-004: a node is labelled to be left out of external load balancers."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.nodes import EXCLUDE_LABEL, etp_local, nodes_excluded_by_label, ready_service_pods_on, uses_lb
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import name_of, ready_endpoint_nodes
from okedoctor.model import Finding, Fix, Hop, Severity


class NodeExcludedFromLB(Check):
    """A node carries the label node.kubernetes.io/exclude-from-external-load-balancers, so no LB uses it.

    What it checks
        Nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers` (any value but
        false). With externalTrafficPolicy Local it matters only if the node holds ready pods of
        the Service: a warning when other backends hold some too, an error when the excluded
        nodes hold them all. With ETP Cluster it is information (kube-proxy on the other nodes
        forwards to pods anywhere).

    Why it breaks
        The cloud controller manager never adds such a node to a load balancer's backend set.
        With externalTrafficPolicy Local only nodes holding a ready pod pass the LB health
        check, so pods that run only on excluded nodes are unreachable: every backend fails
        the health check and the LB drops the traffic.

    How to fix
        Remove the label (`kubectl label node NODE EXCLUDE_LABEL-`) when it is not intended, or
        keep the Service's pods off excluded nodes (node affinity), or use ETP Cluster.
    """

    code = "OKD-NODE-004"
    name = "node-excluded-from-lb"
    hop = Hop.NODE
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        if not uses_lb(facts):
            return
        local = etp_local(facts)
        ready_nodes = ready_endpoint_nodes(facts, facts.service) if facts.service else {}
        excluded = nodes_excluded_by_label(facts)
        only_on_excluded = local and ready_nodes and set(ready_nodes) <= {name_of(n) for n in excluded}
        for node in excluded:
            name = name_of(node)
            holds = ready_service_pods_on(facts, node)
            severity = Severity.INFO  # with ETP Cluster the other nodes forward to pods anywhere
            if local and holds:
                severity = Severity.ERROR if only_on_excluded else Severity.WARNING
            value = node["metadata"]["labels"][EXCLUDE_LABEL]
            title = f"Node {name} is excluded from load balancers ({EXCLUDE_LABEL}={value})"
            if severity is Severity.ERROR:
                title += ": it holds every ready pod of the Service, which uses externalTrafficPolicy Local"
            elif severity is Severity.WARNING:
                title += f": its {len(holds)} ready pod(s) get no traffic (externalTrafficPolicy Local)"
            yield self.finding(
                title,
                subject=f"node/{name}",
                evidence={"label": f"{EXCLUDE_LABEL}={value}", "externalTrafficPolicy": "Local" if local else "Cluster",
                          "readyServicePodsOnNode": [p["metadata"]["name"] for p in holds],
                          "nodesWithReadyEndpoints": sorted(ready_nodes)},
                fix=Fix("Remove the label if the node should serve load balancers, or keep the Service's pods on "
                        "nodes that are backends.",
                        (f"kubectl label node {name} {EXCLUDE_LABEL}-",)),
                severity=severity,
            )
