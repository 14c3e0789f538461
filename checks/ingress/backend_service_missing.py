"""OKD-ING-003: the rule matching the URL sends to a Service or port that does not exist."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import ingress as ing
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class BackendServiceMissing(Check):
    """The rule that matches the URL names a backend Service, or a port of it, that does not exist.

    What it checks
        The backend of the matching rule (`service.name`, and `service.port.number` or
        `service.port.name`): the Service must exist in the Ingress's namespace and have that
        port, by number (`spec.ports[].port`, not the targetPort) or by name.
    Why it breaks
        The controller has no upstream for the rule: ingress-nginx answers 503 (and logs
        "service ... does not have any active endpoint" / "port ... not found"), Traefik 404.
        Usual causes: the Service was renamed by a chart upgrade, or the rule names the
        container's port name or the targetPort instead of the Service's port.
    How to fix
        Point the rule at a port the Service has (listed in the evidence), by its name or
        number, or create the Service.
    """

    code = "OKD-ING-003"
    name = "backend-service-missing"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.match is None:
            return
        rule = walk.match
        svc = facts.get("Service", rule.backend_namespace, rule.service or "")
        if svc is not None and ing.service_port(svc, rule.port) is not None:
            return
        ports = [{"name": p.get("name"), "port": p.get("port"), "targetPort": p.get("targetPort")}
                 for p in (svc or {}).get("spec", {}).get("ports") or []]
        ns = rule.backend_namespace
        what = (f"Service {ns}/{rule.service} does not exist" if svc is None else
                f"Service {ns}/{rule.service} has no port {rule.port!r}")
        by = "name" if isinstance(rule.port, str) else "number"
        fix = (f"Point the rule at a port of {rule.service} by its Service port {by} "
               f"({', '.join(str(p['name'] if by == 'name' else p['port']) for p in ports)})." if ports else
               f"Create Service {ns}/{rule.service}, or point the rule at the Service that exists.")
        yield self.finding(
            f"the rule for {walk.url.host}{rule.path} sends to {rule.service}:{rule.port}, but {what}",
            subject=subject_of(rule.route),
            evidence={"rule": rule.to_dict(), "serviceExists": svc is not None, "servicePorts": ports},
            fix=Fix(fix, (f"kubectl get svc -n {ns} {rule.service} -o wide",
                          f"kubectl describe {rule.kind.lower()} -n {rule.namespace} {rule.name}")),
        )
