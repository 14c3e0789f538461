"""How an ingress controller picks a backend for a host and path: the controllers okedoctor
recognises, the IngressClass an Ingress belongs to, and the rule matching of the Ingress API
(host, pathType Exact / Prefix / ImplementationSpecific, default backend) and of Gateway API
HTTPRoutes. Read-only helpers over Facts; no check lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okedoctor.facts import Facts

Obj = dict[str, Any]

DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"


@dataclass(frozen=True)
class ControllerKind:
    """One ingress controller: how its pods look, and the IngressClass `spec.controller` it serves."""

    name: str
    controller: str  # IngressClass spec.controller ("" when it serves Gateway API routes only)
    images: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    # ImplementationSpecific paths: ingress-nginx and Traefik treat them as prefixes of the request path.
    gateway_api: bool = False


CONTROLLERS = (
    ControllerKind("ingress-nginx", "k8s.io/ingress-nginx", ("ingress-nginx/controller",),
                   (("app.kubernetes.io/name", "ingress-nginx"),)),
    ControllerKind("traefik", "traefik.io/ingress-controller", ("traefik",),
                   (("app.kubernetes.io/name", "traefik"),)),
    ControllerKind("istio", "istio.io/ingress-controller", ("istio/proxyv2",),
                   (("istio", "ingressgateway"),), gateway_api=True),
    ControllerKind("envoy-gateway", "", ("envoyproxy/envoy",),
                   (("app.kubernetes.io/managed-by", "envoy-gateway"),), gateway_api=True),
)


def controller_of(pods: list[Obj]) -> ControllerKind | None:
    """The ingress controller these pods run, by their images or their chart's labels."""
    for kind in CONTROLLERS:
        for pod in pods:
            labels = (pod.get("metadata") or {}).get("labels") or {}
            images = [c.get("image") or "" for c in (pod.get("spec") or {}).get("containers") or []]
            if any(labels.get(k) == v for k, v in kind.labels) or any(i in img for i in kind.images for img in images):
                return kind
    return None


def class_name(ingress: Obj) -> str | None:
    """`spec.ingressClassName`, else the deprecated annotation ingress-nginx still honours."""
    spec = ingress.get("spec") or {}
    anns = (ingress.get("metadata") or {}).get("annotations") or {}
    return spec.get("ingressClassName") or anns.get(CLASS_ANNOTATION)


def default_classes(facts: Facts) -> list[Obj]:
    return [c for c in facts.objects("IngressClass")
            if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true"]


def effective_class(facts: Facts, ingress: Obj) -> Obj | None:
    """The IngressClass object an Ingress belongs to: the one it names, else the single default."""
    name = class_name(ingress)
    if name:
        return facts.get("IngressClass", "", name)
    defaults = default_classes(facts)
    return defaults[0] if len(defaults) == 1 else None


def served_by(facts: Facts, ingress: Obj, kind: ControllerKind) -> bool:
    cls = effective_class(facts, ingress)
    return bool(cls and kind.controller and (cls.get("spec") or {}).get("controller") == kind.controller)


def host_matches(rule_host: str | None, host: str) -> bool:
    """The Ingress API's host match: exact, or `*.example.com` for exactly one more label."""
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == rule_host[2:]
    return rule_host == host


def path_matches(path_type: str | None, rule_path: str, path: str) -> bool:
    """Exact: the whole path. Prefix: element by element (`/foo` matches `/foo/bar`, not `/foobar`).
    ImplementationSpecific: a plain string prefix, as ingress-nginx and Traefik read it."""
    rule_path = rule_path or "/"
    if path_type == "Exact":
        return path == rule_path
    if path_type == "Prefix":
        want = [p for p in rule_path.split("/") if p]
        return [p for p in path.split("/") if p][:len(want)] == want
    return path.startswith(rule_path)


@dataclass(frozen=True)
class RulePath:
    """One host + path rule of an Ingress (or one match of an HTTPRoute), and where it sends."""

    route: Obj  # the Ingress or HTTPRoute
    host: str | None
    path: str
    path_type: str | None
    service: str | None
    port: int | str | None  # a number or a port name
    default_backend: bool = False
    service_namespace: str | None = None  # an HTTPRoute backendRef's `namespace` (another namespace's Service)

    @property
    def kind(self) -> str:
        return self.route.get("kind", "Ingress")

    @property
    def namespace(self) -> str:
        return (self.route.get("metadata") or {}).get("namespace") or "default"

    @property
    def name(self) -> str:
        return (self.route.get("metadata") or {}).get("name", "")

    @property
    def backend_namespace(self) -> str:
        """Where the backend Service lives: the route's namespace unless its backendRef names another."""
        return self.service_namespace or self.namespace

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"object": f"{self.kind.lower()}/{self.namespace}/{self.name}",
                               "host": self.host, "path": self.path, "pathType": self.path_type,
                               "service": self.service, "port": self.port}
        if self.service_namespace and self.service_namespace != self.namespace:
            out["serviceNamespace"] = self.service_namespace
        if self.default_backend:
            out["defaultBackend"] = True
        return out


