"""OKD-LB-007: backends whose IP address is no node's InternalIP."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import (
    backend_details,
    backend_name,
    backend_set_update_command,
    backends,
    node_backends,
    node_ips,
    port_pairs,
)
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class BackendIpNotANode(Check):
    """Backends point at IP addresses that are no node's InternalIP (replaced nodes).

    What it checks
        Every backend's ipAddress against the InternalIP of the cluster's nodes.

    Why it breaks
        Node pools are cycled (upgrades, autoscaling, repairs) and every new instance gets a
        new IP. The cloud controller manager rewrites the backends of the load balancers it
        made, but a load balancer made by hand keeps the old addresses: its backends time out
        and, once every old node is gone, the LB has nothing to send to. For a
        cloud-controller-made LB stale backends mean its syncs are failing.

    How to fix
        Replace the stale backends by the current nodes (the printed delete/create commands use
        the live NodePort). For a load balancer made by hand, consider letting the cloud
        controller manager own it, or automating the backend list from the node pool.
    """

    code = "OKD-LB-007"
    name = "backend-ip-not-a-node"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref or not facts.nodes:
            return
        by_ip = node_ips(facts)
        for pair in port_pairs(facts):
            current = backends(pair.backend_set)
            stale = [b for b in current if b.get("ipAddress") not in by_ip]
            if not stale or not pair.backend_set_name:
                continue
            every = len(stale) == len(current)
            present = {b.get("ipAddress") for b in current}
            port = pair.node_port or stale[0].get("port")
            # One update of the whole list: separate deletes and creates conflict (409) while the
            # first one's work request runs.
            kept = [b for b in current if b.get("ipAddress") in by_ip]
            wanted = [*(backend_details(ref, b, int(b.get("port") or port)) for b in kept),
                      *node_backends(ref, facts, [ip for ip in sorted(by_ip) if ip not in present], int(port))]
            commands = [backend_set_update_command(ref, pair.backend_set_name, pair.backend_set,
                                                   new_backends=wanted)]
            yield self.finding(
                f"{'Every' if every else 'Some'} backend of {pair.backend_set_name} points at an address that is no "
                f"node: {', '.join(b.get('ipAddress', '?') for b in stale)} (nodes are {', '.join(sorted(by_ip))})",
                evidence={"lb": ref.id, "backendSet": pair.backend_set_name,
                          "staleBackends": [backend_name(b) for b in stale], "nodeInternalIPs": sorted(by_ip),
                          "ccmManaged": ref.ccm_managed},
                severity=Severity.ERROR if every else Severity.WARNING,
                fix=Fix(summary="Replace the stale backends by the current nodes on the live NodePort, in one "
                                "update of the backend list.",
                        commands=tuple(commands)),
                subject=f"{ref.id}/{pair.backend_set_name}",
            )
