"""OKD-POD-001: the Service's selector matches no pod."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.actions import kube_json_patch
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class ServiceSelectsNoPod(Check):
    """The Service's selector matches no pod in its namespace.

    What it checks
        The target Service has a selector, and no pod in the namespace carries every one of its
        labels. It names the selector and the pods that almost match (the labels that differ).

    Why it breaks
        A Service sends traffic only to the pods its selector matches. With none, Endpoints are
        empty: kube-proxy rejects connections to the NodePort, the load balancer has nowhere to
        send traffic and clients see "connection refused" or a reset. This happens after a label
        was renamed in the Deployment template (app -> app.kubernetes.io/name) but not in the
        Service, or a typo in either.

    How to fix
        Make the selector equal the labels of the pods' template: patch the Service's selector
        (shown, computed from the closest pods), or change the Deployment template's labels.
    """

    code = "OKD-POD-001"
    name = "service-selects-no-pod"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        if not svc:
            return
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector or facts.pods or facts.deployments:
            return  # a Deployment's template matches: the selector is right, OKD-POD-021 says why no pod
        ns, name = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
        # Pods when the snapshot has them; Deployment templates too, since a live run reads only
        # the pods the selector matches (none here) but every Deployment of the namespace.
        candidates = [(f"pod/{p['metadata']['name']}", p["metadata"].get("labels")) for p in facts.objects("Pod", ns)]
        candidates += [(f"deployment/{d['metadata']['name']}",
                        (((d.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels"))
                       for d in facts.objects("Deployment", ns)]
        near = near_misses(selector, candidates)
        evidence: dict = {"selector": selector, "podsInNamespace": len(facts.objects("Pod", ns))}
        if near:
            evidence["closest"] = near[:3]
        fix_labels = _labels_to_select(selector, near)
        commands = [f"kubectl -n {ns} get pods --show-labels",
                    f"kubectl -n {ns} get pods -l {','.join(f'{k}={v}' for k, v in selector.items())}"]
        patch = None
        if fix_labels:
            # A JSON merge patch cannot remove keys of the old selector: replace it whole.
            ops = [{"op": "replace", "path": "/spec/selector", "value": dict(fix_labels)}]
            commands.append(kube_json_patch("Service", ns, name, ops, f"select the pods of Service {name}"))
            patch = "spec:\n  selector:\n" + "".join(f"    {k}: {v}\n" for k, v in fix_labels.items())
        differing = ""
        if near:
            differing = f"; closest {near[0]['object']} differs on {', '.join(near[0]['differs'])}"
        yield self.finding(
            f"Service {ns}/{name} selects no pod (selector {_fmt(selector)}){differing}",
            subject=f"service/{ns}/{name}",
            evidence=evidence,
            fix=Fix("Make the Service selector match the pod template labels (or fix the template labels).",
                    tuple(commands), patch),
        )


def _fmt(labels: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


def near_misses(selector: dict, candidates: list[tuple[str, dict | None]]) -> list[dict]:
    """Objects (pods, pod templates) sharing a selector key or value, closest first, with what they miss."""
    out = []
    for obj, raw in candidates:
        labels = {k: v for k, v in (raw or {}).items() if k != "pod-template-hash"}
        differs = []
        for k, v in selector.items():
            if labels.get(k) != v:
                differs.append(f"{k}={labels[k]!s} (want {v})" if k in labels else f"{k} missing (want {v})")
        shared_values = set(selector.values()) & set(labels.values())
        if len(differs) < len(selector) or shared_values:
            out.append({"object": obj, "labels": labels, "differs": differs,
                        "_score": (len(differs), -len(shared_values), not obj.startswith("deployment/"))})
    out.sort(key=lambda d: d["_score"])
    for d in out:
        d.pop("_score")
    return out


def _labels_to_select(selector: dict, near: list[dict]) -> dict:
    """A selector the closest pod satisfies: its labels for the keys whose values match the wanted ones."""
    if not near:
        return {}
    labels = near[0]["labels"]
    wanted = set(selector.values())
    picked = {k: v for k, v in labels.items() if k in selector and labels[k] == selector[k]}
    picked.update({k: v for k, v in labels.items() if v in wanted and k not in picked and k != "pod-template-hash"})
    if not picked:
        picked = {k: v for k, v in labels.items() if k != "pod-template-hash"}
    return picked
