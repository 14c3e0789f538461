"""OKD-ING-007: the ingress controller answers 404/503 itself for the URL while its rule and backend pods are fine."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import admission
from okedoctor.chain import route as routes
from okedoctor.chain.answers import controller_wrote
from okedoctor.check import Check, CheckSkipped, subject_of
from okedoctor.facts import LIVE_INTERNET, Facts
from okedoctor.kube import pod_ready
from okedoctor.model import Finding, Fix, Hop
from okedoctor.redact import redact


class ControllerAnswersItself(Check):
    """The ingress controller answers the URL with its own 404 or 503 while a rule matches and the backend is ready.

    What it checks
        What a client on the internet got for the URL's host (`live.internet[ADDR:PORT].hosts`),
        when the walk found a rule the controller serves and its backend Service has ready
        endpoints: a 404 or 503 whose body is the controller's own page (ingress-nginx's nginx
        404/503 page or "default backend - 404", Traefik's "404 page not found" / "no available
        server", Envoy's "no healthy upstream" or empty 404). The Ingress's own
        `status.loadBalancer` (empty: the controller never took it) is quoted alongside.
    Why it breaks
        The configuration the controller runs is not the one the cluster holds: it refused the
        Ingress (an annotation, OKD-ING-006, or its admission webhook), its configuration did
        not reload (an nginx reload that failed on another Ingress's snippet keeps the old one),
        it reads another class than the walk saw, a stale controller replica answers, or its service
        account may not list EndpointSlices (a ClusterRole older than the controller: it knows no
        endpoint and answers 503 for every host, its log says "forbidden"). A known
        cause on the ingress layer (OKD-ING-001/002/003/006) explains the answer, and this finding
        then follows from it.
    How to fix
        Read the controller's warning and error lines (`kubectl -n NS logs deploy/NAME`) and the
        Ingress's events (`kubectl describe ingress`); fix what they name and apply the Ingress
        again; restart the controller only when its pods run an old configuration. A denied
        read: add the rule to the ClusterRole bound to the controller's account (the patch).
    """

    code = "OKD-ING-007"
    name = "controller-answers-itself"
    hop = Hop.INGRESS
    needs = ("kubernetes",)  # and live.internet once the walk reached a rule: a walk ending earlier needs none
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.controller is None or walk.stop is not None or walk.match is None \
                or walk.backend is None or walk.edge is None:
            return
        if (gap := facts.unavailable(LIVE_INTERNET)) is not None:
            raise CheckSkipped(gap.reason)
        address = f"{walk.address}:{walk.url.port}"
        answer = facts.internet_answer(address, walk.url.host)
        why = controller_wrote(walk.controller.name, answer or {})
        ready = _ready_endpoints(facts, walk.backend)
        if answer is None or why is None or not ready:
            return  # no answer, the app's own, or a backend without a ready pod (the pod checks say why)
        yield self._finding(facts, walk, address, answer, why, ready)

    def _finding(self, facts: Facts, walk: routes.Walk, address: str, answer: dict, why: str, ready: int) -> Finding:
        assert walk.controller is not None and walk.match is not None and walk.edge is not None
        rule, status = walk.match, answer["status"]
        pods = facts.pods_selected_by(walk.edge)
        cause = next((r for r in admission.rejections(facts, walk.controller, pods, [rule.route])
                      if r.drops_ingress), None) if rule.kind == "Ingress" else None
        published = [i.get("ip") or i.get("hostname") for i in
                     ((rule.route.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
        edge_ns = walk.edge["metadata"].get("namespace") or "default"
        deploy = facts.deployment_of(pods[0]) if pods else None
        workload = f"deploy/{deploy['metadata']['name']}" if deploy else f"svc/{walk.edge['metadata']['name']}"
        headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
        breakers = admission.reload_breakers(facts, walk.controller, pods)
        denials = admission.rbac_denials(facts, pods)
        summary = (f"Fix {cause.annotation} ({admission.ANNOTATION_REJECTED}) first: the controller dropped the "
                   "Ingress." if cause else _breaker_fix(breakers) if breakers else
                   _denial_fix(denials) if denials else
                   "The controller does not run the rule the cluster holds: read its warning and error lines and the "
                   "Ingress's events, fix what they name (a rejected annotation, a failed reload), apply the Ingress "
                   "again; restart the controller only if its pods run an old configuration.")
        commands = [f"kubectl annotate ingress -n {(i.get('metadata') or {}).get('namespace')} "
                    f"{(i.get('metadata') or {}).get('name')} {key}-" for i, key, _ in breakers[:1]]
        if denials and not cause and not breakers:
            commands += [f"kubectl auth can-i {d.verb} {d.kind} --as={d.user}" for d in denials[:3]]
            commands.append(f"kubectl get clusterrolebindings -o wide | grep '{denials[0].namespace}/"
                            f"{denials[0].account}'")
        return self.finding(
            f"{walk.controller.name} answers {walk.url.host}{walk.url.path} with its own HTTP {status} "
            f"although {rule.kind.lower()}/{rule.namespace}/{rule.name} matches and "
            f"{rule.service} has {ready} ready endpoint{'s' if ready != 1 else ''}",
            subject=subject_of(rule.route),
            evidence={"address": address, "host": walk.url.host, "status": status,
                      "server": headers.get("server"), "bodyPrefix": redact(str(answer.get("body") or ""))[:200],
                      "decidedBy": why, "rule": rule.to_dict(), "backendReadyEndpoints": ready,
                      "ingressStatusAddresses": published,
                      "controllerLogLines": [line[:300] for _, line in admission.controller_lines(facts, pods)[-3:]],
                      "reloadBrokenBy": [f"ingress/{(i.get('metadata') or {}).get('namespace')}/"
                                         f"{(i.get('metadata') or {}).get('name')} {key} ({token!r})"
                                         for i, key, token in breakers],
                      **({"forbidden": [f"{d.verb} {d.kind} ({d.user})" for d in denials]} if denials else {})},
            fix=Fix(summary, (*commands,
                              f"kubectl -n {edge_ns} logs {workload} --tail=500 | grep -iE 'error|warn|emerg'",
                              f"kubectl describe {rule.kind.lower()} -n {rule.namespace} {rule.name}",
                              f"curl -sv --resolve {walk.url.host}:{walk.url.port}:{walk.address} {walk.url.text}"),
                    _denial_patch(denials) if denials and not cause and not breakers else None),
            caused_by=admission.ANNOTATION_REJECTED if cause else None,
        )


def _ready_endpoints(facts: Facts, service: dict) -> int:
    endpoints = facts.endpoints(service) or {}
    addresses = [a for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []]
    if addresses:
        return len(addresses)
    return sum(1 for p in facts.pods_selected_by(service) if pod_ready(p)) if not endpoints else 0


def _breaker_fix(breakers: list[tuple[dict, str, str]]) -> str:
    ingress, key, token = breakers[0]
    meta = ingress.get("metadata") or {}
    return (f"nginx refuses every reload since {key} of Ingress {meta.get('namespace')}/{meta.get('name')} holds "
            f"{token!r} (nginx: [emerg]), so the controller still runs the configuration from before this rule: "
            "correct or remove that snippet; the next reload then loads this Ingress.")


def _denial_fix(denials: list[admission.Denial]) -> str:
    d = denials[0]
    kinds = ", ".join(dict.fromkeys(x.kind for x in denials))
    endpoints = any(x.resource in ("endpointslices", "endpoints") for x in denials)
    return (f"The controller's service account {d.namespace}/{d.account} may not read {kinds} (its log: "
            "forbidden), so it " + ("knows no endpoint of the Service" if endpoints else
                                    "does not run the configuration the cluster holds")
            + " and answers for the host itself: give the ClusterRole bound to it the rule (get, list, watch) for "
            "them, as the controller's chart for its version does; the controller picks the permission up by itself.")


def _denial_patch(denials: list[admission.Denial]) -> str:
    """The rules to add to the ClusterRole bound to the controller's account, one per API group."""
    groups: dict[str, list[str]] = {}
    for d in denials:
        groups.setdefault(d.group, [])
        if d.resource not in groups[d.group]:
            groups[d.group].append(d.resource)
    d = denials[0]
    lines = [f"# rules to add to the ClusterRole bound to {d.namespace}/{d.account}"]
    for group, resources in groups.items():
        lines += [f'- apiGroups: ["{group}"]', f"  resources: [{', '.join(resources)}]",
                  "  verbs: [get, list, watch]"]
    return "\n".join(lines) + "\n"
