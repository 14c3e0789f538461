"""OKD-ING-006: the ingress controller refuses an annotation of the Ingress serving the URL."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import admission
from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity

SNIPPET_CAVEAT = ("knowing that a snippet lets whoever may write an Ingress put any nginx configuration into the "
                  "controller, which can read every Secret of the cluster (CVE-2021-25742)")


class AnnotationRejected(Check):
    """The ingress controller refuses an annotation of the Ingress that serves the URL.

    What it checks
        The Ingresses with a rule for the URL's host that the controller serves, against the
        warning and error lines of the controller pods' logs and the Warning events on each
        Ingress: ingress-nginx's "annotation group ConfigurationSnippet contains risky
        annotation based on ingress configuration", "... annotation cannot be used. Snippet
        directives are disabled by the Ingress administrator", "annotation ... contains invalid
        value/word", and Traefik's "middleware "NS-NAME@kubernetescrd" does not exist" for the
        router of the Ingress. ingress-nginx's refusal does not name the Ingress
        (kubernetes/ingress-nginx#12873): the Ingress is tied to it by the annotation it names.
    Why it breaks
        ingress-nginx's admission webhook denies such an Ingress when it is written ("admission
        webhook "validate.nginx.ingress.kubernetes.io" denied the request: ..."); one that exists
        was written before an upgrade (v1.12 rejects snippet annotations unless
        `annotations-risk-level` is Critical) or while the webhook was off, and the controller
        then drops it: its hosts answer the default backend's 404 while the backend pods are fine
        (kubernetes/ingress-nginx#12621, #13095, #13156). With snippets disabled an older
        controller only ignores the annotation. Traefik builds no router for an Ingress whose
        middleware does not exist, and answers 404 (traefik/traefik#10544, #11510).
    How to fix
        Remove the annotation (`kubectl annotate ingress -n NS NAME KEY-`) and do what it did
        another way (a non-snippet annotation, a Traefik Middleware that exists). Only if the
        snippet is really needed, let ingress-nginx accept it in its ConfigMap
        (`allow-snippet-annotations: "true"`, `annotations-risk-level: Critical`, or the chart's
        `controller.allowSnippetAnnotations` and `controller.config`): whoever may write an
        Ingress can then put any nginx configuration into the controller.
    """

    code = admission.ANNOTATION_REJECTED
    name = "annotation-rejected"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.controller is None or walk.edge is None:
            return
        pods = facts.pods_selected_by(walk.edge)
        ingresses = list({id(p.route): p.route for p in walk.served if p.kind == "Ingress"}.values())
        if walk.match is not None and walk.match.kind == "Ingress" and walk.match.route not in ingresses:
            ingresses.append(walk.match.route)
        for r in admission.rejections(facts, walk.controller, pods, ingresses):
            yield self._finding(walk, pods, r)

    def _finding(self, walk: routes.Walk, pods: list[dict], r: admission.Rejection) -> Finding:
        assert walk.controller is not None and walk.edge is not None
        does = ("drops the whole Ingress: its hosts answer as if it did not exist" if r.drops_ingress
                else "ignores the annotation")
        value = ((r.ingress.get("metadata") or {}).get("annotations") or {}).get(r.annotation) or ""
        commands = [f"kubectl annotate ingress -n {r.namespace} {r.name} {r.annotation}-"]
        summary = f"Remove {r.annotation} from Ingress {r.namespace}/{r.name} and do what it did another way"
        title = f"{walk.controller.name} rejects {r.annotation} on Ingress {r.namespace}/{r.name} and {does}"
        if r.annotation == admission.TRAEFIK_MIDDLEWARES:
            title = (f"traefik builds no router for Ingress {r.namespace}/{r.name}: the middleware {r.detail} its "
                     f"{r.annotation} names does not exist")
            summary = (f"Create the Middleware {r.detail} names (NAMESPACE-NAME@kubernetescrd), or name one that "
                       f"exists in {r.annotation}, or remove the annotation")
            commands.insert(0, "kubectl get middlewares.traefik.io -A")
        elif walk.controller.name == "ingress-nginx" and "snippet" in r.annotation:
            cm_ns, cm_name = admission.configmap_ref(pods) or (walk.edge["metadata"].get("namespace"),
                                                               "ingress-nginx-controller")
            summary += (f". Only if the snippet is really needed, let the controller accept it in ConfigMap "
                        f"{cm_ns}/{cm_name} (with Helm: controller.allowSnippetAnnotations=true and "
                        f"controller.config.annotations-risk-level=Critical, or the next upgrade undoes it), "
                        f"{SNIPPET_CAVEAT}")
            commands.append(f"kubectl -n {cm_ns} patch configmap {cm_name} --type merge -p "
                            "'{\"data\":{\"allow-snippet-annotations\":\"true\",\"annotations-risk-level\":\"Critical\"}}'")
        return self.finding(
            title,
            subject=subject_of(r.ingress),
            severity=Severity.ERROR if r.drops_ingress else Severity.WARNING,
            evidence={"controller": walk.controller.name, "annotation": r.annotation,
                      "annotationLength": len(value), "seenIn": r.source, "line": r.line[:300],
                      "dropsIngress": r.drops_ingress, **({"refused": r.detail} if r.detail else {})},
            fix=Fix(summary + ".", tuple(commands)),
        )
