"""OKD-POD-007: a container's image cannot be pulled."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.containers import Group, containers_where
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import (
    event_message,
    events_with_reason,
    has_earlier_revision,
    waiting_message,
    waiting_reason,
)
from okedoctor.model import Finding, Fix, Hop, Severity

_AUTH = re.compile(r"unauthori[sz]ed|authentication required|denied|forbidden|\b40[13]\b|anonymous", re.I)
_NOT_FOUND = re.compile(r"manifest unknown|not found|name unknown|does not exist|no such image", re.I)
_NETWORK = re.compile(r"no such host|i/o timeout|dial tcp|connection refused|TLS handshake timeout|"
                      r"context deadline exceeded", re.I)


def registry_of(image: str) -> str:
    """The registry host of an image reference (docker.io when the first part is not a host)."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def classify(message: str) -> str:
    if _AUTH.search(message):
        return "auth"
    if _NOT_FOUND.search(message):
        return "not-found"
    if _NETWORK.search(message):
        return "network"
    return "unknown"


class ImagePullFailure(Check):
    """A container image cannot be pulled (ImagePullBackOff / ErrImagePull).

    What it checks
        Containers of the Service's pods waiting in ImagePullBackOff, ErrImagePull or
        InvalidImageName. It names the image and its registry, the pod's imagePullSecrets (and
        whether they exist), and reads the kubelet's "Failed to pull image" event to tell an
        authentication failure from a missing tag or a registry the node cannot reach.

    Why it breaks
        The container never starts, so the pod is never Ready and never an endpoint. OCIR
        (REGION.ocir.io) repositories are private by default: without an imagePullSecret holding
        an auth token (or a public repository) every pull is "unauthorized"; a tag that was never
        pushed gives "manifest unknown"; workers in a private subnet need a NAT gateway or a
        Service Gateway route to reach the registry.

    How to fix
        Auth: create a docker-registry Secret for OCIR with an auth token and reference it from
        the pod template. Missing tag: push it or point the Deployment at one that exists (or
        `kubectl rollout undo`). Network: give the worker subnet a route to the registry.
    """

    code = "OKD-POD-007"
    name = "image-pull-failure"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        severity = Severity.WARNING if _causes.service_serving(facts) else Severity.ERROR
        for g in containers_where(facts, lambda pod, st: _causes.is_image_pull(st), init=True):
            yield self._finding(facts, g, severity)

    def _finding(self, facts: Facts, g: Group, severity: Severity) -> Finding:
        pod, status = g.first
        ns = pod["metadata"].get("namespace", "")
        image = g.container.get("image", "")
        registry = registry_of(image)
        failed = [event_message(e) for e in events_with_reason(facts.events_for(pod), "Failed")
                  if event_message(e).startswith("Failed to pull")]
        message = failed[-1] if failed else waiting_message(status)
        kind = classify(message)
        pull_secrets = [s.get("name") for s in (pod.get("spec") or {}).get("imagePullSecrets") or []]
        evidence: dict = {
            "pods": g.pod_names, "container": g.container.get("name"), "image": image, "registry": registry,
            "state": waiting_reason(status), "message": message, "imagePullSecrets": pull_secrets,
        }
        missing = [s for s in pull_secrets if facts.secret(ns, s) is None and facts.objects("Secret", ns)]
        if missing:
            evidence["imagePullSecretsNotFound"] = missing
        what = {"auth": f"the registry {registry} refused the credentials (none given)" if not pull_secrets
                else f"the registry {registry} refused the credentials of {', '.join(pull_secrets)}",
                "not-found": "the image or tag does not exist in the registry",
                "network": f"the node cannot reach the registry {registry}",
                "unknown": "see the kubelet message"}[kind]
        return self.finding(
            f"Image {image} of {g.ref} cannot be pulled: {what}",
            subject=f"{g.ref.replace('/', f'/{ns}/', 1)}/{g.container.get('name')}",
            evidence=evidence, fix=_fix(ns, g.ref, g.container.get("name", ""), image, registry, kind,
                                           has_earlier_revision(facts, ns, g.ref)),
            severity=severity,
        )


def _fix(ns: str, ref: str, cname: str, image: str, registry: str, kind: str, back: bool) -> Fix:
    if kind == "auth":
        user = "'<tenancy-namespace>/<username>'" if registry.endswith("ocir.io") else "'<username>'"
        secret = "ocir-pull" if registry.endswith("ocir.io") else "registry-pull"
        patch = {"spec": {"template": {"spec": {"imagePullSecrets": [{"name": secret}]}}}}
        return Fix(
            f"Create a docker-registry Secret for {registry} (an auth token as the password) and reference it "
            "from the pod template.",
            (f"kubectl -n {ns} create secret docker-registry {secret} --docker-server={registry} "
             f"--docker-username={user} --docker-password='<auth-token>'",
             f"kubectl -n {ns} patch {ref} -p '{json.dumps(patch)}'"),
            f"spec:\n  template:\n    spec:\n      imagePullSecrets:\n      - name: {secret}\n")
    if kind == "not-found":
        repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
        pin = f'kubectl -n {ns} set image {ref} {cname}={repo}:"$TAG"'
        if back:
            return Fix("Push the missing tag, roll back to the previous revision, or point the workload at a tag "
                       "that exists (set TAG).", (f"kubectl -n {ns} rollout undo {ref}", pin))
        return Fix("Push the missing tag, or point the workload at a tag that exists (set TAG; there is no earlier "
                   "revision to roll back to).", (pin,))
    if kind == "network":
        return Fix(f"Give the worker subnet a route to {registry}: a NAT gateway, or a Service Gateway for "
                   "'All <region> Services in Oracle Services Network' (OCIR).",
                   (f"kubectl -n {ns} describe pod -l {ref.split('/')[-1]}",))
    return Fix("Read the kubelet's pull error in the pod's events.",
               (f"kubectl -n {ns} get events --field-selector reason=Failed",))
