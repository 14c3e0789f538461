"""OKD-POD-004: port and targetPort look swapped."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.actions import kube_json_patch
from okedoctor.chain.ports import live_ports, port_problems
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class PortTargetPortSwapped(Check):
    """The Service's port and targetPort look swapped.

    What it checks
        A Service port whose `port` is the port the containers declare, while its `targetPort`
        (a different number) is declared by no container: `port: 8080, targetPort: 80` for an
        app that listens on 8080.

    Why it breaks
        `port` is what the Service (and the load balancer listener) exposes; `targetPort` is
        where the app listens. Swapped, traffic reaches the pod on a port nothing listens on and
        is refused, and the load balancer listens on the app's port instead of 80/443.

    How to fix
        Swap them back: `port` is the port clients use, `targetPort` the containerPort. The JSON
        patch below does both in one step; on OKE the cloud controller manager then moves the
        LB listener to the new port.
    """

    code = "OKD-POD-004"
    name = "port-targetport-swapped"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        for prob in port_problems(facts):
            if prob.kind != "swapped":
                continue
            ns, name = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
            port, target = prob.service_port.get("port"), prob.target
            ops = [{"op": "replace", "path": f"/spec/ports/{prob.index}/port", "value": int(target)},
                   {"op": "replace", "path": f"/spec/ports/{prob.index}/targetPort", "value": port}]
            evidence: dict = {"port": port, "targetPort": target,
                              "declaredContainerPorts": list(prob.declared), "readFrom": prob.example}
            if seen := live_ports(facts, prob.example):
                evidence["inPodProbe"] = seen
            yield self.finding(
                f"Service {ns}/{name}: port {port} and targetPort {target} look swapped "
                f"(the containers listen on {port}, none on {target})",
                subject=f"service/{ns}/{name}",
                evidence=evidence,
                fix=Fix(f"Expose port {target} and send to the container's port {port}.",
                        (kube_json_patch("Service", ns, name, ops, f"swap port and targetPort of Service {name}"),),
                        f"spec:\n  ports:\n  - port: {target}\n    targetPort: {port}\n"),
            )
