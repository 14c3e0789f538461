"""OKD-ING-011: the Gateway (or its listener for the URL) is not accepted or not programmed."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import gateway as gw
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class GatewayNotProgrammed(Check):
    """The Gateway serving the URL, or its listener for the URL, is not accepted or not programmed.

    What it checks
        The Gateways the URL's address belongs to (their `status.addresses`, or the Service the
        controller made for them) and those the matching HTTPRoute's parentRefs name:
        `status.conditions` Accepted or Programmed False; else, for the listener that takes the
        URL (HTTPS for https, HTTP for http, a hostname covering the host, the parentRef's
        sectionName), `status.listeners[].conditions` Accepted, Programmed or ResolvedRefs False
        (reasons InvalidCertificateRef, RefNotPermitted, InvalidRouteKinds, PortUnavailable...).
    Why it breaks
        The controller configures Envoy only with what it programmed: a listener it did not
        program does not exist on the proxy (the port is refused, or the TLS handshake gets no
        certificate for the host), and a Gateway not accepted (no controller for its
        GatewayClass, invalid parameters) serves nothing. Usual cause: the HTTPS listener's
        `certificateRefs` names a Secret in another namespace without a ReferenceGrant there, or
        a Secret that does not exist.
    How to fix
        As the reason says: for RefNotPermitted the ReferenceGrant the finding prints, in the
        Secret's namespace; for InvalidCertificateRef create the TLS Secret
        (`kubectl create secret tls NAME -n NS --cert=... --key=...`); else
        `kubectl describe gateway -n NS NAME` for the controller's message.
    """

    code = gw.GATEWAY_NOT_PROGRAMMED
    name = "gateway-not-programmed"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.controller is None or not walk.controller.gateway_api:
            return
        targets: list[tuple[dict, str | None]] = [(g, None) for g in gw.edge_gateways(facts)]
        route = gw.matched_route(facts)
        for parent in gw.route_parents(facts, route) if route is not None else []:
            g = facts.get("Gateway", parent.namespace, parent.name)
            if g is not None:
                targets = [(t, s) for t, s in targets if t is not g] + [(g, parent.section)]
        for gateway, section in targets:
            yield from self._judge(walk, gateway, section)

    def _judge(self, walk: routes.Walk, gateway: dict, section: str | None) -> Iterator[Finding]:
        meta = gateway.get("metadata") or {}
        gns, gname = meta.get("namespace") or "default", meta.get("name") or ""
        url = walk.url
        listeners = gw.url_listeners(gateway, url.scheme, url.port, url.host, section)
        bad_gateway = gw.false(gw.conditions(gateway.get("status")), "Accepted", "Programmed")
        bad_listeners = {str(li.get("name")): gw.false(gw.listener_status(gateway, str(li.get("name"))),
                                                       "Accepted", "Programmed", "ResolvedRefs")
                         for li in listeners}
        bad_listeners = {k: v for k, v in bad_listeners.items() if v}
        if not bad_gateway and not bad_listeners:
            return
        evidence = {"gateway": f"{gns}/{gname}", "gatewayClassName": (gateway.get("spec") or {}).get(
            "gatewayClassName"), "conditions": [c.to_dict() for c in gw.conditions(gateway.get("status"))],
            "listenersForUrl": {n: [c.to_dict() for c in v] for n, v in bad_listeners.items()}}
        if bad_gateway:
            cond = bad_gateway[0]
            title = (f"Gateway {gns}/{gname} is not {cond.type.lower()} ({cond.reason or 'no reason'}): "
                     f"it serves nothing for {url.host}")
        else:
            name, conds = next(iter(bad_listeners.items()))
            cond = next((c for c in conds if c.type == "ResolvedRefs"), conds[0])
            title = (f"listener {name} of Gateway {gns}/{gname} is not programmed ({cond.reason or 'no reason'}): "
                     f"{url.scheme}://{url.host} is not served")
        summary, commands, patch = _fix(cond.reason, gateway, next(iter(bad_listeners), None))
        yield self.finding(title, subject=subject_of(gateway), evidence=evidence, fix=Fix(summary, commands, patch))


def _cert_refs(gateway: dict, listener_name: str | None) -> list[tuple[str, str]]:
    gns = (gateway.get("metadata") or {}).get("namespace") or "default"
    li = gw.listener(gateway, listener_name) if listener_name else None
    refs = (((li or {}).get("tls") or {}).get("certificateRefs")) or []
    return [(r.get("namespace") or gns, str(r.get("name"))) for r in refs if isinstance(r, dict) and r.get("name")]


def _fix(reason: str, gateway: dict, listener_name: str | None) -> tuple[str, tuple[str, ...], str | None]:
    meta = gateway.get("metadata") or {}
    gns, gname = meta.get("namespace") or "default", meta.get("name") or ""
    describe = f"kubectl describe gateway -n {gns} {gname}"
    certs = _cert_refs(gateway, listener_name)
    if reason == "RefNotPermitted" and certs:
        foreign = [(ns, n) for ns, n in certs if ns != gns]
        if foreign:
            grants = "---\n".join(gw.reference_grant(ns, "Gateway", gns, "Secret", n) for ns, n in foreign)
            return (f"The listener {listener_name}'s certificate Secret {foreign[0][0]}/{foreign[0][1]} is in another "
                    f"namespace and no ReferenceGrant there lets Gateways of {gns} use it: create this "
                    "ReferenceGrant in the Secret's namespace (or copy the Secret next to the Gateway).",
                    ("kubectl apply -f referencegrant.yaml  # the YAML below",
                     f"kubectl get referencegrants -n {foreign[0][0]}", describe), grants)
    if reason == "InvalidCertificateRef" and certs:
        ns, n = certs[0]
        return (f"The listener {listener_name}'s certificate Secret {ns}/{n} does not exist or is no TLS "
                "Secret: create it (or fix the cert-manager Certificate that writes it).",
                (f"kubectl create secret tls {n} -n {ns} --cert=CERT.pem --key=KEY.pem",
                 f"kubectl describe certificate -n {ns}", describe), None)
    if reason in ("NotReconciled", "InvalidParameters", "Pending"):
        cls = (gateway.get("spec") or {}).get("gatewayClassName")
        return (f"No controller has taken the Gateway, or it refuses its class's parameters: check that "
                f"GatewayClass {cls} exists, is Accepted and names the running controller.",
                (f"kubectl get gatewayclass {cls} -o yaml", describe), None)
    return (f"The controller did not program the Gateway ({reason or 'no reason given'}); the condition's "
            "message says why: fix what it names.", (describe,), None)
