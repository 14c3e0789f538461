"""The writes the simulator's OCI API accepts: the requests that okedoctor's fixes send.

Each write validates its body like the real API (400 InvalidParameter on a field the API does
not know), honours If-Match (412 NoEtagMatch when the resource changed since it was read),
changes the resource in place and, where OCI answers asynchronously (load balancers, node
pools), answers 202 with an `opc-work-request-id` that the work-request endpoints serve: the
request stays IN_PROGRESS for WORK_SECONDS, and a second write to the same load balancer
meanwhile is refused with 409, as OCI does. After every write the simulator recomputes what
follows from the new configuration (okedoctor/sim/model.py).

Served (paths under each API version):
  PUT  /securityLists/{id}                                 200, new ETag
  PUT  /subnets/{id}                                       200, new ETag
  POST /networkSecurityGroups/{id}/actions/addSecurityRules 200
  PUT  /networkLoadBalancers/{id}/backendSets/{name}       202 + work request
  PUT  /loadBalancers/{id}/backendSets/{name}              202 + work request
  POST /instances/{id}?action=SOFTRESET|RESET|...          200
  GET  /workRequests/{id}, /workRequests?compartmentId=    NLB work requests
  GET  /loadBalancerWorkRequests/{id}, /loadBalancers/{id}/workRequests   LB work requests
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from okedoctor.oci_catalog import ETAGS, etag_of

WORK_SECONDS = 1.0

# The fields of each Update*Details body, as the API models define them.
SECURITY_LIST_FIELDS = {"definedTags", "displayName", "egressSecurityRules", "freeformTags", "ingressSecurityRules"}
SUBNET_FIELDS = {"definedTags", "dhcpOptionsId", "displayName", "freeformTags", "routeTableId", "securityListIds",
                 "cidrBlock", "ipv6CidrBlock", "ipv6CidrBlocks"}
NLB_BACKEND_SET_FIELDS = {"policy", "isPreserveSource", "isFailOpen", "isInstantFailoverEnabled",
                          "isInstantFailoverTcpResetEnabled", "areOperationallyActiveBackendsPreferred",
                          "ipVersion", "backends", "healthChecker"}
LB_BACKEND_SET_FIELDS = {"policy", "backends", "backendMaxConnections", "healthChecker", "sslConfiguration",
                         "sessionPersistenceConfiguration", "lbCookieSessionPersistenceConfiguration"}
NSG_ADD_FIELDS = {"securityRules"}
INSTANCE_ACTIONS = {"STOP", "START", "SOFTRESET", "RESET", "SOFTSTOP", "SENDDIAGNOSTICINTERRUPT",
                    "DIAGNOSTICREBOOT", "REBOOTMIGRATE"}


class WriteError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class WorkRequest:
    id: str
    flavor: str  # "nlb" / "lb"
    resource_id: str
    operation: str
    compartment: str
    accepted: float = field(default_factory=time.time)

    def running(self, now: float) -> bool:
        return now - self.accepted < WORK_SECONDS

    def body(self, now: float) -> dict[str, Any]:
        done = not self.running(now)
        accepted = _iso(self.accepted)
        finished = _iso(self.accepted + WORK_SECONDS) if done else None
        if self.flavor == "lb":
            return {"id": self.id, "loadBalancerId": self.resource_id, "type": self.operation,
                    "lifecycleState": "SUCCEEDED" if done else "IN_PROGRESS", "message": "",
                    "timeAccepted": accepted, "timeFinished": finished, "errorDetails": []}
        return {"id": self.id, "operationType": self.operation, "status": "SUCCEEDED" if done else "IN_PROGRESS",
                "compartmentId": self.compartment, "percentComplete": 100.0 if done else 50.0,
                "resources": [{"entityType": "NetworkLoadBalancer", "actionType": "UPDATED",
                               "identifier": self.resource_id,
                               "entityUri": f"/networkLoadBalancers/{self.resource_id}"}],
                "timeAccepted": accepted, "timeStarted": accepted, "timeFinished": finished}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_body(raw: bytes, allowed: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise WriteError(400, "InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise WriteError(400, "InvalidParameter", "The request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise WriteError(400, "InvalidParameter", f"Unrecognized field(s): {', '.join(unknown)}")
    return body


class OciWrites:
    """The write half of the simulated OCI API, over the same `oci` dict the reads serve."""

    def __init__(self, oci: dict[str, Any]) -> None:
        self.oci = oci
        self.work_requests: dict[str, WorkRequest] = {}

    # ---- ETags ------------------------------------------------------------------------------
    def etag(self, obj: dict[str, Any]) -> str:
        return (self.oci.get(ETAGS) or {}).get(obj.get("id")) or etag_of(obj)

    def check_if_match(self, obj: dict[str, Any], if_match: str | None) -> None:
        if if_match and if_match != self.etag(obj):
            raise WriteError(412, "NoEtagMatch", "The resource's etag does not match the value of the If-Match "
                                                 "header (it changed since it was read).")

    def _changed(self, obj: dict[str, Any]) -> None:
        self.oci.setdefault(ETAGS, {})[obj["id"]] = etag_of(obj)

    # ---- VCN: synchronous --------------------------------------------------------------------
    def update_security_list(self, sl: dict[str, Any], raw: bytes, if_match: str | None) -> dict[str, Any]:
        body = parse_body(raw, SECURITY_LIST_FIELDS)
        self.check_if_match(sl, if_match)
        for key in ("ingressSecurityRules", "egressSecurityRules"):
            if key in body and not isinstance(body[key], list):
                raise WriteError(400, "InvalidParameter", f"{key} must be a list")
        sl.update(body)
        self._changed(sl)
        return sl

    def update_subnet(self, subnet: dict[str, Any], raw: bytes, if_match: str | None) -> dict[str, Any]:
        body = parse_body(raw, SUBNET_FIELDS)
        self.check_if_match(subnet, if_match)
        if "routeTableId" in body and not any(rt.get("id") == body["routeTableId"]
                                              for rt in self.oci.get("routeTables") or []):
            raise WriteError(404, "NotAuthorizedOrNotFound", f"Route table {body['routeTableId']} not found.")
        subnet.update(body)
        self._changed(subnet)
        return subnet

    def add_nsg_rules(self, nsg_id: str, raw: bytes) -> dict[str, Any]:
        body = parse_body(raw, NSG_ADD_FIELDS)
        rules = self.oci.setdefault("networkSecurityGroupRules", {}).setdefault(nsg_id, [])
        added = []
        for rule in body.get("securityRules") or []:
            new = {**rule, "id": uuid.uuid4().hex[:6].upper(), "isValid": True,
                   "timeCreated": _iso(time.time())}
            rules.append(new)
            added.append(new)
        return {"securityRules": added}

    # ---- load balancers: asynchronous ---------------------------------------------------------
    def update_backend_set(self, flavor: str, lb: dict[str, Any], name: str, raw: bytes,
                           if_match: str | None) -> WorkRequest:
        body = parse_body(raw, NLB_BACKEND_SET_FIELDS if flavor == "nlb" else LB_BACKEND_SET_FIELDS)
        sets = lb.get("backendSets") or {}
        if name not in sets:
            raise WriteError(404, "NotAuthorizedOrNotFound", f"Backend set {name} not found.")
        self.check_if_match(lb, if_match)
        self._refuse_while_running(lb["id"])
        bset = sets[name]
        if "backends" in body:
            body["backends"] = [_backend(flavor, b) for b in body["backends"] or []]
        bset.update(body)
        self._changed(lb)
        return self._accept(flavor, lb, "UPDATE_BACKEND_SET" if flavor == "nlb" else "UpdateBackendSet")

    def _refuse_while_running(self, lb_id: str) -> None:
        now = time.time()
        if any(w.resource_id == lb_id and w.running(now) for w in self.work_requests.values()):
            raise WriteError(409, "Conflict", "Invalid State Transition of NLB lifeCycle state from Updating "
                                              "to Updating" if lb_id.startswith("ocid1.networkloadbalancer")
                             else "Another work request is in progress for this load balancer.")

    def _accept(self, flavor: str, lb: dict[str, Any], operation: str) -> WorkRequest:
        prefix = "ocid1.nlbworkrequest" if flavor == "nlb" else "ocid1.loadbalancerworkrequest"
        wr = WorkRequest(f"{prefix}.oc1.sim.{uuid.uuid4().hex[:20]}", flavor, lb["id"], operation,
                         lb.get("compartmentId") or "")
        self.work_requests[wr.id] = wr
        return wr

    def work_request(self, wr_id: str) -> dict[str, Any] | None:
        wr = self.work_requests.get(wr_id)
        return wr.body(time.time()) if wr else None

    def work_requests_of(self, flavor: str, *, lb_id: str | None = None,
                         compartment: str | None = None) -> list[dict[str, Any]]:
        now = time.time()
        return [w.body(now) for w in sorted(self.work_requests.values(), key=lambda w: -w.accepted)
                if w.flavor == flavor and (lb_id is None or w.resource_id == lb_id)
                and (compartment is None or w.compartment == compartment)]

    # ---- compute ------------------------------------------------------------------------------
    def instance_action(self, instance: dict[str, Any], action: str) -> dict[str, Any]:
        if action not in INSTANCE_ACTIONS:
            raise WriteError(400, "InvalidParameter", f"Unknown action {action!r}.")
        instance["lifecycleState"] = "STOPPED" if action in ("STOP", "SOFTSTOP") else "RUNNING"
        return instance


def _backend(flavor: str, b: Any) -> dict[str, Any]:
    """A BackendDetails body as the set then holds it: with the name OCI gives it (ip:port)."""
    if not isinstance(b, dict) or not b.get("port") or not (b.get("ipAddress") or b.get("targetId")):
        raise WriteError(400, "InvalidParameter", "Each backend needs a port and an ipAddress (or targetId).")
    out = dict(b)
    out["name"] = f"{b.get('ipAddress')}:{b['port']}"
    defaults = ({"weight": 1, "isBackup": False, "isDrain": False, "isOffline": False} if flavor == "nlb"
                else {"weight": 1, "backup": False, "drain": False, "offline": False})
    return {**defaults, **out}
