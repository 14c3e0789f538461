"""OKD-ING-008: the Ingress serving the URL carries annotations only another ingress controller reads."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import admission
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity

# Traefik v3.5+ reads ingress-nginx's annotations when its NGINX provider is on.
TRAEFIK_NGINX_PROVIDER = "--providers.kubernetesingressnginx"


class ForeignAnnotation(Check):
    """The Ingress serving the URL carries annotations of another ingress controller, which this one ignores.

    What it checks
        The annotations of the Ingress whose rule serves the URL, against the prefix the
        controller behind the URL reads: `nginx.ingress.kubernetes.io/` on an Ingress Traefik
        serves (unless Traefik runs its NGINX provider, `--providers.kubernetesingressnginx`),
        `traefik.ingress.kubernetes.io/` on one ingress-nginx serves.
    Why it breaks
        Each controller reads only its own annotations and ignores the rest without a word: an
        Ingress moved from ingress-nginx to Traefik keeps its `rewrite-target`, `ssl-redirect`,
        `proxy-body-size` or `auth-*` annotations, and the app gets paths it does not serve,
        plain HTTP, 413s or no authentication (traefik/traefik#3494, #3566). The traffic flows,
        so this is a warning.
    How to fix
        Express each annotation the controller's way (Traefik: a Middleware named in
        `traefik.ingress.kubernetes.io/router.middlewares`; ingress-nginx: its
        `nginx.ingress.kubernetes.io/` annotation), then remove the foreign ones.
    """

    code = "OKD-ING-008"
    name = "foreign-annotation"
    hop = Hop.INGRESS
    severity = Severity.WARNING
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.controller is None or walk.match is None or walk.match.kind != "Ingress" \
                or walk.edge is None:
            return
        if walk.controller.name == "traefik" and _nginx_provider(facts.pods_selected_by(walk.edge)):
            return
        foreign = admission.foreign_annotations(walk.match.route, walk.controller)
        if not foreign:
            return
        rule = walk.match
        keys = [k for k, _ in foreign]
        yield self.finding(
            f"{walk.controller.name} ignores {len(keys)} annotation{'s' if len(keys) != 1 else ''} of Ingress "
            f"{rule.namespace}/{rule.name} meant for {', '.join(sorted({w for _, w in foreign}))}: "
            + ", ".join(keys[:3]) + (" ..." if len(keys) > 3 else ""),
            subject=subject_of(rule.route),
            evidence={"controller": walk.controller.name, "reads": admission.READS_PREFIX[walk.controller.name],
                      "ignored": keys},
            fix=Fix(f"Express each ignored annotation the {walk.controller.name} way "
                    f"({admission.READS_PREFIX[walk.controller.name]}...), then remove the foreign ones.",
                    (f"kubectl get ingress -n {rule.namespace} {rule.name} -o jsonpath='{{.metadata.annotations}}'",)),
        )


def _nginx_provider(pods: list[dict]) -> bool:
    return any(str(a).startswith(TRAEFIK_NGINX_PROVIDER) for p in pods
               for c in (p.get("spec") or {}).get("containers") or [] for a in c.get("args") or [])
