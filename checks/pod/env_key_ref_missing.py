"""OKD-POD-017: an env var reads a Secret/ConfigMap key that is not there."""

from __future__ import annotations

import json
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.check import Check
from okedoctor.facts import Facts, iter_containers
from okedoctor.kube import data_keys, iter_key_refs, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class EnvKeyRefMissing(Check):
    """An env var's secretKeyRef/configMapKeyRef names a key that the Secret/ConfigMap does not have.

    What it checks
        Every `env[].valueFrom.secretKeyRef` / `configMapKeyRef` (not optional) of the Service's
        pods, against the key names of the referenced object in the snapshot (values are never
        read). Containers already stuck in CreateContainerConfigError are left to
        OKD-POD-008; this finds the latent case: pods that started before the key was removed or
        renamed.

    Why it breaks
        The kubelet resolves the reference each time it creates the container. Running pods keep
        their old value, but the next restart, rollout or rescheduling ends in
        CreateContainerConfigError ("couldn't find key ... in Secret ..."), and the Service loses
        its endpoints one pod at a time.

    How to fix
        Add the key back to the object (or fix the key name in the pod template). The keys the
        object has are listed, so a rename is easy to spot.
    """

    code = "OKD-POD-017"
    name = "env-key-ref-missing"
    hop = Hop.POD
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        seen: set[tuple] = set()
        for pod in facts.pods:
            ns = pod["metadata"].get("namespace", "")
            ref = workload_ref(facts, pod)
            for c, status in iter_containers(pod):
                if _causes.is_config_error(status):
                    continue
                for var, kind, name, key, optional in iter_key_refs(c):
                    obj = facts.secret(ns, name) if kind == "Secret" else facts.configmap(ns, name)
                    if optional or obj is None or key in data_keys(obj):
                        continue
                    if (ref, c.get("name"), var) in seen:
                        continue
                    seen.add((ref, c.get("name"), var))
                    field = "stringData" if kind == "Secret" else "data"
                    keys = sorted(data_keys(obj))
                    yield self.finding(
                        f"Env var {var} of {ref} reads key {key} of {kind} {ns}/{name}, which has no such key: the "
                        "next restart will fail with CreateContainerConfigError",
                        subject=f"{kind.lower()}/{ns}/{name}",
                        evidence={"container": c.get("name"), "env": var, kind.lower(): name, "key": key,
                                  "keysPresent": keys},
                        fix=Fix(f"Add the key {key} to {kind} {name}, or point {var} at the key that replaced it.",
                                (f"kubectl -n {ns} patch {kind.lower()} {name} --type=merge "
                                 f"-p '{json.dumps({field: {key: '<value>'}})}'",)),
                    )
