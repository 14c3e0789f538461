"""The Kubernetes reads of one Service: the Service, what selects it, its pods and their config."""

from __future__ import annotations

import functools
from concurrent.futures import Future

from okedoctor.errors import CollectionError, UsageError
from okedoctor.facts import KUBERNETES
from okedoctor.live.collectors.state import RunState
from okedoctor.live.kube import rbac_reason, strip_configmap_values, strip_secret_values
from okedoctor.live.kube_reads import BadRequest, Forbidden, Gone, KubeReads, Unreachable
from okedoctor.live.shapes import referenced_config, unscheduled, with_kind
from okedoctor.options import service_hint

# Without these the chain cannot be walked at all; the other reads only add detail.
CORE_RESOURCES = ("endpoints", "endpointslices", "nodes")
# What a fleet run lists once per namespace instead of reading per Service: resource -> the kind's
# path without its namespace part. Per namespace, not cluster-wide: a failed list blinds only the
# Services of its namespace, a namespaced role can read it, and namespaces without an exposed
# Service (kube-system's pods) are not read at all.
SCOPED_LISTS = {
    "endpoints": "/api/v1/endpoints",
    "endpointslices": "/apis/discovery.k8s.io/v1/endpointslices",
    "pods": "/api/v1/pods",
}
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _index(resource: str, items: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """A namespace's list by (namespace, what a Service looks it up by): its name for Endpoints, the
    service-name label for EndpointSlices, nothing for pods (matched by selector afterwards)."""
    index: dict[tuple[str, str], list[dict]] = {}
    for obj in items:
        meta = obj.get("metadata") or {}
        if resource == "endpoints":
            by = meta.get("name", "")
        elif resource == "endpointslices":
            by = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL, "")
        else:
            by = ""
        index.setdefault((meta.get("namespace", ""), by), []).append(obj)
    return index


def _index_or_error(read, resource: str, ns: str) -> dict | Exception:
    # Returned, not raised: each Service that depends on the list records the gap in its own
    # collection, and the engine does not count it as an internal error.
    try:
        return _index(resource, read(SCOPED_LISTS[resource], ns))
    except (Forbidden, Gone, Unreachable) as exc:
        return exc


def _selects(selector: dict[str, str], pod: dict) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def fact_of(resource: str) -> str:
    """The fact a failed read of `resource` makes missing: the core, or `kubernetes.<resource>`."""
    return KUBERNETES if resource in CORE_RESOURCES else f"{KUBERNETES}.{resource}"


