"""OKD-NP-001: the LB's own rules let it send to the workers' NodePort and health-check port."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import backend_workers, node_peer, traffic_ports
from okedoctor.chain.rules import add_rules_fix, group_peer, lb_endpoint, worker_groups
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Hop
from okedoctor.netrules import EGRESS, Traffic, find_rule


class LbEgressToWorkers(Check):
    """The LB's security lists / NSGs do not let it reach the workers' NodePort or health-check port.

    What it checks
        Evaluates the security lists of the LB's subnet plus the LB's NSGs (a union) for TCP
        egress to every worker the LB sends to, on the Service's NodePort and on the port the
        health checker probes. A rule must contain the worker's address (or name an NSG the
        worker's VNIC is in).

    Why it breaks
        Egress is checked like ingress: an LB subnet whose security list only allows the
        listener port in, with no egress rule toward the worker subnet (a list written by
        hand, or "None" rule management), cannot open a single connection to a backend.
        Health checks time out on every node and all backends turn Critical.

    How to fix
        Add a stateful egress rule on the LB subnet's (oldest) security list or the LB's NSG:
        TCP to the worker subnet CIDR on 30000-32767 and, for externalTrafficPolicy Cluster,
        on 10256. `oci network security-list update` replaces the whole list, so the printed
        command carries the existing rules too. For a Service whose LB the cloud controller
        manager made, oci.oraclecloud.com/security-rule-management-mode: "SL-All" makes it
        write these rules itself.
    """

    code = "OKD-NP-001"
    name = "lb-egress-to-workers-blocked"
    hop = Hop.NODEPORT
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        endpoint = lb_endpoint(facts, ref) if ref else None
        if not ref or not endpoint or not facts.service:
            return
        ports = traffic_ports(facts)
        for group in worker_groups(facts, backend_workers(facts)):
            missing: dict[int, str] = {}
            whole = group_peer(group)
            for what, port in ports:
                if find_rule(endpoint.rulesets, EGRESS, Traffic.tcp(port), whole) is not None:
                    continue
                for node in group.nodes:
                    peer = node_peer(facts, node)
                    if peer and find_rule(endpoint.rulesets, EGRESS, Traffic.tcp(port), peer) is None:
                        missing[port] = what
            if not missing:
                continue
            nums = sorted(missing)
            yield self.finding(
                f"The rules of {endpoint.label} do not allow egress to {group.endpoint.label} on "
                f"{' and '.join(f'{missing[p]} {p}' for p in nums)}",
                evidence={
                    "lb": ref.id,
                    "workerSubnetCidr": group.endpoint.cidr,
                    "workers": group.endpoint.ips,
                    "workerNsgs": list(group.nsg_ids),
                    "missing": [{"what": missing[p], "port": p, "protocol": "TCP"} for p in nums],
                    "evaluated": endpoint.names(),
                },
                fix=add_rules_fix(endpoint, EGRESS, group.endpoint.cidr, nums, ref,
                                  what="to the workers", svc=facts.service,
                                  peer_nsg=group.nsg_ids[0] if group.nsg_ids and endpoint.nsgs else None),
                subject=f"{ref.id}/egress/{group.endpoint.subnet_id}",
            )
