"""OKD-INET-002: a public LB whose subnet's route table has no route to an internet gateway."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from okedoctor.chain.lb import kind_name, lb_subnets
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop

IGW_PREFIX = "ocid1.internetgateway."


def _default_route_target(route_table: dict) -> str | None:
    """The networkEntityId that 0.0.0.0/0 goes to, or None when no rule covers the internet."""
    for rule in route_table.get("routeRules") or []:
        dest = rule.get("destination") or rule.get("cidrBlock") or ""
        if (rule.get("destinationType") or "CIDR_BLOCK") != "CIDR_BLOCK":
            continue
        try:
            if ipaddress.ip_network(dest, strict=False).prefixlen == 0 and ":" not in dest:
                return rule.get("networkEntityId")
        except ValueError:
            continue
    return None


class LbSubnetNoInternetRoute(Check):
    """The public load balancer's subnet does not route 0.0.0.0/0 to an internet gateway.

    What it checks
        For a public LB/NLB, the route table of its subnet (the subnet's routeTableId): a rule
        for 0.0.0.0/0 must point at an internet gateway (ocid1.internetgateway...). Skipped when
        the route table was not read.

    Why it breaks
        The answers to internet clients leave the LB through its subnet's route table. A public
        LB subnet that was given the private route table (0.0.0.0/0 to a NAT gateway, or no
        default route) accepts the SYN and never gets the SYN-ACK back to the client: the
        public address times out while every backend is healthy.

    How to fix
        Attach a route table whose 0.0.0.0/0 rule targets the VCN's internet gateway to the LB
        subnet (`oci network subnet update --subnet-id SUBNET --route-table-id RT`), or add
        that rule to the current table (`oci network route-table update` replaces all its
        rules: pass the existing ones too).
    """

    code = "OKD-INET-002"
    name = "lb-subnet-no-internet-route"
    hop = Hop.INTERNET
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref or ref.is_private:
            return
        for subnet in lb_subnets(facts, ref):
            table = facts.route_table(subnet.get("routeTableId") or "")
            if table is None:
                continue
            target = _default_route_target(table)
            if target and target.startswith(IGW_PREFIX):
                continue
            where = f"sends 0.0.0.0/0 to {target}" if target else "has no route for 0.0.0.0/0"
            yield self.finding(
                f"The public {kind_name(ref)}'s subnet {subnet.get('displayName')} uses route table "
                f"{table.get('displayName')}, which {where} instead of an internet gateway",
                evidence={"lb": ref.id, "publicIps": ref.public_ips, "subnet": subnet.get("id"),
                          "routeTable": table.get("id"), "routeRules": table.get("routeRules") or []},
                fix=Fix(summary="Give the LB subnet a route table whose 0.0.0.0/0 rule targets the internet gateway.",
                        commands=(f"oci network internet-gateway list --compartment-id {subnet.get('compartmentId')} "
                                  f"--vcn-id {subnet.get('vcnId')}",
                                  f"oci network subnet update --subnet-id {subnet.get('id')} "
                                  f"--route-table-id <route-table-with-igw-route>")),
                subject=f"subnet/{subnet.get('id')}",
            )