class KubeCollector:
    def __init__(self, state: RunState, reads: KubeReads):
        self.s, self.k, self.engine = state, reads, state.engine
        self._svc_fut: Future | None = None

    def start(self) -> None:
        """Everything that needs only the target's name (depth 1)."""
        s, k, e = self.s, self.k, self.engine
        ns, name = s.target.namespace, s.target.service

        def shared(key, resource, fn, *args, **kwargs):
            # Namespace-wide reads: one request however many Services of the run need it.
            return e.once(key, fact_of(resource), functools.partial(self.optional, resource, fn, *args, **kwargs))

        s.futs.update(
            endpoints=e.submit(KUBERNETES, self._per_service, "endpoints", k.endpoints, ns, name),
            slices=e.submit(KUBERNETES, self._per_service, "endpointslices", k.endpoint_slices, ns, name),
            nodes=shared(("nodes",), "nodes", k.nodes),
            events=shared(("events", ns), "events", k.events, ns),
            replicasets=shared(("replicasets", ns), "replicasets", k.replicasets, ns),
            deployments=shared(("deployments", ns), "deployments", k.deployments, ns),
            pvcs=shared(("pvcs", ns), "persistentvolumeclaims", k.pvcs, ns),
            storageclasses=shared(("storageclasses",), "storageclasses", k.storage_classes),
            namespace=shared(("namespace", ns), "namespaces", k.namespace, ns),
        )
        if ns != "default":
            # The kubelet posts node events in the default namespace.
            s.futs["nodeEvents"] = shared(("node-events",), "events", k.events, "default",
                                          field_selector="involvedObject.kind=Node")

    def request_service(self) -> None:
        """Send the Service's read ahead of the namespace-wide ones: the internet probe and the
        pods wait on it, the others on nothing."""
        s = self.s
        self._svc_fut = self.engine.submit(KUBERNETES, self.k.service, s.target.namespace, s.target.service)

    def service(self) -> dict | None:
        """The Service, or a one-line error that names the context and cluster we asked."""
        s = self.s
        fut = self._svc_fut or self.engine.submit(KUBERNETES, self.k.service, s.target.namespace, s.target.service)
        try:
            svc = self.engine.result(fut)
        except TimeoutError:
            raise CollectionError(f"the API server {s.kt.server} did not answer within {s.opts.timeout:g}s "
                                  f"(context {s.kt.context!r}); check the network path or raise --timeout") from None
        except Unreachable as exc:
            raise CollectionError(
                f"cannot reach the Kubernetes API server {s.kt.server} (context {s.kt.context!r}): {exc}; "
                "check the VPN/bastion, the API endpoint's NSG, or the context") from None
        except Forbidden:
            s.note(KUBERNETES, "denied", rbac_reason("services", s.target.namespace, f"Service {s.target.namespace}/"
                                                     f"{s.target.service}"))
            return None
        except Gone:
            others = s.kt.other_contexts
            hint = f"; other contexts in the kubeconfig: {', '.join(others)} (pass --context)" if others else ""
            raise UsageError(
                f"service {s.target.namespace}/{s.target.service} not found in context {s.kt.context!r} "
                f"(cluster {s.kt.cluster}, server {s.kt.server}){self._near(s.target.namespace, s.target.service)}"
                f"{hint}") from None
        s.put("service", svc)
        return svc

    def _near(self, namespace: str, name: str) -> str:
        """A typo's likely meaning and the exposed Services there; "" when they cannot be listed."""
        try:
            listed = self.k.services(namespace)
        except Exception:  # a hint only: the error about the missing Service is what matters
            return ""
        return service_hint(name, [(o["metadata"]["name"], str((o.get("spec") or {}).get("type") or "ClusterIP"))
                                   for o in listed], namespace)

    def optional(self, resource: str, fn, *args, **kwargs):
        """A read whose failure leaves a named gap instead of stopping the run."""
        fact = fact_of(resource)
        try:
            return fn(*args, **kwargs)
        except Forbidden:
            self.s.note(fact, "denied", rbac_reason(resource, self.s.target.namespace, resource))
        except Gone:
            return None
        except Unreachable as exc:
            self.s.note(fact, "unavailable", f"reading {resource} failed: {exc}")
        return None

    def scoped(self, resource: str) -> dict | Exception | None:
        """A fleet run's index of `resource` in the Service's namespace, listed once for all its
        Services; None outside a fleet run, or when listing is forbidden (a role that may only get
        by name): then each Service reads its own, as a single diagnosis does."""
        if not self.s.fleet:
            return None
        ns = self.s.target.namespace
        fut = self.engine.once(("scoped", resource, ns), KUBERNETES, _index_or_error, self.k.listed, resource, ns)
        got = self.engine.result(fut)
        return None if isinstance(got, Forbidden) else got

    def _per_service(self, resource: str, read, ns: str, name: str):
        """The Service's Endpoints (or its EndpointSlices): from the fleet's namespace list, else read."""
        got = self.scoped(resource)
        if got is None:
            return self.optional(resource, read, ns, name)
        if isinstance(got, Exception):
            return self.optional(resource, _raise, got)
        found = got.get((ns, name), [])
        if resource == "endpoints":
            return found[0] if found else None
        return found

    def pods(self, svc: dict) -> list[dict] | None:
        """The Service's pods (depth 2), and the reads they lead to; None when they cannot be listed."""
        s = self.s
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector:
            s.put("pods", [])
            return None
        sel = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        try:
            pods = self._selected_pods(selector, sel)
        except Forbidden:
            s.note(KUBERNETES, "denied", rbac_reason("pods", s.target.namespace, "pods"))
            return None
        except Unreachable as exc:
            s.note(KUBERNETES, "unavailable", f"listing pods failed: {exc}")
            return None
        s.put("pods", pods)
        if not pods:  # the near-miss search compares the selector with the namespace's other pods
            listed = self.scoped("pods")
            if isinstance(listed, dict):  # a fleet run has them already
                s.put("namespacePods", listed.get((s.target.namespace, ""), []))
            else:
                self.engine.submit(KUBERNETES, self._other_pods, "namespacePods", [(s.target.namespace, None)])
        if any(unscheduled(p) for p in pods):  # what fills the nodes: every pod scheduled on them
            self.engine.submit(KUBERNETES, self._node_pods)
        self._config_refs(pods)
        claims = {(v.get("persistentVolumeClaim") or {}).get("claimName")
                  for p in pods for v in (p.get("spec") or {}).get("volumes") or []} - {None}
        if claims:
            self.engine.submit(KUBERNETES, self._bound_volumes, claims)
        return pods

    def _selected_pods(self, selector: dict[str, str], sel: str) -> list[dict]:
        ns = self.s.target.namespace
        got = self.scoped("pods")
        if got is None:
            return self.k.pods(ns, sel, depth=2)
        if isinstance(got, Gone):
            return []
        if isinstance(got, Exception):
            raise got
        return [p for p in got.get((ns, ""), []) if _selects(selector, p)]

    def _other_pods(self, key: str, lists: list[tuple[str | None, str | None]]) -> None:
        """Pods beyond the selected ones, read only to compare or to sum, each list once per run
        (namespace, or node when the namespace is None). A refusal leaves them out (the checks then
        say the other pods were not collected) rather than skipping checks."""
        def read(ns: str | None, node: str | None) -> list[dict]:
            try:
                return self.k.pods(ns, None, 3) if ns is not None else self.k.node_pods(node or "", 3)
            except (Forbidden, Gone, BadRequest, Unreachable):
                return []

        futs = [self.engine.once(("other-pods", ns, node), KUBERNETES, read, ns, node) for ns, node in lists]
        self.s.put(key, [p for fut in futs for p in self.engine.result(fut)])

    def _node_pods(self) -> None:
        nodes = self.engine.result(self.s.futs["nodes"]) or []
        self._other_pods("nodePods", [(None, n["metadata"]["name"]) for n in nodes])

    def _config_refs(self, pods: list[dict]) -> None:
        secrets, configmaps = set(), set()
        for pod in pods:
            sec, cms = referenced_config(pod)
            secrets |= sec
            configmaps |= cms
        ns = self.s.target.namespace
        for name in sorted(secrets):
            self.engine.submit(KUBERNETES, self._config_obj, "secrets", name,
                               lambda n=name: strip_secret_values(self.k.secret(ns, n, depth=3)))
        for name in sorted(configmaps):
            self.engine.submit(KUBERNETES, self._config_obj, "configmaps", name,
                               lambda n=name: strip_configmap_values(self.k.configmap(ns, n, depth=3)))

    def _bound_volumes(self, claims: set[str]) -> None:
        """The PersistentVolumes bound to the pods' claims (their node affinity names the volume's AD)."""
        pvcs = self.engine.result(self.s.futs["pvcs"]) or []
        names = sorted({(c.get("spec") or {}).get("volumeName") for c in pvcs
                        if c["metadata"]["name"] in claims} - {None, ""})
        for name in names:
            obj = self.optional("persistentvolumes", self.k.persistent_volume, name, depth=3)
            if obj is not None:
                with_kind(obj, "v1", "PersistentVolume")
                with self.s.lock:
                    self.s.kube.setdefault("persistentvolumes", []).append(obj)

    def _config_obj(self, resource: str, name: str, read) -> None:
        obj = self.optional(resource, read)
        if obj is not None:
            with_kind(obj, "v1", "Secret" if resource == "secrets" else "ConfigMap")
            with self.s.lock:
                self.s.kube.setdefault(resource, []).append(obj)


def _raise(exc: Exception):
    raise exc
