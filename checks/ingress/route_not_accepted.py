"""OKD-ING-009: the Gateway refuses the HTTPRoute that serves the URL (Accepted=False)."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import gateway as gw
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class RouteNotAccepted(Check):
    """The Gateway refuses the HTTPRoute whose rule matches the URL (Accepted=False): it answers 404.

    What it checks
        The matching HTTPRoute's `status.parents[]` for the Gateway serving the URL's address:
        a condition `Accepted` with status False (reasons NotAllowedByListeners,
        NoMatchingListenerHostname, NoMatchingParent, UnsupportedValue, or the controller's own).
    Why it breaks
        A route the Gateway did not accept is not attached to any of its listeners: Envoy (Envoy
        Gateway, Istio) has no route for the host and answers 404 (an empty 404 from
        `server: envoy`), though the route's rule looks right. Usual causes: the listener's
        `allowedRoutes.namespaces` is `Same` (the default) and the route lives in another
        namespace; the route's `hostnames` do not intersect the listener's `hostname`; the
        parentRef's `sectionName` or `port` names no listener.
    How to fix
        As the reason says: allow the route's namespace on the listener
        (`allowedRoutes.namespaces.from: All`, or `Selector`), set the route's hostname to one the
        listener serves, or point `parentRefs[].sectionName` at a listener that exists; the
        finding gives the patch. `kubectl describe httproute -n NS NAME` shows the message.
    """

    code = gw.ROUTE_NOT_ACCEPTED
    name = "route-not-accepted"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        route = gw.matched_route(facts)
        if route is None:
            return
        walk = routes.walk(facts)
        assert walk is not None and walk.match is not None
        ns, name = walk.match.namespace, walk.match.name
        for parent in gw.route_parents(facts, route):
            for cond in gw.false(list(parent.conditions), "Accepted"):
                gateway = facts.get("Gateway", parent.namespace, parent.name)
                summary, commands, patch = _fix(cond.reason, ns, name, route, parent, gateway, walk.url.host)
                yield self.finding(
                    f"Gateway {parent.namespace}/{parent.name} does not accept HTTPRoute {ns}/{name} "
                    f"({cond.reason or 'no reason'}): {walk.url.host} gets a 404",
                    subject=subject_of(route),
                    evidence={"route": f"{ns}/{name}", "parent": parent.to_dict(), "condition": cond.to_dict(),
                              "routeHostnames": list((route.get("spec") or {}).get("hostnames") or []),
                              "listeners": _listeners(gateway)},
                    fix=Fix(summary, commands, patch),
                )


def _listeners(gateway: dict | None) -> list[dict]:
    out = []
    for li in ((gateway or {}).get("spec") or {}).get("listeners") or []:
        if isinstance(li, dict):
            out.append({"name": li.get("name"), "protocol": li.get("protocol"), "port": li.get("port"),
                        "hostname": li.get("hostname"),
                        "allowedRoutes": ((li.get("allowedRoutes") or {}).get("namespaces") or {}).get("from",
                                                                                                      "Same")})
    return out


def _allow_all(i: int, listener: dict) -> str:
    """A JSON patch operation setting the listener's allowedRoutes.namespaces.from to All (its kinds kept)."""
    if isinstance(listener.get("allowedRoutes"), dict):
        return f'{{"op":"add","path":"/spec/listeners/{i}/allowedRoutes/namespaces","value":{{"from":"All"}}}}'
    return f'{{"op":"add","path":"/spec/listeners/{i}/allowedRoutes","value":{{"namespaces":{{"from":"All"}}}}}}'


def _fix(reason: str, ns: str, name: str, route: dict, parent: gw.ParentStatus, gateway: dict | None,
         host: str) -> tuple[str, tuple[str, ...], str | None]:
    describe = f"kubectl describe httproute -n {ns} {name}"
    gref = f"gateway -n {parent.namespace} {parent.name}"
    if gateway is None:
        return (f"The route's parentRef names Gateway {parent.namespace}/{parent.name}, which does not exist: "
                "point parentRefs at the Gateway that serves the host.",
                ("kubectl get gateways -A", describe), None)
    listeners = _listeners(gateway)
    if reason == "NotAllowedByListeners":
        specs = (gateway.get("spec") or {}).get("listeners") or []
        ops = ",".join(_allow_all(i, li) for i, li in enumerate(specs)
                       if isinstance(li, dict) and (not parent.section or li.get("name") == parent.section))
        return (f"The listeners of {parent.namespace}/{parent.name} admit routes of their own namespace only "
                f"(allowedRoutes.namespaces.from: Same, the default) or of the namespaces a selector picks; "
                f"allow namespace {ns} (from: All, or Selector with a label {ns} carries).",
                (f"kubectl patch {gref} --type=json -p '[{ops}]'", describe), None)
    if reason == "NoMatchingListenerHostname":
        names = sorted({str(li["hostname"]) for li in listeners if li["hostname"]})
        patch = ("spec:\n  hostnames:\n  - " + host + "\n") if any(gw.host_fits(h, host) for h in names) else None
        return (f"The route's hostnames match no hostname of the listeners of {parent.namespace}/{parent.name} "
                f"({', '.join(names) or 'none'}): set the route's hostnames to one a listener serves, or give a "
                f"listener the hostname {host}.",
                (f"kubectl patch httproute -n {ns} {name} --type=merge -p "
                 f"'{{\"spec\":{{\"hostnames\":[\"{host}\"]}}}}'", f"kubectl get {gref} -o yaml", describe), patch)
    if reason == "NoMatchingParent":
        have = ", ".join(str(li["name"]) for li in listeners) or "none"
        first = next((li for li in listeners if gw.host_fits(li.get("hostname"), host)), None)
        section = (first or {}).get("name")
        cmd = (f"kubectl patch httproute -n {ns} {name} --type=json -p "
               f"'[{{\"op\":\"replace\",\"path\":\"/spec/parentRefs/0/sectionName\",\"value\":\"{section}\"}}]'"
               if section else f"kubectl edit httproute -n {ns} {name}")
        return (f"The route's parentRef (sectionName {parent.section!r}, port "
                f"{parent.ref.get('port')!r}) names no listener of {parent.namespace}/{parent.name} "
                f"(listeners: {have}): point sectionName at one that exists, or drop it.",
                (cmd, describe), None)
    return (f"The controller refused the route ({reason or 'no reason given'}); the condition's message says "
            "which field it does not support: change that field.", (describe,), None)
