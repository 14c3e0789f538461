"""What a Gateway API controller (Istio, Envoy Gateway) wrote about the objects a URL's walk
went through: the HTTPRoute's `status.parents[].conditions` (Accepted, ResolvedRefs), the
Gateway's `status.conditions` (Accepted, Programmed) and its listeners'. Condition types and
reasons as the Gateway API defines them (gateway.networking.k8s.io/v1, RouteConditionType,
GatewayConditionType, ListenerConditionType). Read-only helpers over Facts; no check lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okedoctor.chain import route as routes
from okedoctor.facts import Facts

Obj = dict[str, Any]

GROUP = "gateway.networking.k8s.io"
ROUTE_NOT_ACCEPTED = "OKD-ING-009"
ROUTE_REFS_UNRESOLVED = "OKD-ING-010"
GATEWAY_NOT_PROGRAMMED = "OKD-ING-011"
# Labels the controllers put on the Service they make for a Gateway: Envoy Gateway's, and the
# Gateway API's own (Istio's automated deployment).
OWNER_LABELS = (("gateway.envoyproxy.io/owning-gateway-namespace", "gateway.envoyproxy.io/owning-gateway-name"),
                (None, "gateway.networking.k8s.io/gateway-name"),
                (None, "istio.io/gateway-name"))


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str

    def to_dict(self) -> dict[str, str]:
        out = {"type": self.type, "status": self.status, "reason": self.reason}
        if self.message:
            out["message"] = self.message[:300]
        return out


def conditions(status: Obj | None) -> list[Condition]:
    return [Condition(str(c.get("type") or ""), str(c.get("status") or ""), str(c.get("reason") or ""),
                      str(c.get("message") or ""))
            for c in (status or {}).get("conditions") or [] if isinstance(c, dict)]


def false(conds: list[Condition], *types: str) -> list[Condition]:
    """The conditions of these types that are False: what the controller refused."""
    return [c for c in conds if c.type in types and c.status == "False"]


def parent_ref_key(ref: Obj, route_ns: str) -> tuple[str, str]:
    """(namespace, name) of the Gateway a parentRef names; its namespace defaults to the route's."""
    return (ref.get("namespace") or route_ns, ref.get("name") or "")


def _ns(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("namespace") or "default"


def _name(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def edge_gateways(facts: Facts) -> list[Obj]:
    """The Gateways the walk's address belongs to: their `status.addresses` hold it, or the edge
    Service is the one the controller made for them (by its owner labels). Empty when neither says."""
    walk = routes.walk(facts)
    if walk is None:
        return []
    gateways = facts.objects("Gateway")
    out = [g for g in gateways
           if walk.address and any(a.get("value") == walk.address
                                   for a in (g.get("status") or {}).get("addresses") or [] if isinstance(a, dict))]
    labels = ((walk.edge or {}).get("metadata") or {}).get("labels") or {}
    for ns_label, name_label in OWNER_LABELS:
        name = labels.get(name_label)
        if not name:
            continue
        ns = labels.get(ns_label) if ns_label else _ns(walk.edge or {})
        out += [g for g in gateways if _name(g) == name and _ns(g) == ns and g not in out]
    return out


@dataclass(frozen=True)
class ParentStatus:
    """One `status.parents[]` entry of an HTTPRoute: the Gateway (and listener) it names, and what
    that Gateway's controller said about the route."""

    ref: Obj
    namespace: str
    name: str
    controller: str
    conditions: tuple[Condition, ...]

    @property
    def section(self) -> str | None:
        return self.ref.get("sectionName")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"gateway": f"{self.namespace}/{self.name}", "controllerName": self.controller,
                               "conditions": [c.to_dict() for c in self.conditions]}
        if self.section:
            out["sectionName"] = self.section
        return out


def route_parents(facts: Facts, route: Obj) -> list[ParentStatus]:
    """The route's parent statuses for the Gateways serving the URL's address (all of them when
    which Gateway that is cannot be told)."""
    ns = _ns(route)
    parents = []
    for p in (route.get("status") or {}).get("parents") or []:
        if not isinstance(p, dict):
            continue
        ref = p.get("parentRef") or {}
        gns, gname = parent_ref_key(ref, ns)
        parents.append(ParentStatus(ref, gns, gname, str(p.get("controllerName") or ""),
                                    tuple(conditions(p))))
    edges = {(_ns(g), _name(g)) for g in edge_gateways(facts)}
    mine = [p for p in parents if (p.namespace, p.name) in edges]
    return mine if edges and mine else parents


def matched_route(facts: Facts) -> Obj | None:
    """The HTTPRoute whose rule the walk matched, or None (no match, or an Ingress)."""
    walk = routes.walk(facts)
    if walk is None or walk.match is None or walk.match.kind != "HTTPRoute":
        return None
    return walk.match.route


def listener_names(gateway: Obj | None) -> list[str]:
    return [str(li.get("name")) for li in ((gateway or {}).get("spec") or {}).get("listeners") or []
            if isinstance(li, dict) and li.get("name")]


def listener(gateway: Obj, name: str) -> Obj | None:
    for li in (gateway.get("spec") or {}).get("listeners") or []:
        if isinstance(li, dict) and li.get("name") == name:
            return li
    return None


def listener_status(gateway: Obj, name: str) -> list[Condition]:
    for li in (gateway.get("status") or {}).get("listeners") or []:
        if isinstance(li, dict) and li.get("name") == name:
            return conditions(li)
    return []


def host_fits(listener_host: str | None, host: str) -> bool:
    if not listener_host:
        return True
    if listener_host.startswith("*."):
        return host.endswith(listener_host[1:]) and host != listener_host[2:]
    return listener_host == host


def url_listeners(gateway: Obj, scheme: str, port: int, host: str, section: str | None = None) -> list[Obj]:
    """The listeners of the Gateway that would take the URL: its protocol (HTTPS for https, HTTP
    for http), a hostname covering the host (or none), the parentRef's sectionName when it has one.
    The port is the Gateway's; the LB in front forwards the URL's port to it unchanged."""
    want = "HTTPS" if scheme == "https" else "HTTP"
    out = []
    for li in (gateway.get("spec") or {}).get("listeners") or []:
        if not isinstance(li, dict) or str(li.get("protocol") or "").upper() != want:
            continue
        if section and li.get("name") != section:
            continue
        if li.get("port") not in (None, port) and len([x for x in (gateway.get("spec") or {}).get("listeners") or []
                                                       if str(x.get("protocol") or "").upper() == want]) > 1:
            continue
        if host_fits(li.get("hostname"), host):
            out.append(li)
    return out


def reference_grant(namespace: str, from_kind: str, from_ns: str, to_kind: str, to_name: str) -> str:
    """The ReferenceGrant, in the referent's namespace, that lets `from_kind`s of `from_ns` refer to it."""
    return (f"apiVersion: {GROUP}/v1beta1\n"
            "kind: ReferenceGrant\n"
            "metadata:\n"
            f"  name: allow-{from_kind.lower()}s-from-{from_ns}\n"
            f"  namespace: {namespace}\n"
            "spec:\n"
            "  from:\n"
            f"  - group: {GROUP}\n"
            f"    kind: {from_kind}\n"
            f"    namespace: {from_ns}\n"
            "  to:\n"
            "  - group: \"\"\n"
            f"    kind: {to_kind}\n"
            f"    name: {to_name}\n")
