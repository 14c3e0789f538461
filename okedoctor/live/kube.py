"""The Kubernetes side of live collection: kubeconfig resolution and raw JSON reads.

Objects are read with `_preload_content=False` and `json.loads`, never through the client's
models: the snapshot must hold what the API server sent, unknown fields included.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from okedoctor.certinfo import public_pem
from okedoctor.docfile import check_structure, has_anchors, read_text
from okedoctor.errors import CollectionError, UsageError
from okedoctor.redact import MASK, redact

IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


@dataclass
class KubeTarget:
    """Which cluster we talk to, as named in the kubeconfig (or in-cluster)."""

    context: str
    server: str
    cluster: str  # kubeconfig cluster name, or the OKE cluster OCID when the exec plugin names it
    namespace: str | None  # the context's namespace, if any
    other_contexts: list[str] = field(default_factory=list)
    in_cluster: bool = False
    config_file: str | None = None


def kubeconfig_paths(explicit: str | None) -> list[Path]:
    """The files kubectl would read: --kubeconfig, else $KUBECONFIG (a path list), else ~/.kube/config."""
    raw = explicit or os.environ.get("KUBECONFIG") or "~/.kube/config"
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p]


def _merged_kubeconfig(paths: list[Path]) -> dict[str, Any]:
    """Merge as kubectl does: the first file that defines a name (or current-context) wins."""
    merged: dict[str, Any] = {"contexts": [], "clusters": [], "users": []}
    seen: dict[str, set[str]] = {"contexts": set(), "clusters": set(), "users": set()}
    for path in paths:
        if not path.is_file():
            continue
        text = read_text(path, what="kubeconfig", hint="")  # bounded: a regular file, at most 256 MiB
        try:
            doc = check_structure(yaml.safe_load(text), f"kubeconfig {path}", aliases=has_anchors(text)) or {}
        except yaml.YAMLError as exc:
            raise UsageError(_yaml_error(path, exc)) from None
        except RecursionError:
            raise UsageError(f"kubeconfig {path} is nested too deeply") from None
        except (ValueError, OverflowError) as exc:
            raise UsageError(f"kubeconfig {path}: malformed value: {str(exc)[:120]}") from None
        if not isinstance(doc, dict):
            raise UsageError(f"kubeconfig {path} is not a kubeconfig (expected a mapping)")
        if doc.get("current-context") and not merged.get("current-context"):
            merged["current-context"] = doc["current-context"]
        for section in ("contexts", "clusters", "users"):
            for item in doc.get(section) or []:
                if isinstance(item, dict) and item.get("name") not in seen[section]:
                    seen[section].add(item.get("name"))
                    merged[section].append(item)
    return merged


def _yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """One line: where the YAML breaks. PyYAML's own text quotes the line, which may hold a token."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = " ".join(str(getattr(exc, "problem", None) or "unparsable").split())
    context = getattr(exc, "context", None)
    what = f"{problem} ({context})" if context else problem
    return (f"kubeconfig {path} is not valid YAML{where}: {what}; fix the file there, or regenerate it "
            "with `oci ce cluster create-kubeconfig`")


def _check_context_refs(cfg: dict[str, Any], name: str, files: str) -> None:
    """A context naming a cluster or user that no file defines is a broken kubeconfig. Left alone, the
    client fails late (no cluster) or sends no credentials and reports a misleading 401 (no user)."""
    ctx = _named(cfg["contexts"], name, "context")
    for kind, section in (("cluster", "clusters"), ("user", "users")):
        ref = ctx.get(kind)
        if kind == "user" and not ref:
            continue  # no user: anonymous access, which kubectl allows
        defined = [item.get("name") for item in cfg[section]]
        if not ref or ref not in defined:
            named = f"{kind} {ref!r}" if ref else f"no {kind}"
            raise UsageError(f"kube context {name!r} names {named}, which is not in the kubeconfig {files} "
                             f"({section}: {', '.join(map(str, defined)) or 'none'}); fix the context's {kind}: entry, "
                             "or regenerate it with `oci ce cluster create-kubeconfig`")


