"""The OCI REST API of the simulator: the GET endpoints okedoctor's collectors call, and the writes
its fixes send (okedoctor/sim/ociwrite.py).

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
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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
    PRIVATE_IPS,
    VNICS,
    collections_by_version,
)
from okedoctor.sim import vnicviews
from okedoctor.sim.httpbase import SimHandler
from okedoctor.sim.ociwrite import OciWrites, WriteError

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
    writes: OciWrites = None  # type: ignore[assignment]
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_write: Callable[[], None] | None = None  # recomputes what follows from the new configuration
    before_write: Callable[[], None] | None = None  # takes the configuration as loaded, once

    def __post_init__(self) -> None:
        if self.writes is None:
            self.writes = OciWrites(self.oci)


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
        segs = [unquote(s) for s in self.url_path.strip("/").split("/")]
        query = {k: v[-1] for k, v in parse_qs(self.url_query, keep_blank_values=True).items()}
        try:
            with self.app.lock:
                if self.command in ("PUT", "POST"):
                    self._extra["body"] = self.request_body.decode("utf-8", "replace")
                    if self.app.before_write:
                        self.app.before_write()
                    self.write(segs, query)
                elif self.command != "GET":
                    self.error(405)
                elif not self.serve_work_requests(segs, query):
                    self.serve(segs, query)
        except NotFound as exc:
            self.error(404, message=str(exc))
        except WriteError as exc:
            self.error(exc.status, exc.code, exc.message)

    # ---- writes ------------------------------------------------------------------------------

    def write(self, segs: list[str], query: dict[str, str]) -> None:
        w, if_match = self.app.writes, self.headers.get("if-match")
        if len(segs) < 3:
            raise self.not_served()
        collection, ocid, rest = segs[1], segs[2], segs[3:]
        if self.command == "PUT" and collection == "securityLists" and not rest:
            body = w.update_security_list(self.find(collection, ocid), self.request_body, if_match)
            self.written(200, body)
        elif self.command == "PUT" and collection == "subnets" and not rest:
            self.written(200, w.update_subnet(self.find(collection, ocid), self.request_body, if_match))
        elif (self.command == "POST" and collection == NETWORK_SECURITY_GROUPS
              and rest == ["actions", "addSecurityRules"]):
            self.find(collection, ocid)
            self.written(200, w.add_nsg_rules(ocid, self.request_body), etag=False)
        elif self.command == "PUT" and collection in FLAVOR_BY_SECTION and len(rest) == 2 \
                and rest[0] == "backendSets":
            flavor = FLAVOR_BY_SECTION[collection].key
            wr = w.update_backend_set(flavor, self.find(collection, ocid), rest[1], self.request_body, if_match)
            self.written(202, None, headers={"opc-work-request-id": wr.id})
        elif self.command == "POST" and collection == "instances" and not rest and query.get("action"):
            self.written(200, w.instance_action(self.find(collection, ocid), query["action"]))
        else:
            raise NotFound(f"okedoctor sim: {self.command} {self.url_path} is not served by the simulator "
                           "(see docs/simulator.md)")

    def written(self, status: int, body: Any, *, etag: bool = True, headers: dict[str, str] | None = None) -> None:
        if self.app.on_write:
            self.app.on_write()
        out = {**self.opc_headers(), **(headers or {})}
        if etag and isinstance(body, dict) and body.get("id"):
            out["etag"] = self.app.writes.etag(body)
        if body is None:
            self.reply(status, b"", "application/json", out)
        else:
            self.reply_json(status, body, out)

    def serve_work_requests(self, segs: list[str], query: dict[str, str]) -> bool:
        """The work requests of the writes: NLB's /workRequests, LB's /loadBalancerWorkRequests."""
        w = self.app.writes
        if segs[:2] == [NLB_VERSION, "workRequests"]:
            if len(segs) == 2:
                self.send_list(w.work_requests_of("nlb", compartment=query.get("compartmentId")), query,
                               collection_body=True)
            else:
                self.send(w.work_request(segs[2]) or _raise(NotFound()))
            return True
        if len(segs) == 3 and segs[1] == "loadBalancerWorkRequests":
            self.send(w.work_request(segs[2]) or _raise(NotFound()))
            return True
        if len(segs) == 4 and segs[1] == "loadBalancers" and segs[3] == "workRequests":
            self.send_list(w.work_requests_of("lb", lb_id=segs[2]), query, collection_body=False)
            return True
        return False

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
        if collection == PRIVATE_IPS and not rest:
            self.list_private_ips(query)
            return
        if not rest:
            if collection not in self.app.oci:
                # An empty list would claim there are none; the file only says nobody looked.
                raise NotFound(f"okedoctor sim: the snapshot holds no {collection} (not observed)")
            self.send_list(self.filtered(collection, query), query, collection_body=version == NLB_VERSION)
            return
        obj = self.find(collection, rest[0])
        if len(rest) == 1:
            self.reply_json(200, obj, {**self.opc_headers(), "etag": self.app.writes.etag(obj)})
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
        elif collection == NETWORK_SECURITY_GROUPS and rest[1:] == ["vnics"]:
            if VNICS not in self.app.oci:
                raise NotFound("okedoctor sim: the snapshot holds no vnics (not observed)")
            self.send_list(vnicviews.nsg_vnics(self.app.oci, obj["id"]), query, collection_body=False)
        else:
            raise self.not_served()

    def list_private_ips(self, query: dict[str, str]) -> None:
        """ListPrivateIps: by subnet, VNIC or VLAN (OCI refuses a list without one of them)."""
        if not any(query.get(k) for k in vnicviews.PRIVATE_IP_FILTERS):
            self.error(400, "InvalidParameter", "One of subnetId, vnicId or vlanId must be specified.")
            return
        if PRIVATE_IPS not in self.app.oci and VNICS not in self.app.oci:
            raise NotFound("okedoctor sim: the snapshot holds no vnics (not observed)")
        items = vnicviews.filter_private_ips(vnicviews.private_ips(self.app.oci), query)
        self.send_list(items, query, collection_body=False)

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


def _raise(exc: Exception) -> Any:
    raise exc


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise NotFound()
