"""OKD-NODE-005: the cluster autoscaler is deleting a node."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.nodes import TO_BE_DELETED, nodes_being_deleted, service_pods_on
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import name_of
from okedoctor.model import Finding, Fix, Hop, Severity


class NodeBeingDeleted(Check):
    """A node is tainted ToBeDeletedByClusterAutoscaler: it is being drained and removed.

    What it checks
        Nodes with the `ToBeDeletedByClusterAutoscaler` taint (NoSchedule), the time it was
        added, and the Service's pods still on them.

    Why it breaks
        The cluster autoscaler is draining the node: its pods are evicted, and the service
        controller takes the node out of every load balancer backend set. A taint that stays for
        long means the scale-down is stuck (a PodDisruptionBudget, a pod with local storage or
        the `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` annotation), leaving a
        node that serves no LB.

    How to fix
        Let the scale-down finish; if it is stuck, read the autoscaler's status and events,
        resolve the blocking pod, or remove the taint to keep the node.
    """

    code = "OKD-NODE-005"
    name = "node-being-deleted"
    hop = Hop.NODE
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        for node, t in nodes_being_deleted(facts):
            name = name_of(node)
            yield self.finding(
                f"Node {name} is being removed by the cluster autoscaler (taint {TO_BE_DELETED}): it is out of the "
                "load balancers and its pods are evicted",
                subject=f"node/{name}",
                evidence={"taint": f"{TO_BE_DELETED}={t.get('value', '')}:{t.get('effect')}",
                          "since": t.get("timeAdded") or t.get("value"),
                          "servicePods": [p["metadata"]["name"] for p in service_pods_on(facts, node)]},
                fix=Fix("Let the scale-down finish; if stuck, find the pod that blocks the drain, or remove the taint "
                        "to keep the node.",
                        ("kubectl -n kube-system describe configmap cluster-autoscaler-status",
                         f"kubectl get pods -A -o wide --field-selector spec.nodeName={name}",
                         f"kubectl taint node {name} {TO_BE_DELETED}-")),
            )
