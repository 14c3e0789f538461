"""OKD-NODE-003: a node is cordoned (unschedulable)."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.nodes import cordoned_nodes, service_pods_on
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import name_of
from okedoctor.model import Finding, Fix, Hop, Severity


class NodeCordoned(Check):
    """A node is cordoned (spec.unschedulable): no new pod lands on it.

    What it checks
        Nodes with `spec.unschedulable: true` (kubectl cordon/drain), and the taint
        `node.kubernetes.io/unschedulable` with its time, plus the Service's pods still on them.

    Why it breaks
        A cordon left in place after maintenance silently shrinks the cluster: rollouts and
        rescheduled pods have fewer nodes to go to and end Pending ("node(s) were
        unschedulable"). Pods already there keep running.

    How to fix
        Uncordon the node when its maintenance is over, or finish draining it and remove it.
    """

    code = "OKD-NODE-003"
    name = "node-cordoned"
    hop = Hop.NODE
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        cordoned = cordoned_nodes(facts)
        for node in cordoned:
            name = name_of(node)
            taint = next((t for t in node["spec"].get("taints") or []
                          if t.get("key") == "node.kubernetes.io/unschedulable"), {})
            yield self.finding(
                f"Node {name} is cordoned: no new pods are scheduled on it",
                subject=f"node/{name}",
                evidence={"unschedulable": True, "since": taint.get("timeAdded"),
                          "schedulableNodes": len(facts.nodes) - len(cordoned),
                          "servicePods": [p["metadata"]["name"] for p in service_pods_on(facts, node)]},
                fix=Fix("Uncordon it when the maintenance is done (or drain and remove it).",
                        (f"kubectl uncordon {name}",)),
            )
