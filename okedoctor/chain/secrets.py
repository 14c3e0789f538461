"""Secrets and ConfigMaps shaped for one use (an env file, or one variable per key) used the other way."""

from __future__ import annotations

import re
from posixpath import basename

from okedoctor.facts import Facts, Obj
from okedoctor.kube import ENV_VAR_STYLE_RE, containers, data_keys, log_hints, name_of

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
