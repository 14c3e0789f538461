"""The OCI REST API of the simulator: the GET endpoints okedoctor's collectors call.

One listener serves every service (the API-version prefixes differ): Network Load Balancer
(/20200501), Load Balancer (/20170115), VCN and Compute (/20160918), Container Engine
(/20180222). Every request must carry a valid API-key signature, checked for real against the
key pair the simulator generated; resources come from the snapshot's `oci:` section.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from okedoctor.oci_catalog import (
    BACKEND_HEALTH,
    BACKEND_SET_HEALTH,
    FLAVOR_BY_SECTION,
    NETWORK_SECURITY_GROUPS,
    NLB,
    NSG_RULES,
    collections_by_version,
)
from okedoctor.sim.httpbase import SimHandler

# Which collections each API version serves (the catalogue's); NLB lists answer {"items": [...]}.
COLLECTIONS = collections_by_version()
NLB_VERSION = NLB.service.version
LIST_FILTERS = ("compartmentId", "displayName", "lifecycleState", "vcnId", "instanceId", "vnicId",
                "availabilityDomain", "clusterId")
ERRORS = {400: ("InvalidParameter", "The request is invalid."),
          401: ("NotAuthenticated", "The required information to complete authentication was not provided "
                                    "or was incorrect."),
          404: ("NotAuthorizedOrNotFound", "Authorization failed or requested resource not found."),
          405: ("MethodNotAllowed", "The method is not allowed on this resource."),
          409: ("Conflict", "The resource is in a conflicting state."),
          429: ("TooManyRequests", "Too many requests for the user."),
          500: ("InternalServerError", "Internal server error."),
          502: ("BadGateway", "Bad gateway."),
          503: ("ServiceUnavailable", "Service unavailable."),
          504: ("GatewayTimeout", "Gateway timeout.")}
MAX_CLOCK_SKEW_S = 300


@dataclass
class OciApp:
    oci: dict[str, Any]
    key_id: str
    public_key: rsa.RSAPublicKey


class NotFound(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(message or ERRORS[404][1])


class OciHandler(SimHandler):
    api = "oci"

    @property
    def app(self) -> OciApp:
        return self.server.app

    def error(self, status: int, code: str | None = None, message: str | None = None) -> None:
        default_code, default_message = ERRORS.get(status, ("InternalServerError", "Internal server error."))
        self.reply_json(status, {"code": code or default_code, "message": message or default_message},
                        self.opc_headers())

    def opc_headers(self, next_page: str | None = None) -> dict[str, str]:
        client = self.headers.get("opc-request-id", "")
        rid = uuid.uuid4().hex.upper()
        headers = {"opc-request-id": f"{client}/{rid}" if client else rid}
        if next_page:
            headers["opc-next-page"] = next_page
        return headers

    def fault_response(self, status: int) -> None:
        # OCI answers "not allowed" and "not there" alike: 404 NotAuthorizedOrNotFound.
        self.error(404 if status == 403 else status)

    def route(self) -> None:
        problem = self.signature_problem()
        if problem:
            self.error(401, message=f"{ERRORS[401][1]} ({problem})")
            return
        if self.command != "GET":
            self.error(405)
            return
        segs = [unquote(s) for s in self.url_path.strip("/").split("/")]
        query = {k: v[-1] for k, v in parse_qs(self.url_query, keep_blank_values=True).items()}
        try:
            self.serve(segs, query)
        except NotFound as exc:
            self.error(404, message=str(exc))

    # ---- the request signature -------------------------------------------------------------

    def signature_problem(self) -> str | None:
        """None when the request is signed by the simulator's API key, else why not."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Signature "):
            return "no Signature authorization header"
        params = dict(re.findall(r'(\w+)="([^"]*)"', auth))
        if params.get("keyId") != self.app.key_id:
            return "unknown keyId"
        if params.get("algorithm", "rsa-sha256") != "rsa-sha256":
            return "unsupported signing algorithm"
        names = params.get("headers", "date").split()
        required = {"(request-target)", "host"} | ({"date"} if "x-date" not in names else {"x-date"})
        if self.command in ("POST", "PUT", "PATCH"):
            required |= {"content-length", "content-type", "x-content-sha256"}
        if not required <= set(names):
            return f"the signature must cover {', '.join(sorted(required))}"
        lines = []
        for name in names:
            if name == "(request-target)":
                lines.append(f"(request-target): {self.command.lower()} {self.path}")
                continue
            value = self.headers.get(name)
            if value is None:
                return f"signed header {name} is missing"
            lines.append(f"{name}: {value}")
        try:
            self.app.public_key.verify(base64.b64decode(params.get("signature", "")), "\n".join(lines).encode(),
                                       padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return "the signature does not verify"
        if "x-content-sha256" in names:
            digest = base64.b64encode(hashlib.sha256(self.request_body).digest()).decode()
            if self.headers.get("x-content-sha256") != digest:
                return "x-content-sha256 does not match the body"
        when = self.headers.get("x-date") or self.headers.get("date") or ""
        try:
            skew = abs((datetime.now(UTC) - email.utils.parsedate_to_datetime(when)).total_seconds())
        except (TypeError, ValueError):
            return "unreadable date header"
        if skew > MAX_CLOCK_SKEW_S:
            return "the date header is more than 5 minutes off"
        return None

    # ---- resources -------------------------------------------------------------------------

    def serve(self, segs: list[str], query: dict[str, str]) -> None:
        if len(segs) < 2 or segs[1] not in COLLECTIONS.get(segs[0], ()):
            raise self.not_served()
        version, collection, rest = segs[0], segs[1], segs[2:]
        if not rest:
            if collection not in self.app.oci:
                # An empty list would claim there are none; the file only says nobody looked.
                raise NotFound(f"okedoctor sim: the snapshot holds no {collection} (not observed)")
            self.send_list(self.filtered(collection, query), query, collection_body=version == NLB_VERSION)
            return
        obj = self.find(collection, rest[0])
        if len(rest) == 1:
            self.send(obj)
        elif collection in FLAVOR_BY_SECTION:
            self.lb_part(version, obj, rest[1:], query)
        elif collection == NETWORK_SECURITY_GROUPS and rest[1:] == ["securityRules"]:
            rules = (self.app.oci.get(NSG_RULES) or {}).get(obj["id"])
            if rules is None:
                raise NotFound(f"okedoctor sim: the snapshot holds no security rules for {obj['id']} "
                               "(not observed)")
            if query.get("direction"):
                rules = [r for r in rules if r.get("direction") == query["direction"]]
            self.send_list(rules, query, collection_body=False)
        else:
            raise self.not_served()

    def lb_part(self, version: str, lb: dict[str, Any], rest: list[str], query: dict[str, str]) -> None:
        as_items = version == NLB_VERSION
        if rest[0] == "listeners" and as_items:
            listeners = list((lb.get("listeners") or {}).values())
            if len(rest) == 1:
                self.send_list(listeners, query, collection_body=True)
                return
            self.send(_named(listeners, rest[1]))
            return
        if rest[0] != "backendSets":
            raise self.not_served()
        sets = list((lb.get("backendSets") or {}).values())
        if len(rest) == 1:
            self.send_list(sets, query, collection_body=as_items)
            return
        bset = _named(sets, rest[1])
        tail = rest[2:]
        if not tail:
            self.send(bset)
        elif tail == ["health"]:
            self.send(self.health(BACKEND_SET_HEALTH, f"{lb['id']}/{bset['name']}"))
        elif tail == ["healthChecker"]:
            self.send(bset.get("healthChecker") or {})
        elif tail == ["backends"]:
            self.send_list(list(bset.get("backends") or []), query, collection_body=as_items)
        elif len(tail) == 2 and tail[0] == "backends":
            self.send(_named(bset.get("backends") or [], tail[1]))
        elif len(tail) == 3 and tail[0] == "backends" and tail[2] == "health":
            backend = _named(bset.get("backends") or [], tail[1])
            self.send(self.health(BACKEND_HEALTH, f"{lb['id']}/{bset['name']}/{backend['name']}"))
        else:
            raise self.not_served()

    def health(self, section: str, key: str) -> dict[str, Any]:
        body = (self.app.oci.get(section) or {}).get(key)
        if body is None:
            raise NotFound(f"okedoctor sim: the snapshot holds no {section} for {key} (not observed)")
        return body

    def find(self, collection: str, ocid: str) -> dict[str, Any]:
        if collection not in self.app.oci:
            raise NotFound(f"okedoctor sim: the snapshot holds no {collection} (not observed)")
        for obj in self.app.oci.get(collection) or []:
            if isinstance(obj, dict) and obj.get("id") == ocid:
                return obj
        raise NotFound()

    def not_served(self) -> NotFound:
        return NotFound(f"okedoctor sim: GET {self.url_path} is not served by the simulator "
                        "(see docs/simulator.md)")

    def filtered(self, collection: str, query: dict[str, str]) -> list[dict[str, Any]]:
        items = [o for o in self.app.oci.get(collection) or [] if isinstance(o, dict)]
        for key in LIST_FILTERS:
            if query.get(key):
                items = [o for o in items if str(o.get(key)) == query[key]]
        sort_by = (query.get("sortBy") or "").upper()
        field = {"TIMECREATED": "timeCreated", "DISPLAYNAME": "displayName"}.get(sort_by)
        if field:
            items = sorted(items, key=lambda o: str(o.get(field) or ""),
                           reverse=(query.get("sortOrder") or "").upper() == "DESC")
        return items

    def send(self, body: Any) -> None:
        self.reply_json(200, body, self.opc_headers())

    def send_list(self, items: list[Any], query: dict[str, str], *, collection_body: bool) -> None:
        start = 0
        if query.get("page"):
            if not query["page"].isdigit():
                self.error(400, "InvalidParameter", f"Invalid page token: {query['page']}")
                return
            start = int(query["page"])
        limit = query.get("limit")
        if limit and not limit.isdigit():
            self.error(400, "InvalidParameter", f"Invalid limit: {limit}")
            return
        end = start + int(limit) if limit and int(limit) > 0 else len(items)
        page, next_page = items[start:end], (str(end) if end < len(items) else None)
        body: Any = {"items": page} if collection_body else page
        self.reply_json(200, body, self.opc_headers(next_page))


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise NotFound()
