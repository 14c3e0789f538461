"""OKD-LB-008: nodes the cloud controller manager should have made backends and did not."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import backends, missing_nodes, port_pairs
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop, Severity

# The node-hop check that reports a node without providerID; a node left out of the backends
# for that reason is its consequence, not a second root cause.
NODE_MISSING_PROVIDER_ID = "OKD-NODE-006"


class NodeMissingFromBackends(Check):
    """Worker nodes that should be backends of the CCM-made load balancer are not.

    What it checks
        For a load balancer made by the cloud controller manager, which nodes qualify as
        backends (not being deleted, not labelled node.kubernetes.io/exclude-from-external-load-balancers,
        not tainted ToBeDeletedByClusterAutoscaler, matching the node-label-selector annotation)
        and whether each is in every backend set; for each missing one, why: no
        spec.providerID, no InternalIP, or the controller not having synced.

    Why it breaks
        The controller builds backends from node InternalIPs and skips, with only a log line,
        any node whose spec.providerID is empty (a node registered without the OCI cloud
        provider, e.g. a self-managed node with the wrong kubelet flags). Those nodes take no
        LB traffic; if none qualifies, the LB has no backend at all.

    How to fix
        For a node without providerID: register it properly (recreate it from the node pool,
        or start kubelet with the external cloud provider so the CCM sets providerID). For a
        node the controller has not added: read the Service's events for the failing sync.
        Nodes left out on purpose (exclusion label, selector) are not reported.
    """

    code = "OKD-LB-008"
    name = "node-missing-from-backends"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref or not ref.ccm_managed:
            return
        for pair in port_pairs(facts):
            if pair.backend_set is None:
                continue
            missing = missing_nodes(facts, pair.backend_set)
            if not missing:
                continue
            empty = not backends(pair.backend_set)
            no_provider = [n["metadata"]["name"] for n, why in missing if "providerID" in why]
            failures = [e.get("message") for e in facts.events_for(facts.service or {})
                        if e.get("reason") == "SyncLoadBalancerFailed"]
            yield self.finding(
                f"{len(missing)} node(s) are not backends of {pair.backend_set_name}: "
                + "; ".join(f"{n['metadata']['name']} ({why})" for n, why in missing),
                evidence={"lb": ref.id, "backendSet": pair.backend_set_name,
                          "backends": [b.get("ipAddress") for b in backends(pair.backend_set)],
                          "missing": [{"node": n["metadata"]["name"], "internalIP": facts.node_internal_ip(n),
                                       "providerID": (n.get("spec") or {}).get("providerID"), "why": why}
                                      for n, why in missing],
                          "lastSyncFailure": failures[-1] if failures else None},
                severity=Severity.ERROR if empty else Severity.WARNING,
                fix=Fix(
                    summary=("Nodes without spec.providerID were not registered by the OCI cloud provider: recreate "
                             "them from the node pool (cordon, drain, delete the instance) so they register with it."
                             if no_provider else
                             "Read the Service's events for the failing load-balancer sync."),
                    commands=tuple(f"kubectl get node {n} -o jsonpath='{{.spec.providerID}}'" for n in no_provider)
                    or (f"kubectl describe service -n {facts.target.namespace} {facts.target.service}",),
                ),
                subject=f"{ref.id}/{pair.backend_set_name}",
                caused_by=NODE_MISSING_PROVIDER_ID if len(no_provider) == len(missing) else None,
            )
