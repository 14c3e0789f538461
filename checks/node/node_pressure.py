"""OKD-NODE-002: a node reports memory, disk or PID pressure."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.nodes import pressured_nodes, service_pods_on
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import name_of
from okedoctor.model import Finding, Fix, Hop, Severity

FIXES = {
    "MemoryPressure": ("the node is short of memory: the kubelet evicts pods (BestEffort first)",
                       "kubectl top pods -A --sort-by=memory | head"),
    "DiskPressure": ("the node's disk (boot volume: images, logs, emptyDir) is nearly full: the kubelet evicts pods "
                     "and garbage-collects images",
                     "kubectl debug node/{node} -it --image=busybox -- chroot /host sh -c "
                     "'df -h / /var/lib/containers; crictl rmi --prune'"),
    "PIDPressure": ("the node is running out of process IDs", "kubectl get pods -A -o wide --field-selector "
                    "spec.nodeName={node}"),
}


class NodePressure(Check):
    """A node reports MemoryPressure, DiskPressure or PIDPressure.

    What it checks
        The MemoryPressure, DiskPressure and PIDPressure conditions of every node, with the
        kubelet's message and the Service's pods on that node.

    Why it breaks
        Under pressure the kubelet taints the node (no new pods) and evicts running ones, so the
        Service's pods there can disappear and be Pending elsewhere. Disk pressure on OKE is
        usually a small boot volume filled by images and container logs.

    How to fix
        Memory: set requests/limits that match real use, move or scale the heavy pods. Disk:
        grow the node pool's boot volume (and the filesystem), prune unused images, cap log
        size. PID: limit processes per pod (podPidsLimit) and fix the app that forks.
    """

    code = "OKD-NODE-002"
    name = "node-pressure"
    hop = Hop.NODE
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        for node, ctype, c in pressured_nodes(facts):
            name = name_of(node)
            plain, cmd = FIXES[ctype]
            yield self.finding(
                f"Node {name} has {ctype}: {plain}",
                subject=f"node/{name}",
                evidence={"condition": ctype, "reason": c.get("reason"), "message": c.get("message"),
                          "since": c.get("lastTransitionTime"),
                          "servicePods": [p["metadata"]["name"] for p in service_pods_on(facts, node)]},
                fix=Fix(f"Relieve the {ctype.replace('Pressure', '').lower()} pressure on {name}.",
                        (f"kubectl describe node {name}", cmd.format(node=name))),
            )
