"""OKD-LB-004: a Service port the CCM-made load balancer has no listener for."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import kind_name, port_pairs
from okedoctor.check import Check, subject_of
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop


class ServicePortWithoutListener(Check):
    """A port of the Service has no listener on the load balancer the CCM made for it.

    What it checks
        For a load balancer made by the cloud controller manager (found by its display name),
        that every spec.ports[] entry has a listener: named `<PROTOCOL>-<port>` (an NLB may
        merge TCP and UDP as `TCP_AND_UDP-<port>`, an L7 LB may speak HTTP/GRPC on it), or at
        least one on the same port.

    Why it breaks
        The CCM adds a listener for a new Service port on its next successful sync. When the
        sync fails (see the Service's SyncLoadBalancerFailed events: IAM, limits, an NLB busy
        with another update, an invalid annotation) the port exists in Kubernetes and answers
        on the NodePort, but the load balancer does not listen on it: clients time out on that
        port while the others work.

    How to fix
        Read the Service's events and fix the failing sync; the CCM then adds the listener and
        backend set itself. Do not add it by hand in the console: the CCM owns the listeners
        and would remove or rewrite one it does not expect.
    """

    code = "OKD-LB-004"
    name = "service-port-without-listener"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        svc = facts.service
        if not ref or not svc or not ref.ccm_managed:
            return
        missing = [p for p in port_pairs(facts) if p.listener is None]
        if not missing:
            return
        meta = svc["metadata"]
        failures = [e.get("message") for e in facts.events_for(svc) if e.get("reason") == "SyncLoadBalancerFailed"]
        expected = ", ".join(f"{(p.port.get('protocol') or 'TCP').upper()}-{p.port.get('port')}" for p in missing)
        yield self.finding(
            f"The {kind_name(ref)} has no listener for Service port {', '.join(p.label for p in missing)} "
            f"(expected {expected})",
            evidence={"lb": ref.id, "listeners": {k: v.get("port") for k, v in ref.listeners.items()},
                      "servicePorts": [{"name": p.port.get("name"), "protocol": p.port.get("protocol", "TCP"),
                                        "port": p.port.get("port"), "nodePort": p.node_port} for p in missing],
                      "lastSyncFailure": failures[-1] if failures else None},
            fix=Fix(summary="Fix the failing load-balancer sync named in the Service's events; the cloud controller "
                            "manager then adds the listener and its backend set.",
                    commands=(f"kubectl describe service -n {meta.get('namespace')} {meta.get('name')}",)),
            subject=subject_of(svc),
        )
