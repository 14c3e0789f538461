"""OKD-ING-002: an Ingress for the URL's host belongs to a class no controller here serves."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import ingress as ing
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class IngressClassNotServed(Check):
    """An Ingress for the URL's host names a class the controller does not serve, or none without a default.

    What it checks
        Each Ingress with a rule for the URL's host: its `spec.ingressClassName` (or the
        deprecated `kubernetes.io/ingress.class` annotation), else the IngressClass marked
        `ingressclass.kubernetes.io/is-default-class`, must be an IngressClass whose
        `spec.controller` is the controller behind the URL's load balancer.
    Why it breaks
        Since Kubernetes 1.18 a controller only loads the Ingresses of its own class.
        ingress-nginx's class is `nginx` (controller `k8s.io/ingress-nginx`); an Ingress copied
        from a cluster with another controller (`public`, `oci`, `traefik`) or without a class
        while no class is default is silently ignored: the controller answers 404.
    How to fix
        Set `spec.ingressClassName` to the controller's class (listed in the evidence), or mark
        that class default.
    """

    code = "OKD-ING-002"
    name = "ingress-class-not-served"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.controller is None:
            return
        if walk.match is not None and not walk.match.default_backend:
            return  # the URL is served: an Ingress of another class for the host may be meant for another controller
        kind = walk.controller
        served = [c["name"] for c in ing.class_table(facts) if c["controller"] == kind.controller]
        seen: set[tuple[str, str]] = set()
        for path in walk.candidates:
            key = (path.namespace, path.name)
            if path.kind != "Ingress" or key in seen:
                continue
            seen.add(key)
            why = ing.class_problem(facts, path.route, kind)
            if why is None:
                continue
            target = served[0] if served else "CLASS"
            yield self.finding(
                f"{kind.name} ignores Ingress {path.namespace}/{path.name}: {why}",
                subject=subject_of(path.route),
                evidence={"ingressClassName": ing.class_name(path.route), "controller": kind.controller,
                          "ingressClasses": ing.class_table(facts), "host": walk.url.host},
                fix=Fix(f"Give the Ingress the class {kind.name} serves ({', '.join(served) or 'none exists yet'}).",
                        (f"kubectl patch ingress -n {path.namespace} {path.name} --type merge "
                         f"-p '{{\"spec\":{{\"ingressClassName\":\"{target}\"}}}}'",
                         "kubectl get ingressclass")),
            )
