"""A fix's machine-applicable form: typed actions, each one API request, from which the printed
command is rendered too, so what a person pastes and what `okedoctor fix` sends cannot differ.

A check builds an `Action`, and puts `command_of(action)` among its fix's commands: that string
is an `ActionCommand`, a str that carries its action, so `Fix.actions` finds every applicable
request among the commands without any check listing them twice.

Each action knows what it does to the object (`safety`): `change` (one field), `replace-list`
(a whole rule or backend list is rewritten: the preview shows the list's diff, the request
carries the ETag of the read as If-Match where the API takes one), `restart`, `delete-data`.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

OCI = "oci"
KUBERNETES = "kubernetes"


@dataclass(frozen=True)
class Action:
    api: str  # OCI or KUBERNETES
    service: str  # the OCI service key (vcn, nlb, lb) or the Kubernetes group/version ("v1", "apps/v1")
    method: str  # PUT / POST / PATCH
    path: str  # the REST path template, under the API version
    path_params: tuple[tuple[str, str], ...]
    body: Any  # a JSON object; a JSON patch is a list of operations
    describe: str  # one line: what it changes, on which object
    if_match: str | None = None
    safety: str = "change"
    work_request: bool = False  # OCI answers 202 and a work request to wait for
    content_type: str = "application/json"
    # For a replaced list: the field and its value as read, for the preview's diff.
    replaces: str | None = None
    before: Any = field(default=None, compare=False)

    @property
    def params(self) -> dict[str, str]:
        return dict(self.path_params)

    @property
    def resource_path(self) -> str:
        path = self.path
        for key, value in self.path_params:
            path = path.replace("{" + key + "}", value)
        return path

    def to_dict(self) -> Obj:
        out: Obj = {"api": self.api, "method": self.method, "path": self.resource_path, "body": self.body,
                    "safety": self.safety}
        if self.if_match:
            out["ifMatch"] = self.if_match
        if self.work_request:
            out["workRequest"] = True
        return out


class ActionCommand(str):
    """A printed command rendered from an action, carrying it."""

    action: Action

    def __new__(cls, text: str, action: Action) -> ActionCommand:
        obj = super().__new__(cls, text)
        obj.action = action
        return obj

    def __reduce__(self):  # deepcopy / pickle keep the action
        return (ActionCommand, (str(self), self.action))


def _q(value: Any) -> str:
    return shlex.quote(json.dumps(value, separators=(",", ":")))


# ---- OCI ---------------------------------------------------------------------------------------

def security_list_update(security_list: Obj, key: str, rules: list[Obj], etag: str | None) -> ActionCommand:
    """Rewrite one rule list of a security list (the API replaces the list: it carries the old rules)."""
    action = Action(OCI, "vcn", "PUT", "/securityLists/{securityListId}",
                    (("securityListId", security_list.get("id", "")),), {key: rules},
                    f"replace the {len(rules)} {key} of security list {security_list.get('displayName')}",
                    if_match=etag, safety="replace-list", replaces=key, before=security_list.get(key) or [])
    flag = "--ingress-security-rules" if key == "ingressSecurityRules" else "--egress-security-rules"
    text = (f"oci network security-list update --security-list-id {security_list.get('id')} {flag} {_q(rules)}"
            + (f" --if-match {shlex.quote(etag)}" if etag else ""))
    return ActionCommand(text, action)


def nsg_rules_add(nsg_id: str, rules: list[Obj]) -> ActionCommand:
    action = Action(OCI, "vcn", "POST", "/networkSecurityGroups/{networkSecurityGroupId}/actions/addSecurityRules",
                    (("networkSecurityGroupId", nsg_id),), {"securityRules": rules},
                    f"add {len(rules)} rule(s) to NSG {nsg_id}")
    return ActionCommand(f"oci network nsg rules add --nsg-id {nsg_id} --security-rules {_q(rules)}", action)


def subnet_route_table(subnet: Obj, route_table_id: str) -> ActionCommand:
    action = Action(OCI, "vcn", "PUT", "/subnets/{subnetId}", (("subnetId", subnet.get("id", "")),),
                    {"routeTableId": route_table_id},
                    f"point subnet {subnet.get('displayName')} at route table {route_table_id}",
                    replaces="routeTableId", before=subnet.get("routeTableId"))
    return ActionCommand(f"oci network subnet update --subnet-id {subnet.get('id')} --route-table-id "
                         f"{route_table_id}", action)


def backend_set_update(flavor: str, lb_id: str, name: str, details: Obj, before: list[Obj],
                       text: str) -> ActionCommand:
    """An UpdateBackendSet (the whole backend list and checker), as the CLI command `text` sends it."""
    path = ("/networkLoadBalancers/{id}/backendSets/{name}" if flavor == "nlb"
            else "/loadBalancers/{id}/backendSets/{name}")
    action = Action(OCI, flavor, "PUT", path, (("id", lb_id), ("name", name)), details,
                    f"replace backend set {name} ({len(details.get('backends') or [])} backend(s))",
                    safety="replace-list", work_request=True, replaces="backends", before=before)
    return ActionCommand(text, action)


# ---- Kubernetes ----------------------------------------------------------------------------------

STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

_PATHS = {"Service": ("v1", "/api/v1/namespaces/{namespace}/services/{name}"),
          "Deployment": ("apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}")}


def kube_patch(kind: str, namespace: str, name: str, patch: Obj, describe: str) -> ActionCommand:
    """`kubectl patch` (strategic merge, kubectl's default for built-in kinds) of one object."""
    version, path = _PATHS[kind]
    action = Action(KUBERNETES, version, "PATCH", path, (("namespace", namespace), ("name", name)), patch,
                    describe, content_type=STRATEGIC)
    return ActionCommand(f"kubectl -n {namespace} patch {kind.lower()} {name} -p {shlex.quote(json.dumps(patch))}",
                         action)


def kube_json_patch(kind: str, namespace: str, name: str, ops: list[Obj], describe: str) -> ActionCommand:
    """`kubectl patch --type=json`: each operation names the exact field it replaces."""
    version, path = _PATHS[kind]
    action = Action(KUBERNETES, version, "PATCH", path, (("namespace", namespace), ("name", name)), ops,
                    describe, content_type=JSON_PATCH)
    return ActionCommand(f"kubectl -n {namespace} patch {kind.lower()} {name} --type=json -p "
                         f"{shlex.quote(json.dumps(ops))}", action)
