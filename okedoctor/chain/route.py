"""The walk a request for a URL takes: name -> address -> the LB/NLB holding it -> the Service
behind it -> (an ingress controller's rule for host and path ->) the backend Service and port.

Each step uses only collected facts (`live.dns`, the LB bodies, Service status, Ingresses,
IngressClasses, HTTPRoutes); where a step finds nothing the walk ends there and says why, so
the hops after it are `notReached`, never `ok`. The DNS and ingress checks report the faults,
the runner draws the longer chain from `stop`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from okedoctor.chain import ingress as ing
from okedoctor.chain import native as nat
from okedoctor.facts import Facts, per_target
from okedoctor.model import Hop
from okedoctor.urls import Url, parse_url

Obj = dict[str, Any]


@dataclass(frozen=True)
class Walk:
    url: Url
    answers: list[str] | None  # None: the name does not resolve (or was not resolved: see `resolved`)
    resolved: bool  # live.dns was observed
    edge: Obj | None = None  # the Service whose LB holds the address
    address: str | None = None  # the answer that led to it
    controller: ing.ControllerKind | None = None
    candidates: tuple[ing.RulePath, ...] = ()  # every rule (of any class) for the host
    served: tuple[ing.RulePath, ...] = ()  # those of Ingresses the controller serves
    match: ing.RulePath | None = None
    backend: Obj | None = None  # the Service traffic ends at (the edge itself without a controller)
    stop: Hop | None = None  # the first hop the request does not get past, None when it reaches the pods
    why: str = ""
    lb_services: tuple[dict[str, Any], ...] = field(default=())
    # The OCI Native Ingress Controller's IngressClass whose LB holds the address (no edge Service).
    native_class: Obj | None = None
    lb_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url.text, "host": self.url.host, "path": self.url.path,
                               "dns": self.answers if self.resolved else "not resolved"}
        if self.edge:
            out["edgeService"] = ref(self.edge)
            out["address"] = self.address
        if self.controller:
            out["controller"] = self.controller.name
        if self.native_class is not None:
            out["address"] = self.address
            out["ingressClass"] = nat.class_name(self.native_class)
            out["loadBalancer"] = self.lb_id
        if self.match:
            out["rule"] = self.match.to_dict()
        if self.backend:
            out["backendService"] = ref(self.backend)
        if self.stop:
            out["stopsAt"] = {"hop": self.stop.value, "why": self.why}
        return out


def ref(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', 'default')}/{meta.get('name', '')}"


def load_balancer_services(facts: Facts) -> list[dict[str, Any]]:
    """Every LoadBalancer Service's addresses (its LB's, as the cloud controller manager wrote them):
    what the URL's name should point at. Read from Kubernetes alone, so it is known without OCI."""
    out = []
    for svc in facts.services:
        ips = [i.get("ip") for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
               if i.get("ip")]
        if ips:
            out.append({"service": ref(svc), "addresses": ips})
    for cls in nat.native_classes(facts):
        ips = nat.addresses(facts, cls)
        if ips:
            out.append({"ingressClass": nat.class_name(cls), "loadBalancer": nat.lb_id(cls), "addresses": ips})
    return out


def _edge_service(facts: Facts, answers: list[str]) -> tuple[Obj | None, str | None]:
    for svc in facts.services:
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        for entry in ingress:
            if entry.get("ip") in answers:
                return svc, entry["ip"]
    return None, None


@per_target
def walk(facts: Facts) -> Walk | None:
    """The URL's walk, or None when the target is a Service."""
    if not facts.target_url:
        return None
    url = parse_url(facts.target_url)
    answers = facts.dns_answers(url.host)
    base = Walk(url, answers, facts.dns_observed, lb_services=tuple(load_balancer_services(facts)))
    if not base.resolved:
        return _replace(base, stop=Hop.DNS, why=f"{url.host} was not resolved")
    if not answers:
        return _replace(base, stop=Hop.DNS, why=f"{url.host} does not resolve (NXDOMAIN)")
    edge, address = _edge_service(facts, answers)
    if edge is None and (native := nat.class_for_address(facts, answers)) is not None:
        return _through_native(facts, base, *native)
    if edge is None:
        return _replace(base, stop=Hop.DNS,
                        why=f"{url.host} resolves to {', '.join(answers)}, which no load balancer of the cluster holds")
    base = _replace(base, edge=edge, address=address)
    controller = ing.controller_of(facts.pods_selected_by(edge))
    if controller is None:
        return _replace(base, backend=edge)
    return _through_controller(facts, _replace(base, controller=controller))


def _through_native(facts: Facts, w: Walk, cls: Obj, address: str) -> Walk:
    """The native controller's LB holds the address: no Service fronts it, the class's Ingresses
    are its routing policies and their backend sets send straight to the pods."""
    w = _replace(w, address=address, controller=nat.KIND, native_class=cls, lb_id=nat.lb_id(cls))
    return _through_controller(facts, w, serves=lambda ingress: nat.serves(facts, cls, ingress))


def _through_controller(facts: Facts, w: Walk, serves: Callable[[Obj], bool] | None = None) -> Walk:
    assert w.controller is not None
    kind = w.controller
    routes = facts.objects("HTTPRoute") if kind.gateway_api else []
    candidates: list[ing.RulePath] = [p for r in routes for p in ing.route_paths(r)]
    served: list[ing.RulePath] = list(candidates)
    defaults: list[ing.RulePath] = []
    for ingress in facts.objects("Ingress"):
        paths = [p for p in ing.ingress_paths(ingress) if ing.host_matches(p.host, w.url.host)]
        candidates += paths
        if serves(ingress) if serves else ing.served_by(facts, ingress, kind):
            served += paths
            if (d := ing.default_backend(ingress)) is not None:
                defaults.append(d)
    candidates = [p for p in candidates if ing.host_matches(p.host, w.url.host)]
    served = [p for p in served if ing.host_matches(p.host, w.url.host)]
    match = ing.best_match(served, w.url.host, w.url.path) or (defaults[0] if defaults else None)
    w = _replace(w, candidates=tuple(candidates), served=tuple(served), match=match)
    if match is None:
        return _replace(w, stop=Hop.INGRESS,
                        why=f"no rule {kind.name} serves matches {w.url.host}{w.url.path}")
    backend = facts.get("Service", match.backend_namespace, match.service or "")
    if backend is None or ing.service_port(backend, match.port) is None:
        return _replace(w, backend=backend, stop=Hop.INGRESS,
                        why=f"the rule's backend {match.service}:{match.port} does not exist")
    return _replace(w, backend=backend)


def _replace(w: Walk, **changes: Any) -> Walk:
    return replace(w, **changes)
