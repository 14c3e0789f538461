"""OKD-INET-002: a public LB whose subnet's route table has no route to an internet gateway."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.actions import subnet_route_table
from okedoctor.chain.lb import kind_name, lb_subnets
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop
from okedoctor.netrules import IGW_PREFIX, default_route_target, has_igw_default_route


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
            target = default_route_target(table)
            if target and target.startswith(IGW_PREFIX):
                continue
            where = f"sends 0.0.0.0/0 to {target}" if target else "has no route for 0.0.0.0/0"
            yield self.finding(
                f"The public {kind_name(ref)}'s subnet {subnet.get('displayName')} uses route table "
                f"{table.get('displayName')}, which {where} instead of an internet gateway",
                evidence={"lb": ref.id, "publicIps": ref.public_ips, "subnet": subnet.get("id"),
                          "routeTable": table.get("id"), "routeRules": table.get("routeRules") or []},
                fix=_fix(facts, subnet),
                subject=f"subnet/{subnet.get('id')}",
            )


def _fix(facts: Facts, subnet: dict) -> Fix:
    """Switch to a table of the VCN that routes to the internet gateway: the one the snapshot holds, else a lookup."""
    tables = [t for t in facts.route_tables if t.get("vcnId") == subnet.get("vcnId")
              and has_igw_default_route(t)]
    summary = "Give the LB subnet a route table whose 0.0.0.0/0 rule targets the internet gateway"
    if tables:
        return Fix(f"{summary}: {tables[0].get('displayName')} does.",
                   (subnet_route_table(subnet, tables[0]["id"]),))
    listing = (f"oci network route-table list --compartment-id {subnet.get('compartmentId')} --vcn-id "
               f"{subnet.get('vcnId')} --query 'data[].{{id: id, name: \"display-name\", rules: \"route-rules\"}}'")
    return Fix(f"{summary} (set RT_ID to one the first command lists; none in the VCN does: create one with a "
               "0.0.0.0/0 rule to the internet gateway).",
               (listing, f'oci network subnet update --subnet-id {subnet.get("id")} --route-table-id "$RT_ID"'))