def _backend(backend: Obj | None) -> tuple[str | None, int | str | None]:
    svc = (backend or {}).get("service") or {}
    port = svc.get("port") or {}
    return svc.get("name"), port.get("number") or port.get("name")


def ingress_paths(ingress: Obj) -> list[RulePath]:
    out = []
    for rule in (ingress.get("spec") or {}).get("rules") or []:
        for p in ((rule.get("http") or {}).get("paths")) or []:
            service, port = _backend(p.get("backend"))
            out.append(RulePath(ingress, rule.get("host"), p.get("path") or "/", p.get("pathType"), service, port))
    return out


def route_paths(route: Obj) -> list[RulePath]:
    """An HTTPRoute's matches as rule paths: each hostname x each PathPrefix/Exact match."""
    spec = route.get("spec") or {}
    hosts = spec.get("hostnames") or [None]
    out = []
    for rule in spec.get("rules") or []:
        refs = rule.get("backendRefs") or [{}]
        matches = rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]
        for m in matches:
            p = m.get("path") or {"type": "PathPrefix", "value": "/"}
            ptype = {"PathPrefix": "Prefix", "Exact": "Exact"}.get(p.get("type"), "ImplementationSpecific")
            out += [RulePath(route, h, p.get("value") or "/", ptype, refs[0].get("name"), refs[0].get("port"),
                             service_namespace=refs[0].get("namespace"))
                    for h in hosts]
    return out


def best_match(paths: list[RulePath], host: str, path: str) -> RulePath | None:
    """The rule the controller picks: the longest matching path, Exact before Prefix on a tie;
    a rule naming the host before a catch-all rule, as the Ingress API says."""
    hits = [p for p in paths if host_matches(p.host, host) and path_matches(p.path_type, p.path, path)]
    if not hits:
        return None
    return max(hits, key=lambda p: (bool(p.host), len(p.path), p.path_type == "Exact"))


def closest(paths: list[RulePath], path: str) -> RulePath | None:
    """The rule for the host whose path shares the longest prefix with the request's: what was meant."""
    if not paths:
        return None

    def shared(p: RulePath) -> int:
        n = 0
        for a, b in zip(p.path, path, strict=False):
            if a != b:
                break
            n += 1
        return n

    return max(paths, key=lambda p: (shared(p), -abs(len(p.path) - len(path))))


def default_backend(ingress: Obj) -> RulePath | None:
    backend = (ingress.get("spec") or {}).get("defaultBackend")
    if not backend:
        return None
    service, port = _backend(backend)
    return RulePath(ingress, None, "/", None, service, port, default_backend=True)


def service_port(service: Obj | None, port: int | str | None) -> Obj | None:
    """The Service port an Ingress backend names, by number or by name."""
    for p in ((service or {}).get("spec") or {}).get("ports") or []:
        if (isinstance(port, int) and p.get("port") == port) or (isinstance(port, str) and p.get("name") == port):
            return p
    return None


def route_url(route: Obj) -> str | None:
    """The URL an Ingress's (or HTTPRoute's) first host rule serves: https when its TLS names the host."""
    paths = [p for p in (ingress_paths(route) if route.get("kind") == "Ingress" else route_paths(route)) if p.host]
    if not paths:
        return None
    first = paths[0]
    tls_hosts = {h for t in (route.get("spec") or {}).get("tls") or [] for h in t.get("hosts") or []}
    scheme = "https" if first.host in tls_hosts else "http"
    return f"{scheme}://{first.host}{first.path}"


def class_problem(facts: Facts, ingress: Obj, kind: ControllerKind) -> str | None:
    """Why the controller `kind` ignores this Ingress, or None when it serves it."""
    name = class_name(ingress)
    classes = {c["metadata"]["name"]: (c.get("spec") or {}).get("controller") for c in facts.objects("IngressClass")}
    if name is None:
        defaults = default_classes(facts)
        if not defaults:
            return "it names no ingressClassName and no IngressClass is marked default"
        if len(defaults) > 1:
            return f"it names no ingressClassName and {len(defaults)} IngressClasses are marked default"
        name = defaults[0]["metadata"]["name"]
    if name not in classes:
        return f"its class {name!r} does not exist"
    if classes[name] != kind.controller:
        return f"its class {name!r} belongs to controller {classes[name]!r}, not {kind.controller!r}"
    return None


def class_table(facts: Facts) -> list[dict[str, Any]]:
    """The cluster's IngressClasses as evidence: name, controller, default."""
    return [{"name": c["metadata"]["name"], "controller": (c.get("spec") or {}).get("controller"),
             "default": ((c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true")}
            for c in facts.objects("IngressClass")]
