"""OKD-ING-010: the Gateway cannot resolve a backendRef of the HTTPRoute serving the URL (ResolvedRefs=False)."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import gateway as gw
from okedoctor.chain import ingress as ing
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class RouteRefsUnresolved(Check):
    """The Gateway cannot resolve a backendRef of the HTTPRoute serving the URL (ResolvedRefs=False): it answers 500.

    What it checks
        The matching HTTPRoute's `status.parents[]` for the Gateway serving the URL's address:
        a condition `ResolvedRefs` with status False (reasons RefNotPermitted, BackendNotFound,
        InvalidKind, UnsupportedProtocol).
    Why it breaks
        The Gateway API has the controller answer 500 for the requests a rule would send to a
        backend it cannot use. `RefNotPermitted`: the backendRef names a Service in another
        namespace and no ReferenceGrant in that namespace lets HTTPRoutes of the route's
        namespace refer to it (the usual case after moving a route into its own namespace).
        `InvalidKind`: the ref's `group`/`kind` is not a Service the controller supports.
        `BackendNotFound`: the Service does not exist (OKD-ING-003 reports it when the walk
        sees it missing too; this check then stays quiet).
    How to fix
        RefNotPermitted: create the ReferenceGrant the finding prints in the backend's namespace
        (`kubectl apply -f`), or move the route next to its Service. InvalidKind: set
        `kind: Service` and `group: ""` on the ref. Then `kubectl describe httproute -n NS NAME`
        shows ResolvedRefs True.
    """

    code = gw.ROUTE_REFS_UNRESOLVED
    name = "route-backend-refs-unresolved"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        route = gw.matched_route(facts)
        if route is None:
            return
        walk = routes.walk(facts)
        assert walk is not None and walk.match is not None
        rule = walk.match
        ns, name = rule.namespace, rule.name
        seen: set[str] = set()
        for parent in gw.route_parents(facts, route):
            for cond in gw.false(list(parent.conditions), "ResolvedRefs"):
                if cond.reason == "BackendNotFound" and (
                        walk.backend is None or ing.service_port(walk.backend, rule.port) is None):
                    continue  # OKD-ING-003: the walk sees the Service (or its port) missing too
                if cond.reason in seen:
                    continue  # the same refusal by a second listener of the Gateway: one finding
                seen.add(cond.reason)
                refs = _backend_refs(route)
                summary, commands, patch = _fix(cond.reason, ns, name, refs)
                yield self.finding(
                    f"Gateway {parent.namespace}/{parent.name} cannot use a backend of HTTPRoute {ns}/{name} "
                    f"({cond.reason or 'no reason'}): {walk.url.host}{walk.url.path} gets a 500",
                    subject=subject_of(route),
                    evidence={"route": f"{ns}/{name}", "parent": parent.to_dict(), "condition": cond.to_dict(),
                              "backendRefs": refs},
                    fix=Fix(summary, commands, patch),
                )


def _backend_refs(route: dict) -> list[dict]:
    ns = (route.get("metadata") or {}).get("namespace") or "default"
    out = []
    for rule in (route.get("spec") or {}).get("rules") or []:
        for ref in rule.get("backendRefs") or []:
            if isinstance(ref, dict):
                out.append({"group": ref.get("group", ""), "kind": ref.get("kind", "Service"),
                            "namespace": ref.get("namespace") or ns, "name": ref.get("name"),
                            "port": ref.get("port")})
    return out


def _fix(reason: str, ns: str, name: str, refs: list[dict]) -> tuple[str, tuple[str, ...], str | None]:
    describe = f"kubectl describe httproute -n {ns} {name}"
    if reason == "RefNotPermitted":
        foreign = [r for r in refs if r["namespace"] != ns and r["kind"] == "Service"]
        if foreign:
            grants = "---\n".join(
                gw.reference_grant(r["namespace"], "HTTPRoute", ns, "Service", str(r["name"]))
                for r in {(r["namespace"], r["name"]): r for r in foreign}.values())
            where = ", ".join(sorted({f"{r['namespace']}/{r['name']}" for r in foreign}))
            return (f"HTTPRoute {ns}/{name} sends to {where} in another namespace, which no ReferenceGrant "
                    f"allows: create this ReferenceGrant in the Service's namespace (or move the route there).",
                    ("kubectl apply -f referencegrant.yaml  # the YAML below",
                     f"kubectl get referencegrants -n {foreign[0]['namespace']}", describe), grants)
        return ("A reference to another namespace is not allowed by any ReferenceGrant there: create one "
                "(from HTTPRoute in this namespace, to the referenced kind and name).", (describe,), None)
    if reason == "InvalidKind":
        bad = [r for r in refs if r["kind"] != "Service" or r["group"] not in ("", "core")]
        what = ", ".join(f"{r['group'] or 'core'}/{r['kind']} {r['name']}" for r in bad) or "a backendRef"
        return (f"The route sends to {what}, a kind the controller does not support as a backend: refer to a "
                "Service (kind: Service, group: \"\").", (f"kubectl edit httproute -n {ns} {name}", describe), None)
    if reason == "BackendNotFound":
        return ("The controller finds no Service for a backendRef of the route (another rule's, or one it saw "
                "deleted): create it or point the ref at the Service that exists.",
                (f"kubectl get svc -n {ns}", describe), None)
    return (f"The controller cannot use a backend of the route ({reason or 'no reason given'}); the "
            "condition's message says which: fix that ref (for UnsupportedProtocol, the Service port's "
            "appProtocol).", (describe,), None)
