"""OKD-POD-003: the Service's targetPort is not a port any container exposes."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.actions import kube_json_patch
from okedoctor.chain.ports import live_ports, port_problems
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import port_label
from okedoctor.model import Finding, Fix, Hop


class TargetPortNotExposed(Check):
    """The Service's targetPort is not a port that any container of its pods exposes.

    What it checks
        For each port of the target Service, the targetPort resolved as the endpoints
        controller does (a number as is, a name looked up among the declared ports of ALL
        containers of the pod, same protocol) against the containerPorts the pods declare.
        Fires when a named targetPort matches no declared port, or a numeric one is not among
        the ports the containers declare (and the pods declare some). What the in-pod probe saw
        on localhost for that port is added as evidence when it was observed.

    Why it breaks
        A named targetPort that no container declares gives the pod no endpoint for that
        Service port. A numeric one is used as is: traffic goes to a port the app does not
        listen on, so the pod answers with a reset and clients see "connection refused", while
        the pod is Ready (its readiness probe checks the port it does listen on).

    How to fix
        Point targetPort at the port the app listens on (the patch below uses the declared
        port), or make the app listen on the targetPort and declare it as containerPort.
    """

    code = "OKD-POD-003"
    name = "target-port-not-exposed"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        for prob in port_problems(facts):
            if prob.kind == "swapped":
                continue  # OKD-POD-004 says it better
            ns, name = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
            target = prob.target
            evidence: dict = {"servicePort": prob.service_port.get("port"), "targetPort": target,
                              "declaredContainerPorts": list(prob.declared), "readFrom": prob.example}
            if isinstance(target, int) or str(target).isdigit():
                seen = live_ports(facts, prob.example)
                if seen:
                    evidence["inPodProbe"] = seen
                what = f"targetPort {target} is not a declared container port"
            else:
                what = f"named targetPort {target!r} matches no container port"
            commands = [f"kubectl -n {ns} get service {name} -o jsonpath='{{.spec.ports}}'"]
            patch = None
            if len(prob.declared) == 1:
                new = prob.declared[0]
                op = [{"op": "replace", "path": f"/spec/ports/{prob.index}/targetPort", "value": new}]
                commands.append(kube_json_patch("Service", ns, name, op, f"point Service {name} at port {new}"))
                patch = f"spec:\n  ports:\n  - port: {prob.service_port.get('port')}\n    targetPort: {new}\n"
            yield self.finding(
                f"Service {ns}/{name} port {port_label(prob.service_port)}: {what} "
                f"(containers declare {', '.join(map(str, prob.declared)) or 'none'})",
                subject=f"service/{ns}/{name}",
                evidence=evidence,
                fix=Fix("Set targetPort to the port the app listens on (or make the app listen on the targetPort).",
                        tuple(commands), patch),
            )
