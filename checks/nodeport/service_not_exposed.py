"""OKD-NP-101: the Service gives the load balancer no NodePort to send to."""

from __future__ import annotations

import json
from collections.abc import Iterator

from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import port_label, service_ports
from okedoctor.model import Finding, Fix, Hop


class ServiceNotExposed(Check):
    """The Service has no NodePort for the load balancer: type ClusterIP/ExternalName, or NodePorts not allocated.

    What it checks
        The target Service's type and, for type LoadBalancer, that every port has a nodePort
        (they are missing when `allocateLoadBalancerNodePorts: false`). With type ClusterIP or
        ExternalName it names the load balancer still pointing at the cluster when one was read.

    Why it breaks
        OCI load balancers and network load balancers made by the cloud controller manager send
        to the workers' NodePorts. A ClusterIP Service has none (and the controller deletes its
        LB when the type changes from LoadBalancer), so nothing outside the cluster reaches it;
        `allocateLoadBalancerNodePorts: false` leaves the backends without a port to send to.

    How to fix
        Make the Service type LoadBalancer (or NodePort behind a load balancer you manage) and
        let Kubernetes allocate the NodePorts (`allocateLoadBalancerNodePorts: true`, the default).
    """

    code = "OKD-NP-101"
    name = "service-not-exposed"
    hop = Hop.NODEPORT

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        if not svc:
            return
        spec = svc.get("spec") or {}
        ns, name = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
        kind = spec.get("type") or "ClusterIP"
        if kind in ("ClusterIP", "ExternalName"):
            patch = {"spec": {"type": "LoadBalancer"}}
            evidence: dict = {"type": kind, "ports": [port_label(p) for p in service_ports(svc)]}
            lb = facts.load_balancer if not facts.unavailable("oci") else None
            if lb:
                evidence["loadBalancer"] = lb.id
            yield self.finding(
                f"Service {ns}/{name} is of type {kind}: it has no NodePort, so no load balancer can reach it",
                subject=f"service/{ns}/{name}",
                evidence=evidence,
                fix=Fix("Make it type LoadBalancer (the cloud controller manager creates the LB and the NodePorts); "
                        "keep the oci.oraclecloud.com/load-balancer-type annotation for an NLB.",
                        (f"kubectl -n {ns} patch service {name} -p '{json.dumps(patch)}'",
                         f"kubectl -n {ns} get service {name} -w")),
            )
            return
        if kind != "LoadBalancer":
            return
        missing = [p for p in service_ports(svc) if not p.get("nodePort")]
        if not missing:
            return
        patch = {"spec": {"allocateLoadBalancerNodePorts": True}}
        yield self.finding(
            f"Service {ns}/{name} has no NodePort for port(s) {', '.join(port_label(p) for p in missing)} "
            f"(allocateLoadBalancerNodePorts: {spec.get('allocateLoadBalancerNodePorts')}): the LB backends have "
            "nothing to send to",
            subject=f"service/{ns}/{name}",
            evidence={"allocateLoadBalancerNodePorts": spec.get("allocateLoadBalancerNodePorts"),
                      "portsWithoutNodePort": [port_label(p) for p in missing]},
            fix=Fix("Let Kubernetes allocate NodePorts for the load balancer.",
                    (f"kubectl -n {ns} patch service {name} -p '{json.dumps(patch)}'",)),
        )
