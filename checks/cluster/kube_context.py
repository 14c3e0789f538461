"""OKD-CL-001: which cluster was diagnosed (information)."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.nodes import kubelet_versions
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class KubeContext(Check):
    """The kube context, API server, cluster and region the diagnosis used (information).

    What it checks
        The context the facts came from: kube context name, API server URL, cluster (OCID or
        name), region and compartment, the kubelet versions of the nodes, and which load
        balancer was diagnosed and how it was found (the CCM's name, the ingress address,
        --lb-ocid, or its backends) in which compartments.

    Why it breaks
        It does not; it prevents the commonest wasted hour: diagnosing (or fixing) the wrong
        cluster because the current context points at staging, or a snapshot from another
        region.

    How to fix
        Nothing to fix when it is the cluster you meant. Otherwise pass `--context` (and
        `--region`/`--profile` for OCI), or switch with `kubectl config use-context`.
    """

    code = "OKD-CL-001"
    name = "kube-context"
    hop = Hop.CLUSTER
    severity = Severity.INFO
    needs = ()

    def run(self, facts: Facts) -> Iterator[Finding]:
        ctx = facts.context
        keys = ("kubeContext", "server", "cluster", "region", "compartmentId")
        evidence = {k: ctx[k] for k in keys if ctx.get(k)}
        if not evidence:
            return
        versions = list(kubelet_versions(facts))
        if versions:
            evidence["kubeletVersions"] = versions
        if facts.service and (facts.service.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer") \
                and facts.unavailable("oci") is None:
            search = facts.lb_search
            if search.load_balancers:
                ref = search.load_balancers[0]
                evidence["loadBalancer"] = f"{ref.id} (found by {search.found_by}{': ' + ref.note if ref.note else ''})"
                if len(search.load_balancers) > 1:
                    evidence["otherLoadBalancers"] = [r.id for r in search.load_balancers[1:]]
            if search.compartments:
                evidence["compartmentsSearched"] = list(search.compartments)
        where = " ".join(f"{label} {ctx[k]}" for k, label in (("server", "server"), ("cluster", "cluster"),
                                                               ("region", "in")) if ctx.get(k))
        yield self.finding(
            f"Diagnosed context {ctx.get('kubeContext') or '(unnamed)'}: {where}".strip(),
            subject=f"context/{ctx.get('kubeContext') or ctx.get('cluster') or 'unknown'}",
            evidence=evidence,
            fix=Fix("Nothing to fix if this is the cluster you meant; otherwise pass --context.",
                    ("kubectl config current-context", "kubectl config get-contexts")),
        )
