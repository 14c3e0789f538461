"""OKD-POD-016: a Secret/ConfigMap shaped for one use (env file or variables) is used the other way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from posixpath import basename

from checks.pod._causes import service_serving
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import ENV_VAR_STYLE_RE, containers, data_keys, log_hints, name_of, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity

# A key that holds a whole KEY=VALUE file rather than one variable.
ENV_FILE_KEY_RE = re.compile(r"(^\.?env$|\.env$|^\.env\.|\.properties$)", re.I)


def _source(volume: Obj) -> tuple[str, str] | None:
    if (volume.get("secret") or {}).get("secretName"):
        return "Secret", volume["secret"]["secretName"]
    if (volume.get("configMap") or {}).get("name"):
        return "ConfigMap", volume["configMap"]["name"]
    return None


def _obj(facts: Facts, kind: str, ns: str, name: str) -> Obj | None:
    return facts.secret(ns, name) if kind == "Secret" else facts.configmap(ns, name)


def mismatches(facts: Facts, pod: Obj) -> list[dict]:
    """Each Secret/ConfigMap of this pod whose shape does not fit its use, with how it is used."""
    ns = pod["metadata"].get("namespace", "")
    return _as_files(facts, pod, ns) + _as_env(facts, pod, ns)


def _as_files(facts: Facts, pod: Obj, ns: str) -> list[dict]:
    """A per-variable object (created with --from-env-file) mounted where the app wants one file."""
    out = []
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    for c in containers(pod):
        live = facts.container_live(ns, name_of(pod), c.get("name", "")) or {}
        missing_paths = [h.detail.get("path") or "" for h in log_hints((live.get("previousLogs") or "")
                                                                       + "\n" + (live.get("logs") or ""))
                         if h.kind == "file-missing"]
        for m in c.get("volumeMounts") or []:
            vol = volumes.get(m.get("name")) or {}
            src = _source(vol)
            if not src:
                continue
            obj = _obj(facts, src[0], ns, src[1])
            keys = data_keys(obj)
            if len(keys) < 2 or not all(ENV_VAR_STYLE_RE.match(k) for k in keys):
                continue
            items = (vol.get("secret") or vol.get("configMap") or {}).get("items")
            sub = m.get("subPath")
            mount = m.get("mountPath", "")
            wanted = None
            if sub and not items and sub not in keys:
                wanted = sub
            elif not sub and ENV_FILE_KEY_RE.search(basename(mount.rstrip("/"))):
                wanted = basename(mount.rstrip("/"))
            else:
                wanted = next((basename(p) for p in missing_paths
                               if p.startswith(mount.rstrip("/") + "/") and basename(p) not in keys), None)
            if wanted:
                out.append({"use": "volume", "kind": src[0], "name": src[1], "container": c.get("name"),
                            "mountPath": mount, "subPath": sub, "expectsFile": wanted, "keys": sorted(keys)})
    return out


def _as_env(facts: Facts, pod: Obj, ns: str) -> list[dict]:
    """A one-file object (created with --from-file=.env) loaded with envFrom, one variable per key."""
    out = []
    for c in containers(pod):
        for ref in c.get("envFrom") or []:
            for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                name = (ref.get(field) or {}).get("name")
                if not name:
                    continue
                keys = data_keys(_obj(facts, kind, ns, name))
                file_keys = sorted(k for k in keys if ENV_FILE_KEY_RE.search(k))
                if file_keys:
                    out.append({"use": "envFrom", "kind": kind, "name": name, "container": c.get("name"),
                                "fileKeys": file_keys, "keys": sorted(keys)})
    return out


class SecretEnvFileShape(Check):
    """A Secret or ConfigMap is shaped for one use (a .env file, or one key per variable) but used the other way.

    What it checks
        Key names only, never values. (1) An object created with `--from-env-file` (several keys,
        all variable names like DATABASE_URL) mounted as a volume where the app expects ONE file:
        a subPath or mountPath naming `.env` that is not a key, or a "no such file" in the logs
        under the mount path. (2) The reverse: an object holding a whole file under one key
        (`.env`, `app.env`, `*.properties`, made with `--from-file`) loaded with `envFrom`.

    Why it breaks
        `--from-env-file` makes one key per variable, so a volume shows one file per variable
        and no `.env` file: the app finds no configuration and exits. The other way, `envFrom`
        turns each KEY into one variable, so the container gets a single variable named `.env`
        holding the whole file, and DATABASE_URL and friends are unset.

    How to fix
        Make the shape match the use: recreate the object with `--from-env-file` to use it with
        `envFrom`, or with `--from-file=.env=PATH` to mount it as a file (or mount the
        per-variable object with envFrom instead). The commands are in the finding.
    """

    code = "OKD-POD-016"
    name = "secret-env-file-shape"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        seen: set[tuple] = set()
        severity = Severity.WARNING if service_serving(facts) else Severity.ERROR
        for pod in facts.pods:
            ns = pod["metadata"].get("namespace", "")
            ref = workload_ref(facts, pod)
            for m in mismatches(facts, pod):
                key = (ref, m["use"], m["name"], m["container"])
                if key in seen:
                    continue
                seen.add(key)
                yield self._finding(ns, ref, m, severity)

    def _finding(self, ns: str, ref: str, m: dict, severity: Severity) -> Finding:
        kind, name, lower = m["kind"], m["name"], m["kind"].lower()
        create = "secret generic" if kind == "Secret" else "configmap"
        if m["use"] == "envFrom":
            title = (f"{kind} {name} holds a whole env file under key(s) {', '.join(m['fileKeys'])} but {ref} "
                     "loads it with envFrom: the variables inside are never set")
            commands = (
                f"kubectl -n {ns} create {create} {name} --from-env-file=.env --dry-run=client -o yaml "
                "| kubectl apply -f -",
                f"kubectl -n {ns} rollout restart {ref}",
            )
            summary = f"Recreate {kind} {name} with --from-env-file (one key per variable), then restart."
        else:
            title = (f"{kind} {name} has one key per variable ({len(m['keys'])} keys, made with --from-env-file) "
                     f"but {ref} mounts it at {m['mountPath']} and the app expects the file {m['expectsFile']}")
            commands = (
                f"kubectl -n {ns} create {create} {name} --from-file={m['expectsFile']}=.env --dry-run=client "
                "-o yaml | kubectl apply -f -",
                f"kubectl -n {ns} rollout restart {ref}",
            )
            summary = (f"Recreate {kind} {name} with --from-file={m['expectsFile']}=.env so it holds the file, "
                       f"or drop the volume and load the variables with envFrom ({lower}Ref: {name}).")
        patch = None
        if m["use"] == "volume":
            patch = (f"# or: load the variables directly\nenvFrom:\n- {lower}Ref:\n    name: {name}\n")
        evidence = {k: v for k, v in m.items() if v is not None}
        return self.finding(title, subject=f"{lower}/{ns}/{name}", evidence=evidence,
                            fix=Fix(summary, commands, patch), severity=severity)
