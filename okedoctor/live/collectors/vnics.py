"""A fleet run's worker VNICs from a few lists instead of one GetVnic per worker.

OCI has no ListVnics. What the checks read of a worker's VNIC is its subnet, its address and its
network security groups, and each comes from a list:

- the subnet, from the compartment's VNIC attachments (already listed for the workers);
- the address, from `ListPrivateIps?subnetId=`, once per worker subnet: the VNIC's primary IP;
- the NSGs, from `ListNetworkSecurityGroupVnics`, once per NSG of the workers' VCNs, for the
  NSGs `ListNetworkSecurityGroups` finds in the workers' compartment and in their subnets'.

A VNIC the lists do not account for (no primary IP listed) is left to its own GetVnic. When any
list fails, none of this is used: every worker's VNIC is then read on its own, so a refusal is
reported by the read that needs it and no NSG membership is guessed from a partial answer.
"""

from __future__ import annotations

from typing import Any, Protocol

from okedoctor.facts import OCI
from okedoctor.live import oci_api
from okedoctor.oci_catalog import NETWORK_SECURITY_GROUPS, NSG_VNICS_PATH, PRIVATE_IPS, RESOURCES

Obj = dict[str, Any]


class OciReads(Protocol):
    """What the lists are read through (collectors.oci.OciReads)."""

    engine: Any

    def read(self, depth: int, service: str, path: str, params: dict | None = None, query: dict | None = None,
             listing: bool = False) -> Any: ...

    def shared_subnet(self, sid: str, depth: int) -> dict | None: ...


# The depth of the last list a VNIC's facts come from (its NSG memberships).
LISTED_DEPTH = 5
LIST_FAILURES = (oci_api.OciDenied, oci_api.OciUnavailable, oci_api.OciNotFound, TimeoutError)


class ListFailed(Exception):
    """One of the lists could not be read: the VNICs are read one by one instead."""


def listed_vnics(reads: OciReads, compartment: str, attachments: list[Obj]) -> dict[str, Obj] | None:
    """vnicId -> the VNIC as the checks read it (id, subnetId, privateIp, nsgIds, ...), for the
    attached VNICs of `attachments`; None when a list failed."""
    attached = [a for a in attachments if a.get("lifecycleState") in (None, "ATTACHED")
                and a.get("vnicId") and a.get("subnetId")]
    subnet_ids = sorted({a["subnetId"] for a in attached})
    e = reads.engine
    ip_futs = [e.submit(OCI, _caught, _primary_ips, reads, sid) for sid in subnet_ids]
    try:
        subnets = [reads.shared_subnet(sid, 3) for sid in subnet_ids]
        if not all(subnets):
            return None
        vcns = {s.get("vcnId") for s in subnets}
        where = sorted({compartment} | {s["compartmentId"] for s in subnets if s.get("compartmentId")})
        nsgs = [n for f in [e.submit(OCI, _caught, _nsgs_in, reads, c, vcns) for c in where]
                for n in _value(e.result(f))]
        member_futs = [(n, e.submit(OCI, _caught, _members, reads, n)) for n in nsgs]
        groups: dict[str, list[str]] = {}
        for nsg, fut in member_futs:
            for vnic_id in _value(e.result(fut)):
                groups.setdefault(vnic_id, []).append(nsg)
        ips: dict[str, Obj] = {}
        for fut in ip_futs:
            ips.update(_value(e.result(fut)))
    except (ListFailed, *LIST_FAILURES):
        return None
    return {a["vnicId"]: _vnic(a, ips[a["vnicId"]], groups.get(a["vnicId"], [])) for a in attached
            if a["vnicId"] in ips}


def _vnic(att: Obj, ip: Obj, nsg_ids: list[str]) -> Obj:
    """What GetVnic would say of it, as far as the lists tell: no publicIp, isPrimary or
    skipSourceDestCheck (no check reads them of a worker)."""
    return {"id": att["vnicId"], "subnetId": att["subnetId"], "privateIp": ip.get("ipAddress"),
            "hostnameLabel": ip.get("hostnameLabel"), "nsgIds": nsg_ids,
            "availabilityDomain": att.get("availabilityDomain") or ip.get("availabilityDomain"),
            "compartmentId": ip.get("compartmentId") or att.get("compartmentId")}


def _caught(fn, *args):
    # Returned, not raised: a raised OCI error in a task would be reported as an internal error.
    try:
        return fn(*args)
    except LIST_FAILURES as exc:
        return ListFailed(str(exc))


def _value(got):
    if isinstance(got, ListFailed):
        raise got
    return got


def _primary_ips(reads: OciReads, subnet_id: str) -> dict[str, Obj]:
    res = RESOURCES[PRIVATE_IPS]
    items = reads.read(3, res.service, res.list_path, None, {"subnetId": subnet_id}, listing=True) or []
    return {str(p["vnicId"]): p for p in items if p.get("isPrimary") and p.get("vnicId")}


def _nsgs_in(reads: OciReads, compartment: str, vcns: set) -> list[str]:
    res = RESOURCES[NETWORK_SECURITY_GROUPS]
    items = reads.read(4, res.service, res.list_path, None, {"compartmentId": compartment}, listing=True) or []
    return [str(n["id"]) for n in items if n.get("id") and n.get("vcnId") in vcns]


def _members(reads: OciReads, nsg_id: str) -> list[str]:
    items = reads.read(LISTED_DEPTH, RESOURCES[NETWORK_SECURITY_GROUPS].service, NSG_VNICS_PATH,
                       {"networkSecurityGroupId": nsg_id}, None, listing=True) or []
    return [str(m["vnicId"]) for m in items if m.get("vnicId")]