def _named(items: list[dict[str, Any]], name: str, key: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item.get(key) or {}
    return {}


def _oke_cluster_id(user: dict[str, Any]) -> str | None:
    """OKE kubeconfigs run `oci ce cluster generate-token --cluster-id <ocid>`: that is the cluster."""
    args = list((user.get("exec") or {}).get("args") or [])
    for i, arg in enumerate(args):
        if arg == "--cluster-id" and i + 1 < len(args):
            return args[i + 1]
        if isinstance(arg, str) and arg.startswith("--cluster-id="):
            return arg.split("=", 1)[1]
    return None


def resolve_kube_target(kubeconfig: str | None, context: str | None, expect_context: str | None) -> KubeTarget:
    """Pick the context as kubectl would; refuse a missing or unexpected one with a one-line error."""
    paths = kubeconfig_paths(kubeconfig)
    existing = [p for p in paths if p.is_file()]
    if not existing:
        if not kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST") and Path(IN_CLUSTER_TOKEN).exists():
            return _in_cluster_target(expect_context)
        where = ", ".join(str(p) for p in paths)
        raise UsageError(f"no kubeconfig at {where}: pass --kubeconfig FILE, set KUBECONFIG, "
                         "or create one with `oci ce cluster create-kubeconfig`")
    cfg = _merged_kubeconfig(existing)
    names = [c.get("name") for c in cfg["contexts"]]
    name = context or cfg.get("current-context")
    if not name:
        raise UsageError(f"the kubeconfig sets no current-context; pass --context (one of: {', '.join(names)})")
    if name not in names:
        choices = ", ".join(names) or "none"
        raise UsageError(f"context {name!r} is not in the kubeconfig {os.pathsep.join(map(str, existing))} "
                         f"(contexts: {choices})")
    if expect_context and name != expect_context:
        raise UsageError(f"refusing to run: the kube context is {name!r} but --expect-context is "
                         f"{expect_context!r}; switch with --context {expect_context}")
    _check_context_refs(cfg, name, os.pathsep.join(map(str, existing)))
    ctx = _named(cfg["contexts"], name, "context")
    cluster_name = ctx.get("cluster", "")
    cluster = _named(cfg["clusters"], cluster_name, "cluster")
    user = _named(cfg["users"], ctx.get("user", ""), "user")
    return KubeTarget(
        context=name,
        server=cluster.get("server", ""),
        cluster=_oke_cluster_id(user) or cluster_name,
        namespace=ctx.get("namespace"),
        other_contexts=[n for n in names if n != name],
        config_file=os.pathsep.join(str(p) for p in existing),
    )


def _in_cluster_target(expect_context: str | None) -> KubeTarget:
    if expect_context:
        raise UsageError("--expect-context cannot be checked in-cluster: there is no kube context")
    host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    ns_file = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    ns = ns_file.read_text().strip() if ns_file.exists() else None
    return KubeTarget(context="in-cluster", server=f"https://{host}:{port}", cluster="in-cluster",
                      namespace=ns, in_cluster=True)


def lean_kubernetes() -> None:
    """Let `kubernetes.client`, `.config` and `.stream` load without the package's __init__.

    The __init__ imports dynamic, watch, utils (with kubernetes_validate), leaderelection and
    informer, which no read uses: 0.19 s of a cold run's CPU, before the first request. The package
    is registered as its real path with an attribute hook that loads any submodule on first use,
    so `import kubernetes` elsewhere still finds everything (`kubernetes.watch`, `__version__`).
    A package already imported is left as it is.
    """
    import importlib
    import importlib.util
    import sys
    import types

    if "kubernetes" in sys.modules:
        return
    spec = importlib.util.find_spec("kubernetes")
    if spec is None or not spec.submodule_search_locations:
        return  # not installed: the import below says so in its own words
    pkg = types.ModuleType("kubernetes")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__spec__, pkg.__file__, pkg.__package__ = spec, spec.origin, "kubernetes"

    def attribute(name: str):
        if name == "__version__":
            from importlib.metadata import version

            return version("kubernetes")
        if name.startswith("__"):
            raise AttributeError(name)
        return importlib.import_module(f"kubernetes.{name}")

    pkg.__getattr__ = attribute  # type: ignore[method-assign]
    sys.modules["kubernetes"] = pkg


def make_api_client(target: KubeTarget, pool_size: int):
    """A kubernetes ApiClient for the chosen context; the import is here so --help stays fast."""
    lean_kubernetes()
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    cfg = client.Configuration()
    try:
        if target.in_cluster:
            config.load_incluster_config(client_configuration=cfg)
        else:
            config.load_kube_config(config_file=target.config_file, context=target.context,
                                    client_configuration=cfg, persist_config=False)
    except (ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
        text = " ".join(str(exc).split())
        if text.startswith("Invalid kube-config file"):  # the file is wrong, not the cluster: bad input
            raise UsageError(f"cannot use kube context {target.context!r}: {text}; fix the kubeconfig or "
                             "regenerate it with `oci ce cluster create-kubeconfig`") from None
        raise CollectionError(f"cannot use kube context {target.context!r}: {text}") from None
    if not cfg.verify_ssl:  # insecure-skip-tls-verify: the user chose it; kubectl does not nag either
        import warnings

        import urllib3

        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    cfg.connection_pool_maxsize = pool_size
    # One attempt per request: the deadline, not urllib3, decides how long we wait.
    cfg.retries = False
    _throttle_credential_refresh(cfg)
    return client.ApiClient(cfg)


TOKEN_REFRESH_S = 60.0


def _throttle_credential_refresh(cfg) -> None:
    """Run the exec credential plugin at most once a minute, from one thread at a time.

    The client treats a token as expired 5 minutes before its expirationTimestamp; OKE tokens
    live 4 minutes, so unpatched it would run `oci ce cluster generate-token` (a second or
    more) before every single request, from every thread at once.
    """
    import threading
    import time

    hook = getattr(cfg, "refresh_api_key_hook", None)
    if hook is None:
        return
    lock = threading.Lock()
    last = [time.monotonic()]

    def refresh(conf) -> None:
        with lock:
            if time.monotonic() - last[0] < TOKEN_REFRESH_S:
                return
            hook(conf)
            last[0] = time.monotonic()

    cfg.refresh_api_key_hook = refresh


@dataclass(frozen=True)
class RbacRule:
    """The RBAC rule that allows one read, printed in 'denied' reasons."""

    group: str
    resource: str
    verbs: tuple[str, ...]

    def text(self, namespace: str | None) -> str:
        scope = f"in namespace {namespace}" if namespace else "cluster-wide"
        group = self.group or '""'
        verbs = ", ".join(self.verbs)
        role = "okedoctor-exec in deploy/rbac-exec.yaml, optional" if self.resource == "pods/exec" else \
            "okedoctor-reader in deploy/rbac.yaml"
        return (f"RBAC rule {{apiGroups: [{group}], resources: [{self.resource}], verbs: [{verbs}]}} {scope} "
                f"(ClusterRole {role})")


RBAC = {
    "services": RbacRule("", "services", ("get",)),
    "endpoints": RbacRule("", "endpoints", ("get",)),
    "endpointslices": RbacRule("discovery.k8s.io", "endpointslices", ("list",)),
    "pods": RbacRule("", "pods", ("list",)),
    "nodes": RbacRule("", "nodes", ("list",)),
    "events": RbacRule("", "events", ("list",)),
    "namespaces": RbacRule("", "namespaces", ("get",)),
    "replicasets": RbacRule("apps", "replicasets", ("list",)),
    "deployments": RbacRule("apps", "deployments", ("list",)),
    "persistentvolumeclaims": RbacRule("", "persistentvolumeclaims", ("list",)),
    "persistentvolumes": RbacRule("", "persistentvolumes", ("get",)),
    "storageclasses": RbacRule("storage.k8s.io", "storageclasses", ("list",)),
    "secrets": RbacRule("", "secrets", ("get",)),
    "configmaps": RbacRule("", "configmaps", ("get",)),
    "pods/log": RbacRule("", "pods/log", ("get",)),
    "pods/exec": RbacRule("", "pods/exec", ("create", "get")),
    # A URL diagnosis lists these cluster-wide: the Service holding the address, the rules to the backend.
    "allservices": RbacRule("", "services", ("list",)),
    "ingresses": RbacRule("networking.k8s.io", "ingresses", ("list",)),
    "ingressclasses": RbacRule("networking.k8s.io", "ingressclasses", ("list",)),
    "httproutes": RbacRule("gateway.networking.k8s.io", "httproutes", ("list",)),
    "gateways": RbacRule("gateway.networking.k8s.io", "gateways", ("list",)),
    # The OCI Native Ingress Controller's class settings (a CRD), read for a URL its LB serves.
    "ingressclassparameters": RbacRule("ingress.oraclecloud.com", "ingressclassparameters", ("get",)),
}


def rbac_reason(resource: str, namespace: str | None, what: str) -> str:
    rule = RBAC[resource]
    scope = namespace if resource not in ("nodes", "storageclasses", "namespaces", "persistentvolumes") else None
    return f"forbidden to read {what}: needs {rule.text(scope)}"


def raw_json(response) -> Any:
    """Body of a `_preload_content=False` response as the server sent it."""
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


# Env var names whose literal value is a credential whatever it looks like (DB_PASS, PGPWD, SLACK_WEBHOOK).
_CREDENTIAL_NAME = re.compile(r"(?i)(pass|pwd|secret|token|key|credential|dsn|auth|cookie|session|webhook|private"
                              r"|salt|conn(?:ection)?_?str)")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def scrub_object(obj: dict[str, Any]) -> dict[str, Any]:
    """Remove what must not reach a snapshot from any object: managedFields, kubectl's
    last-applied annotation (the whole object as applied, literal env values included), and
    literal env values that are or look like credentials."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        ann = meta.get("annotations")
        if isinstance(ann, dict) and _LAST_APPLIED in ann:
            ann[_LAST_APPLIED] = MASK
    for spec in _pod_specs(obj):
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for c in spec.get(key) or []:
                if isinstance(c, dict):
                    _scrub_env(c.get("env"))
    return obj


def _scrub_env(env: Any) -> None:
    """Mask literal env values by name, and run the value redactor over the rest (a DATABASE_URL
    with a password in it, an Authorization header in a variable named HEADERS)."""
    for var in env if isinstance(env, list) else []:
        if not isinstance(var, dict) or not isinstance(var.get("value"), str):
            continue
        if _CREDENTIAL_NAME.search(str(var.get("name", ""))):
            var["value"] = MASK
        else:
            var["value"] = redact(var["value"])


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod specs an object holds: a Pod's own, a workload's template, a CronJob's job template."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    if obj.get("kind") == "Pod":
        return [spec]
    job = (spec.get("jobTemplate") or {}).get("spec")
    holder = job if isinstance(job, dict) else spec
    tmpl = (holder.get("template") or {}).get("spec")
    return [tmpl] if isinstance(tmpl, dict) else []


def strip_secret_values(secret: dict[str, Any]) -> dict[str, Any]:
    """A Secret with every value replaced: only the key names of its data, labels and annotations
    survive (kubectl apply keeps the whole object, values included, in an annotation; tools put
    hashes, owners and sometimes values in the others)."""
    out = dict(secret)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = {k: _kept(out, key, k, v) for k, v in out[key].items()}
    meta = dict(out.get("metadata") or {})
    for key in ("labels", "annotations"):
        if isinstance(meta.get(key), dict):
            meta[key] = {k: MASK for k in meta[key]}
    meta.pop("managedFields", None)
    out["metadata"] = meta
    return out


def _kept(secret: dict[str, Any], field: str, key: str, value: Any) -> Any:
    """MASK, but for a TLS Secret's `tls.crt` holding only certificates: the certificate the ingress
    controller serves behind an NLB is public (every client receives it) and its expiry and names
    are what the TLS checks judge. `tls.key` and every other value are never kept."""
    if (secret.get("type") == "kubernetes.io/tls" and field == "data" and key == "tls.crt"
            and public_pem(value) is not None):
        return value
    return MASK


def strip_configmap_values(cm: dict[str, Any]) -> dict[str, Any]:
    """ConfigMaps often carry credentials too; keep their key names only, as for Secrets."""
    out = strip_secret_values(cm)
    if isinstance(out.get("binaryData"), dict):
        out["binaryData"] = {k: MASK for k in out["binaryData"]}
    return out
