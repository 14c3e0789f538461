"""Applying a fix's actions through the clients the diagnosis reads with: the oci SDK (with the
ETag of the read as If-Match where the API takes one) and the kubernetes client. Never a shell.

An OCI write answered with a work request is waited for (SUCCEEDED, or the deadline); a
refused request (412: the object changed since the diagnosis read it; 409: another change
runs) stops the fix with the API's own words.
"""

from __future__ import annotations

import difflib
import json
import time
from dataclasses import dataclass
from typing import Any

from okedoctor.actions import KUBERNETES, OCI, Action
from okedoctor.errors import CollectionError

WORK_REQUEST_PATHS = {"nlb": ("/workRequests/{workRequestId}", "status"),
                      "lb": ("/loadBalancerWorkRequests/{workRequestId}", "lifecycleState")}


@dataclass
class Applied:
    action: Action
    ok: bool
    detail: str


def preview(action: Action) -> list[str]:
    """The exact request, and for a replaced list the diff of what it replaces."""
    lines = [f"{action.method} {action.resource_path}" + (f"  If-Match: {action.if_match}" if action.if_match else "")
             + (f"  ({action.content_type})" if action.api == KUBERNETES else "")]
    if action.replaces and isinstance(action.before, list | str | None):
        old = json.dumps(action.before, indent=1, sort_keys=True).splitlines()
        new = json.dumps(action.body.get(action.replaces), indent=1, sort_keys=True).splitlines()
        diff = list(difflib.unified_diff(old, new, f"{action.replaces} (now)", f"{action.replaces} (after)",
                                         lineterm="", n=1))
        lines += diff or ["(no change)"]
    else:
        lines += json.dumps(action.body, indent=1, sort_keys=True).splitlines()
    return lines


class Applier:
    def __init__(self, oci_clients: Any, kube_client: Any, timeout: float) -> None:
        self.oci, self.kube, self.timeout = oci_clients, kube_client, timeout

    def apply(self, action: Action) -> Applied:
        if action.api == OCI:
            return self._oci(action)
        if action.api == KUBERNETES:
            return self._kube(action)
        return Applied(action, False, f"unknown API {action.api}")

    def _oci(self, action: Action) -> Applied:
        import oci

        if self.oci is None:
            return Applied(action, False, "no OCI configuration: OCI actions cannot be applied")
        client = self.oci._client(action.service)  # the SDK's BaseClient (OciReader._make_client)
        headers = {"accept": "application/json", "content-type": "application/json"}
        if action.if_match:
            headers["if-match"] = action.if_match
        try:
            resp = client.call_api(resource_path=action.path, method=action.method, path_params=action.params,
                                   header_params=headers, body=action.body, response_type="bytes")
        except oci.exceptions.ServiceError as exc:
            why = " (the object changed since it was read: diagnose again)" if exc.status == 412 else ""
            return Applied(action, False, f"OCI answered {exc.status} {exc.code}: {exc.message}{why}")
        except (oci.exceptions.RequestException, oci.exceptions.ConnectTimeout) as exc:
            return Applied(action, False, f"OCI unreachable: {str(exc).splitlines()[0]}")
        wr = (resp.headers or {}).get("opc-work-request-id")
        if action.work_request and wr:
            return self._wait(action, client, wr)
        return Applied(action, True, f"{resp.status}")

    def _wait(self, action: Action, client: Any, wr: str) -> Applied:
        path, field = WORK_REQUEST_PATHS[action.service]
        deadline = time.monotonic() + self.timeout
        state = "ACCEPTED"
        while time.monotonic() < deadline:
            got = client.call_api(resource_path=path, method="GET", path_params={"workRequestId": wr},
                                  header_params={"accept": "application/json"}, response_type="bytes")
            state = (json.loads(got.data or b"{}") or {}).get(field) or state
            if state in ("SUCCEEDED", "FAILED", "CANCELED"):
                break
            time.sleep(0.5)
        return Applied(action, state == "SUCCEEDED", f"work request {wr}: {state}")

    def _kube(self, action: Action) -> Applied:
        client = self.kube
        try:
            method, url, headers, body, _ = client.param_serialize(
                method=action.method, resource_path=action.resource_path, path_params={}, query_params=[],
                header_params={"Content-Type": action.content_type, "Accept": "application/json"},
                body=action.body, auth_settings=["BearerToken"])
            resp = client.call_api(method, url, headers, body=body, _request_timeout=self.timeout)
            data = resp.read()
        except Exception as exc:  # urllib3 transport errors: refused, reset, TLS, timeout
            raise CollectionError(f"cannot reach the Kubernetes API server: {str(exc).splitlines()[0]}") from None
        if resp.status >= 300:
            try:
                message = json.loads(data or b"{}").get("message") or resp.reason
            except ValueError:
                message = resp.reason
            return Applied(action, False, f"Kubernetes answered {resp.status}: {message}")
        return Applied(action, True, f"{resp.status}")
