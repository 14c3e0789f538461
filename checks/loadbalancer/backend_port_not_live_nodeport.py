"""OKD-LB-006: backends that send to a port which is not the Service's live NodePort."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.health import HEALTH_PORT_NOT_SERVED, unserved_health_port
from okedoctor.chain.lb import backend_name, backend_set_update_command, backends, port_pairs, served_ports
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop


class BackendPortNotLiveNodePort(Check):
    """Backends send to a port that is not the Service's live NodePort (a stale NodePort).

    What it checks
        For each Service port, the port of every backend in the backend set that carries it,
        against the Service's current spec.ports[].nodePort.

    Why it breaks
        The LB forwards to `<node InternalIP>:<backend port>`. A Service deleted and recreated
        gets a new NodePort; a load balancer made by hand keeps the old one, and a cloud
        controller manager that cannot sync (see the Service's events) has not updated it.
        Connections to the old port are refused, or land on whatever Service now owns it.

    How to fix
        Rewrite the backends with the live NodePort (the printed `oci nlb backend-set update` /
        `oci lb backend-set update` command). When the health checker points at the same dead
        port this finding follows from OKD-LB-009, whose command fixes both. For a load
        balancer the cloud controller manager owns, read the Service's events
        (`kubectl describe svc`): it updates backends itself unless a sync fails.
    """

    code = "OKD-LB-006"
    name = "backend-port-not-live-nodeport"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref:
            return
        served = served_ports(facts)
        for pair in port_pairs(facts):
            live = pair.node_port
            if not live or not pair.backend_set or not pair.backend_set_name:
                continue
            stale = [b for b in backends(pair.backend_set) if b.get("port") and int(b["port"]) != live]
            if not stale:
                continue
            old_ports = sorted({int(b["port"]) for b in stale})
            # The health checker on the same dead port is the finding that explains the outage.
            hc_port = unserved_health_port(facts, pair)
            caused_by = HEALTH_PORT_NOT_SERVED if hc_port in old_ports else None
            owners = {str(p): served[p] for p in old_ports if p in served}
            yield self.finding(
                f"Backend set {pair.backend_set_name} sends to port {', '.join(map(str, old_ports))}, but the "
                f"Service's live NodePort for {pair.label} is {live} (stale NodePort)",
                evidence={
                    "lb": ref.id,
                    "backendSet": pair.backend_set_name,
                    "oldPorts": old_ports,
                    "liveNodePort": live,
                    "staleBackends": [backend_name(b) for b in stale],
                    "oldPortNowServedBy": owners or "nothing",
                    "ccmManaged": ref.ccm_managed,
                },
                fix=Fix(summary=f"The command of {caused_by} sets both the backends and the health check to {live}.")
                if caused_by else Fix(
                    summary=(f"Point the backends of {pair.backend_set_name} at NodePort {live}."
                             + (" The cloud controller manager normally does this itself: read the Service's "
                                "events for the failing sync." if ref.ccm_managed else "")),
                    commands=(backend_set_update_command(ref, pair.backend_set_name, pair.backend_set,
                                                         backend_port=live),),
                ),
                subject=f"{ref.id}/{pair.backend_set_name}",
                caused_by=caused_by,
            )
