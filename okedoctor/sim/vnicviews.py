"""What OCI's list calls over VNICs answer, derived from the VNIC bodies a snapshot holds.

OCI has no ListVnics. A client that needs many VNICs lists instead, per subnet, the private IPs
(`ListPrivateIps?subnetId=`: `PrivateIp` bodies naming their VNIC) and, per network security
group, its members (`ListNetworkSecurityGroupVnics`: `NetworkSecurityGroupVnic` bodies). A file
records VNICs as `GetVnic` answers them, so the simulator (and the tests' in-memory wires) give
the list answers those VNICs imply: one primary private IP per VNIC with a `privateIp`, and one
membership per entry of each VNIC's `nsgIds`. A file may also hold `privateIps` as read: then
those are served as they are.
"""

from __future__ import annotations

from typing import Any

from okedoctor.oci_catalog import PRIVATE_IPS, VNIC_ATTACHMENTS, VNICS

Obj = dict[str, Any]
# ListPrivateIps needs one of these: OCI refuses a list over the whole tenancy.
PRIVATE_IP_FILTERS = ("subnetId", "vnicId", "vlanId")


def _privateip_id(vnic_id: str) -> str:
    """A stable OCID for a VNIC's primary private IP (`ocid1.vnic.oc1.<region>.<x>` -> `ocid1.privateip...`)."""
    return vnic_id.replace("ocid1.vnic.", "ocid1.privateip.", 1) if vnic_id.startswith("ocid1.vnic.") \
        else f"ocid1.privateip.oc1..{vnic_id}"


def private_ips(oci: Obj) -> list[Obj]:
    """Every private IP the snapshot implies (ListPrivateIps' `PrivateIp` bodies, in VNIC order)."""
    if isinstance(oci.get(PRIVATE_IPS), list):
        return [p for p in oci[PRIVATE_IPS] if isinstance(p, dict)]
    out = []
    for vnic in oci.get(VNICS) or []:
        if not isinstance(vnic, dict) or not vnic.get("privateIp") or not vnic.get("id"):
            continue
        out.append({
            "id": _privateip_id(str(vnic["id"])), "ipAddress": vnic["privateIp"], "vnicId": vnic["id"],
            "subnetId": vnic.get("subnetId"), "isPrimary": True, "hostnameLabel": vnic.get("hostnameLabel"),
            "displayName": vnic.get("displayName") or vnic["privateIp"],
            "availabilityDomain": vnic.get("availabilityDomain"), "compartmentId": vnic.get("compartmentId"),
            "timeCreated": vnic.get("timeCreated"), "ipState": "ASSIGNED", "lifetime": "EPHEMERAL",
            "cidrPrefixLength": None, "vlanId": None, "routeTableId": None,
            "definedTags": {}, "freeformTags": {},
        })
    return out


def filter_private_ips(items: list[Obj], query: dict[str, str]) -> list[Obj]:
    for key in ("subnetId", "vnicId", "vlanId", "ipAddress"):
        if query.get(key):
            items = [p for p in items if str(p.get(key)) == query[key]]
    return items


def nsg_vnics(oci: Obj, nsg_id: str) -> list[Obj]:
    """ListNetworkSecurityGroupVnics: the VNICs whose `nsgIds` name the group, with the instance
    each is attached to (`resourceId`), in VNIC order."""
    parents = {a.get("vnicId"): a.get("instanceId") for a in oci.get(VNIC_ATTACHMENTS) or []
               if isinstance(a, dict) and a.get("lifecycleState") in (None, "ATTACHED")}
    return [{"vnicId": v["id"], "resourceId": parents.get(v["id"]), "timeAssociated": v.get("timeCreated")}
            for v in oci.get(VNICS) or []
            if isinstance(v, dict) and v.get("id") and nsg_id in (v.get("nsgIds") or [])]
