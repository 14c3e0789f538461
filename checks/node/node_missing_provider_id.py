"""OKD-NODE-006: a node has no providerID, so the cloud controller cannot use it."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import emptied_by_missing_provider_id
from okedoctor.chain.nodes import nodes_without_provider_id, service_pods_on, taint
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.kube import name_of
from okedoctor.model import Finding, Fix, Hop, Severity

UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized"


class NodeMissingProviderID(Check):
    """A node has no spec.providerID: the OCI cloud controller manager cannot map it to an instance.

    What it checks
        Nodes whose `spec.providerID` (the instance OCID) is empty, and whether they still carry
        the `node.cloudprovider.kubernetes.io/uninitialized` taint the cloud controller removes
        when it initialises a node.

    Why it breaks
        The cloud controller manager finds a node's instance, VNIC and IP through its
        providerID. Without it the node is never added to load balancer backend sets, and the
        uninitialized taint keeps regular pods off it. It happens when the kubelet started
        without `--cloud-provider=external` or the controller could not read the instance
        (IAM, wrong compartment).

    How to fix
        Check the cloud controller manager's logs for the node, and that the node was created
        by an OKE node pool (self-managed nodes need the OKE bootstrap); replace the node if it
        was built by hand.
    """

    code = "OKD-NODE-006"
    name = "node-missing-provider-id"
    hop = Hop.NODE
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        # Read only when OCI facts were: without them the backend sets are not known.
        emptied = [] if facts.unavailable(OCI) else emptied_by_missing_provider_id(facts)
        for node in nodes_without_provider_id(facts):
            name = name_of(node)
            title = f"Node {name} has no providerID: the cloud controller cannot add it to load balancers"
            if emptied:
                title += (f"; no node that should be a backend has one, so backend set(s) {', '.join(emptied)} "
                          "of the load balancer hold no backend at all")
            evidence = {"providerID": None, "uninitializedTaint": taint(node, UNINITIALIZED) is not None,
                        "servicePods": [p["metadata"]["name"] for p in service_pods_on(facts, node)]}
            if emptied:
                evidence["emptyBackendSets"] = emptied
            yield self.finding(
                title,
                subject=f"node/{name}",
                severity=Severity.ERROR if emptied else Severity.WARNING,
                evidence=evidence,
                fix=Fix("Find why the cloud controller did not initialise the node (its logs), or replace the node.",
                        ("kubectl -n kube-system logs -l component=oci-cloud-controller-manager --tail=200 | grep "
                         f"'{name}'",
                         f"kubectl get node {name} -o jsonpath='{{.spec.providerID}}{{\"\\n\"}}{{.spec.taints}}'")),
            )
