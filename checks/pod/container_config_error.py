"""OKD-POD-008: a container cannot be created because a Secret/ConfigMap or a key is missing (env or volume)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.containers import Group, containers_where
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import (
    data_keys,
    event_message,
    event_quote,
    events_with_reason,
    waiting_message,
    waiting_reason,
    workload_ref,
)
from okedoctor.model import Finding, Fix, Hop, Severity

_MISSING_OBJ = re.compile(r'(secret|configmap|configMap) "([^"]+)" not found', re.I)
_MISSING_KEY = re.compile(r"couldn't find key (\S+) in (Secret|ConfigMap) ([\w.-]+)/([\w.-]+)")


def parse(message: str) -> dict:
    """What is missing, from the kubelet's message (the object, or a key of it)."""
    if m := _MISSING_KEY.search(message):
        return {"missing": "key", "key": m.group(1), "kind": m.group(2), "name": m.group(4)}
    if m := _MISSING_OBJ.search(message):
        kind = "Secret" if m.group(1).lower() == "secret" else "ConfigMap"
        return {"missing": "object", "kind": kind, "name": m.group(2)}
    return {}


class ContainerConfigError(Check):
    """A container cannot be created: a Secret, ConfigMap or key it references is missing (CreateContainerConfigError).

    What it checks
        Containers of the Service's pods waiting in CreateContainerConfigError or
        CreateContainerError. The kubelet's message (container status, or the "Failed" event)
        names what is missing: `secret "db-credentials" not found`, or `couldn't find key
        DB_PASSWORD in Secret default/db-credentials`. The finding names the env var or volume
        that references it. Only key names are read, never values. Also pods stuck in
        ContainerCreating whose FailedMount event says a non-optional Secret or ConfigMap volume
        does not exist (`MountVolume.SetUp failed for volume "certs" : secret "app-tls" not
        found`); it quotes that event.

    Why it breaks
        The kubelet resolves every env var and volume before it creates the container; one
        missing non-optional reference and the container is never created, so the pod is never
        Ready and never an endpoint. A missing volume source keeps the pod in ContainerCreating
        (often a TLS Secret that cert-manager has not issued, or one created in another
        namespace).

    How to fix
        Create the missing Secret/ConfigMap (in the pod's namespace), or add the missing key,
        or mark the reference `optional: true` when the app can live without it. The pod
        retries by itself once it exists.
    """

    code = "OKD-POD-008"
    name = "container-config-error"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        severity = Severity.WARNING if _causes.service_serving(facts) else Severity.ERROR
        for g in containers_where(facts, lambda pod, st: _causes.is_config_error(st), init=True):
            yield self._finding(facts, g, severity)
        groups: dict[tuple[str, str], list] = {}
        for pod in facts.pods:
            for miss in _causes.missing_volume_sources(facts, pod):
                groups.setdefault((workload_ref(facts, pod), miss["volume"]), []).append((pod, miss))
        for (ref, _), hits in groups.items():
            yield self._mount_finding(ref, hits, severity)

    def _mount_finding(self, ref: str, hits: list, severity: Severity) -> Finding:
        pod, miss = hits[0]
        ns = pod["metadata"].get("namespace", "")
        kind, name, volume = miss["kind"], miss["name"], miss["volume"]
        latest = max((m["event"] for _, m in hits), key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        event = event_quote(latest)
        spec = pod.get("spec") or {}
        mounts = [{"container": c.get("name"), "mountPath": m.get("mountPath")}
                  for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
                  for m in c.get("volumeMounts") or [] if m.get("name") == volume]
        vol = next(v for v in spec.get("volumes") or [] if v.get("name") == volume)
        items = [i.get("key") for i in (vol.get("secret") or vol.get("configMap") or {}).get("items") or []]
        evidence = {"pods": [p["metadata"]["name"] for p, _ in hits], "volume": volume, "kind": kind, "name": name,
                    "mountedAt": mounts, "event": event}
        if items:
            evidence["keysUsed"] = items
        create = f"secret generic {name}" if kind == "Secret" else f"configmap {name}"
        # The files are named after the keys (in the current directory): no `<file>` placeholder,
        # which the shell would read as a redirection.
        files = " ".join(f"--from-file={shlex.quote(k)}=./{shlex.quote(k)}" for k in items) or \
            '--from-file="$FILE"'
        if kind == "Secret" and items and set(items) <= {"tls.crt", "tls.key"}:
            create, files = f"secret tls {name}", "--cert=./tls.crt --key=./tls.key"
        return self.finding(
            f"Pods of {ref} stuck in ContainerCreating: {kind} {ns}/{name} (volume {volume}) does not exist; "
            f"{event['reason']} x{event['count']}, last {event['lastSeen']}",
            subject=f"{ref.replace('/', f'/{ns}/', 1)}",
            evidence=evidence,
            fix=Fix(f"Create {kind} {name} in namespace {ns} (if a controller such as cert-manager should make it, "
                    f"see why it has not: `kubectl -n {ns} get certificate`), or mark the volume `optional: true` "
                    "when the app can start without it. The kubelet retries the mount by itself."
                    + (" The create reads files named after the keys in the current directory."
                       if items else " Set FILE to the file (or directory) of its contents."),
                    (f"kubectl -n {ns} get {kind.lower()} {name}",
                     f"kubectl get {kind.lower()} -A --field-selector metadata.name={name}",
                     f"kubectl -n {ns} create {create} {files}",
                     f"kubectl -n {ns} get pods -w")),
            severity=severity,
        )

    def _finding(self, facts: Facts, g: Group, severity: Severity) -> Finding:
        pod, status = g.first
        ns = pod["metadata"].get("namespace", "")
        failed = [event_message(e) for e in events_with_reason(facts.events_for(pod), "Failed")]
        message = waiting_message(status) or (failed[-1] if failed else "")
        what = parse(message)
        evidence: dict = {"pods": g.pod_names, "container": g.container.get("name"),
                          "state": waiting_reason(status), "message": message}
        refs = _references(g.container, what)
        if refs:
            evidence["referencedBy"] = refs
        if not what:
            title = f"Container {g.container.get('name')} of {g.ref} cannot be created: {message or 'see events'}"
            fix = Fix("Read the kubelet's message in the pod's events and fix the reference it names.",
                      (f"kubectl -n {ns} describe pod {pod['metadata']['name']}",))
        elif what["missing"] == "object":
            kind, name = what["kind"], what["name"]
            title = f"Container {g.container.get('name')} of {g.ref} cannot start: {kind} {ns}/{name} does not exist"
            create = f"secret generic {name}" if kind == "Secret" else f"configmap {name}"
            keys = sorted({r["key"] for r in refs if r.get("key")})
            literals = " ".join(f"--from-literal={k}='<value>'" for k in keys) or "--from-env-file=<file>"
            fix = Fix(f"Create {kind} {name} in namespace {ns} (with the keys the pod references).",
                      (f"kubectl -n {ns} create {create} {literals}",
                       f"kubectl -n {ns} get pods -w"))
        else:
            kind, name, key = what["kind"], what["name"], what["key"]
            title = (f"Container {g.container.get('name')} of {g.ref} cannot start: {kind} {ns}/{name} has no "
                     f"key {key}")
            field = "stringData" if kind == "Secret" else "data"
            patch = {field: {key: "<value>"}}
            fix = Fix(f"Add the key {key} to {kind} {name} (or fix the key name in the pod template).",
                      (f"kubectl -n {ns} patch {kind.lower()} {name} --type=merge -p '{json.dumps(patch)}'",
                       f"kubectl -n {ns} get {kind.lower()} {name} -o jsonpath='{{.data}}' | jq 'keys'"))
            if keys := _keys(facts, ns, kind, name):
                evidence["keysPresent"] = keys
        return self.finding(title, subject=f"{g.ref.replace('/', f'/{ns}/', 1)}/{g.container.get('name')}",
                            evidence=evidence, fix=fix, severity=severity)


def _keys(facts: Facts, ns: str, kind: str, name: str) -> list[str]:
    obj = facts.secret(ns, name) if kind == "Secret" else facts.configmap(ns, name)
    return sorted(data_keys(obj))


def _references(container: dict, what: dict) -> list[dict]:
    """The container's env entries / envFrom / volumes that point at the missing object."""
    if not what:
        return []
    out = []
    field = "secretKeyRef" if what["kind"] == "Secret" else "configMapKeyRef"
    for env in container.get("env") or []:
        ref = (env.get("valueFrom") or {}).get(field) or {}
        if ref.get("name") == what["name"] and (what["missing"] == "object" or ref.get("key") == what.get("key")):
            out.append({"env": env.get("name"), "key": ref.get("key")})
    ref_field = "secretRef" if what["kind"] == "Secret" else "configMapRef"
    for src in container.get("envFrom") or []:
        if (src.get(ref_field) or {}).get("name") == what["name"]:
            out.append({"envFrom": what["name"]})
    return out
