"""OKD-NODE-001: a worker node is NotReady."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.nodes import backend_ips, not_ready_nodes, ready_service_pods_on, service_pods_on
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import condition, name_of, node_ready
from okedoctor.model import Finding, Fix, Hop, Severity


class NodeNotReady(Check):
    """A worker node is NotReady (or its kubelet stopped reporting).

    What it checks
        Each node's Ready condition: False (the kubelet reports a problem) or Unknown (the
        kubelet stopped posting status: the instance is down, hung, or cut off from the API
        server). It names the Service's pods on the node and whether the node is a backend of
        the Service's load balancer.

    Why it breaks
        Pods on a NotReady node are marked not ready and, after the eviction timeout (300s), are
        deleted and rescheduled elsewhere if there is room. kube-proxy on a dead node no longer
        answers the LB health check (10256 with ETP Cluster): the node's backend goes Critical.
        This version of the cloud controller manager does not remove NotReady nodes from the
        backend set.

    Severity follows the impact: an error when the node held the Service's pods and no Ready
    node holds a ready one any more (the path fails); a warning when other Ready nodes still
    serve the Service (capacity and redundancy are lost, traffic still flows).

    How to fix
        Find out why: `kubectl describe node` (conditions, events), the instance's state in the
        console or `oci compute instance get`. Reboot it, or cordon and drain it and let the
        node pool replace it (terminate the instance).
    """

    code = "OKD-NODE-001"
    name = "node-not-ready"
    hop = Hop.NODE

    def run(self, facts: Facts) -> Iterator[Finding]:
        not_ready = not_ready_nodes(facts)
        if not not_ready:
            return
        backends = backend_ips(facts)
        serving = [n for n in facts.nodes if node_ready(n) and ready_service_pods_on(facts, n)]
        for node in not_ready:
            name = name_of(node)
            ready = condition(node, "Ready") or {}
            ip = next((a.get("address") for a in (node.get("status") or {}).get("addresses") or []
                       if a.get("type") == "InternalIP"), None)
            evidence = {
                "ready": ready.get("status", "missing"), "reason": ready.get("reason"),
                "message": ready.get("message"), "lastHeartbeatTime": ready.get("lastHeartbeatTime"),
                "since": ready.get("lastTransitionTime"),
                "servicePods": [p["metadata"]["name"] for p in service_pods_on(facts, node)],
            }
            if backends is not None:
                evidence["lbBackend"] = ip in backends
            instance = (node.get("spec") or {}).get("providerID") or '"$INSTANCE_OCID"'
            evidence["readyNodesServingTheService"] = [name_of(n) for n in serving]
            fails = bool(evidence["servicePods"]) and not serving
            yield self.finding(
                f"Node {name} is NotReady ({ready.get('reason') or 'no Ready condition'}: "
                f"{ready.get('message') or 'no message'})"
                + ("" if fails else f"; {len(serving)} other Ready node(s) still serve the Service"),
                severity=Severity.ERROR if fails else Severity.WARNING,
                subject=f"node/{name}",
                evidence=evidence,
                fix=Fix("Find why the kubelet is not ready. Drain the node first (its pods move to Ready nodes); "
                        "only then reboot the instance, or let the node pool replace it. CAUTION: the SOFTRESET "
                        "restarts the instance: whatever still runs on it stops.",
                        (f"kubectl describe node {name}",
                         f"oci compute instance get --instance-id {instance} --query 'data.\"lifecycle-state\"'",
                         f"kubectl drain {name} --ignore-daemonsets --delete-emptydir-data",
                         f"oci compute instance action --action SOFTRESET --instance-id {instance}"
                         "  # restarts the instance: after the drain only")),
            )
