"""OKD-ING-001: no rule of the ingress controller matches the URL's host and path."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import ingress as ing
from okedoctor.chain import route as routes
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class NoRuleMatches(Check):
    """No Ingress (or HTTPRoute) rule the controller serves matches the URL: it answers 404.

    What it checks
        The rules of the Ingresses the controller serves (by IngressClass) and of HTTPRoutes,
        matched against the URL's host and path the way the Ingress API says: host exact or
        `*.` one label, pathType Exact (the whole path), Prefix (whole path elements: `/cart`
        matches `/cart/x`, not `/carts`), ImplementationSpecific (a string prefix for
        ingress-nginx and Traefik), the longest match wins; else the default backend.
    Why it breaks
        A path written for one pathType under another (`/cart` Exact while the app serves
        `/cart/items`, a regex path without `use-regex`), a host typo, or the only rule for the
        host sits in an Ingress of another class: the controller answers its default backend's
        404 while the backend pods are fine.
    How to fix
        Change the rule the evidence names as closest (its path or pathType), or add a rule for
        the path; `kubectl describe ingress` shows what the controller loaded.
    """

    code = "OKD-ING-001"
    name = "no-rule-matches"
    hop = Hop.INGRESS
    needs = ("kubernetes",)
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.controller is None or walk.match is not None:
            return
        url = walk.url
        closest = ing.closest(list(walk.served), url.path)
        evidence = {"host": url.host, "path": url.path, "controller": walk.controller.name,
                    "rulesForHost": [p.to_dict() for p in walk.served],
                    "closestMatch": closest.to_dict() if closest else None}
        ignored = [p.to_dict() for p in walk.candidates if p not in walk.served]
        if ignored:
            evidence["rulesOfOtherClasses"] = ignored
        commands = [f"kubectl describe ingress -n {closest.namespace} {closest.name}"] if closest else \
            [f"kubectl get ingress -A -o wide | grep {url.host}"]
        summary = (f"Make the rule {closest.path} ({closest.path_type}) of {closest.kind.lower()}/{closest.name} "
                   f"match {url.path}: Prefix matches whole path elements, Exact the whole path"
                   if closest else f"Add a rule for host {url.host} and path {url.path} to an Ingress the "
                   f"{walk.controller.name} controller serves")
        yield self.finding(
            f"no rule {walk.controller.name} serves matches {url.host}{url.path}: it answers its default backend (404)",
            subject=f"url/{url.host}{url.path}",
            evidence=evidence,
            fix=Fix(summary + ".", tuple(commands)),
        )
