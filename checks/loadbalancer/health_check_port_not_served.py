"""OKD-LB-009: the health checker probes a port nothing on the nodes serves."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.health import replacement_health_port, unserved_health_port
from okedoctor.chain.lb import (
    backend_set_update_command,
    backends,
    kind_name,
    port_pairs,
    served_ports,
)
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class HealthCheckPortNotServed(Check):
    """The health checker probes a port that no Service and no kube-proxy serves.

    What it checks
        The port of each backend set's health checker against every port the nodes answer on:
        the NodePorts and healthCheckNodePorts of all Services, kube-proxy's 10256, and host
        ports of pods. An NLB checker without a port probes the backends' port.

    Why it breaks
        A load balancer made by hand (not by the cloud controller manager) keeps the ports it
        was given. When the Service is deleted and recreated (a Helm uninstall/install, a
        `kubectl replace --force`, a type change) Kubernetes allocates a new random NodePort;
        the health checker and the backends still point at the old one, which nothing serves
        any more. Every probe is refused (CONNECT_FAILED), every backend turns Critical, and
        the LB drops all traffic although pods, nodes and rules are fine.

    How to fix
        Point the health checker (and the backends, when they were on the same old port) at the
        Service's live NodePort, or at what the cloud controller manager would use: HTTP
        /healthz on healthCheckNodePort (externalTrafficPolicy Local) or on 10256 (Cluster).
        The printed `oci nlb backend-set update` / `oci lb backend-set update` command rewrites
        the backend set with the live ports. To stop it recurring, pin the NodePort in the
        Service (spec.ports[].nodePort) or let the cloud controller manager own the LB.
    """

    code = "OKD-LB-009"
    name = "health-check-port-not-served"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref:
            return
        served = served_ports(facts)
        for pair in port_pairs(facts):
            old = unserved_health_port(facts, pair)
            if old is None or not pair.backend_set or not pair.backend_set_name:
                continue
            health = facts.backend_set_health(ref.id, pair.backend_set_name)
            # Without the LB's health view the port may belong to a Service we did not read.
            severity = Severity.ERROR if health else Severity.WARNING
            new = replacement_health_port(facts, pair)
            hc = pair.backend_set.get("healthChecker") or {}
            stale_backends = sorted({int(b["port"]) for b in backends(pair.backend_set)
                                     if pair.node_port and b.get("port") and int(b["port"]) != pair.node_port})
            command = backend_set_update_command(
                ref, pair.backend_set_name, pair.backend_set,
                backend_port=pair.node_port if stale_backends else None, health_port=new,
            )
            also = (f" and the backends to the live NodePort {pair.node_port} (they still use "
                    f"{', '.join(map(str, stale_backends))})") if stale_backends else ""
            yield self.finding(
                f"The {kind_name(ref)}'s health check probes {hc.get('protocol') or 'TCP'} port {old}, which no "
                f"Service serves any more; the Service's live NodePort is {pair.node_port}",
                evidence={
                    "lb": ref.id,
                    "lbDisplayName": ref.body.get("displayName"),
                    "foundBy": ref.found_by,
                    "backendSet": pair.backend_set_name,
                    "healthChecker": {k: hc.get(k) for k in ("protocol", "port", "urlPath", "returnCode")},
                    "healthCheckPort": old,
                    "liveNodePort": pair.node_port,
                    "backendPorts": sorted({int(b.get("port") or 0) for b in backends(pair.backend_set)}),
                    "servedPorts": {str(p): who for p, who in sorted(served.items())},
                    "backendSetHealth": (health or {}).get("status", "not read"),
                },
                fix=Fix(
                    summary=(f"Set the health-check port of backend set {pair.backend_set_name} to {new}{also}. "
                             "The command replaces the backend list and the health checker as a whole."),
                    commands=(command,),
                ),
                subject=f"{ref.id}/{pair.backend_set_name}",
                severity=severity,
            )
