"""Live collection: read the facts of one diagnosis from the cluster, OCI and the internet.

The result is the same `Snapshot` a file holds, so the checks cannot tell live facts from a
file. The plan, by depth of dependent requests (each level waits only for what it needs):

1. Service, Endpoints, EndpointSlices, Nodes, Events, ReplicaSets, Deployments, PVCs,
   StorageClasses, the Namespace: everything that needs only the target's name.
2. Pods (by the Service's selector); the LB/NLB by the CCM's display name (needs the Service
   UID and the nodes' compartment); the workers' instances and VNIC attachments.
3. Secrets/ConfigMaps the pods reference, logs, the in-pod probe; the LB's backend-set health,
   subnets and NSGs; the workers' VNICs and subnets; the internet probe.
4+. Per-backend health of sets that are not OK, security lists and route tables.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from okedoctor import __version__
from okedoctor.errors import CollectionError, UsageError
from okedoctor.kube import listening_ports
from okedoctor.lbsearch import needs_worker_subnets, node_ports, search_by_backends
from okedoctor.live import oci_api
from okedoctor.live.engine import Engine
from okedoctor.live.internet import parse_redirect, probe_address
from okedoctor.live.kube import (
    KubeTarget,
    RbacRule,
    make_api_client,
    rbac_reason,
    resolve_kube_target,
    scrub_object,
    strip_configmap_values,
    strip_secret_values,
)
from okedoctor.live.kube_reads import BadRequest, Forbidden, Gone, KubeReads, Unreachable
from okedoctor.live.probe import ProbeTarget, argv_for, parse_probe, probe_targets
from okedoctor.live.redact import redact
from okedoctor.live.shapes import (
    assemble_kubernetes,
    ccm_name_matches,
    first_truthy,
    get_path,
    internet_addresses,
    list_path,
    merge_snapshots,
    needs_logs,
    preload_httpx,
    referenced_config,
    section_of,
    unscheduled,
    with_kind,
)
from okedoctor.model import Target
from okedoctor.options import LiveOptions
from okedoctor.probe_scripts import TOOL_ORDER
from okedoctor.snapshot import Snapshot

MAX_PROBED_PODS = 20
MAX_LOG_PORTS = 3  # ports named by a log, probed after the target port was refused
LB_TYPE_ANNOTATION = "oci.oraclecloud.com/load-balancer-type"
COMPARTMENT_ANNOTATION = "oci.oraclecloud.com/compartment-id"
REGION_LABEL = "topology.kubernetes.io/region"


@dataclass
class CollectResult:
    snapshot: Snapshot
    target: Target
    stats: dict[str, Any] = field(default_factory=dict)


def collect(target: Target, opts: LiveOptions) -> CollectResult:
    """Read every fact the checks need for `target`; see the module docstring for the plan."""
    kt = resolve_kube_target(opts.kubeconfig, opts.context, opts.expect_context)
    ns = opts.namespace or kt.namespace or "default"
    tgt = Target(ns, target.service)
    engine = Engine(opts.timeout)
    try:
        api = _open(kt, engine, opts)
        run = _Run(kt, tgt, opts, engine)
        run.start(api)
        snapshot = _finish(engine, [run])
    finally:
        engine.close()
    return CollectResult(snapshot=snapshot, target=tgt, stats=engine.stats())


@dataclass
class FleetResult:
    snapshot: Snapshot
    namespace: str | None  # None: every namespace
    stats: dict[str, Any] = field(default_factory=dict)
    # Every Service the listing returned, of any type: "<ns>/<name>" -> spec.type.
    listed: dict[str, str] = field(default_factory=dict)
    # Why the run could not tell whether its namespace exists (the read was denied or failed).
    scope_unknown: str | None = None


EXPOSED_TYPES = ("LoadBalancer",)


def collect_fleet(namespace: str | None, opts: LiveOptions, *, include_nodeport: bool = False,
                  all_namespaces: bool = False) -> FleetResult:
    """One shared collection pass over every exposed Service of a namespace (or of all).

    Namespace-wide reads (nodes, events, ReplicaSets, Deployments, PVCs...), the workers'
    network and OCI objects are read once however many Services use them.
    """
    kt = resolve_kube_target(opts.kubeconfig, opts.context, opts.expect_context)
    scope = None if all_namespaces else (namespace or opts.namespace or kt.namespace or "default")
    engine = Engine(opts.timeout)
    try:
        api = _open(kt, engine, opts)
        k = KubeReads(api, engine, kt)
        try:
            services = k.services(scope)
        except Unreachable as exc:
            raise CollectionError(f"cannot reach the Kubernetes API server {kt.server} (context {kt.context!r}): "
                                  f"{exc}; check the VPN/bastion, the API endpoint's NSG, or the context") from None
        except Forbidden:
            raise CollectionError(rbac_reason("services", scope, "Services") + "; okedoctor report lists them") \
                from None
        scope_unknown = _check_namespace(k, kt, scope) if scope is not None and not services else None
        types = EXPOSED_TYPES + (("NodePort",) if include_nodeport else ())
        runs = []
        for svc in services:
            if (svc.get("spec") or {}).get("type") in types:
                tgt = Target(svc["metadata"].get("namespace", ""), svc["metadata"]["name"])
                run = _Run(kt, tgt, opts, engine)
                if scope is None:
                    run.cluster_services = services  # the search by backends needs no second list
                run.start(api, service=svc)
                runs.append(run)
        snapshot = _finish(engine, runs, fleet=True) if runs else _empty_fleet(kt, services)
    finally:
        engine.close()
    listed = {f"{s['metadata'].get('namespace', '')}/{s['metadata']['name']}":
              str((s.get("spec") or {}).get("type") or "ClusterIP") for s in services}
    return FleetResult(snapshot=snapshot, namespace=scope, stats=engine.stats(), listed=listed,
                       scope_unknown=scope_unknown)


def _check_namespace(k: KubeReads, kt: KubeTarget, ns: str) -> str | None:
    """An empty listing of `ns`: is the namespace there at all? (The API lists a missing one as empty.)

    Not found is a usage error naming the namespaces there are; a denied or failed read is not
    "not found": the reason is returned, and the run says it could not tell.
    """
    try:
        k.namespace(ns)
        return None
    except Gone:
        pass
    except Forbidden:
        return f"could not tell whether namespace {ns} exists: {rbac_reason('namespaces', None, 'namespaces')}"
    except Unreachable as exc:
        return f"could not tell whether namespace {ns} exists: reading it failed: {exc}"
    where = f"namespace {ns} not found in context {kt.context}"
    try:
        names = [str(n["metadata"]["name"]) for n in k.namespaces()]
    except Forbidden:
        raise UsageError(f"{where} (listing namespaces is forbidden, so they cannot be named here: "
                         f"needs {RbacRule('', 'namespaces', ('list',)).text(None)})") from None
    except (Gone, Unreachable) as exc:
        raise UsageError(f"{where} (listing namespaces failed: {exc})") from None
    from okedoctor.fleet.run import name_some

    raise UsageError(f"{where}; namespaces: {name_some(names)}")


def _open(kt: KubeTarget, engine: Engine, opts: LiveOptions):
    """The kubernetes ApiClient, with the OCI setup started alongside its credential plugin."""
    # Importing the kubernetes client is CPU work that OCI's imports would only slow down;
    # the OCI setup then overlaps the credential plugin's run, which waits on a subprocess.
    import kubernetes.client  # noqa: F401

    engine.once(("oci-setup",), "oci", _oci_setup, opts)
    return make_api_client(kt, pool_size=32)


def _finish(engine: Engine, runs: list[_Run], fleet: bool = False) -> Snapshot:
    cut = engine.wait_all()
    for fact, exc in engine.errors():
        if isinstance(exc, UsageError | CollectionError):
            raise exc
        if not isinstance(exc, TimeoutError):
            runs[0].note(fact, "unavailable", f"internal error while reading: {type(exc).__name__}: {exc}")
    snaps = [run.snapshot(cut) for run in runs]
    return merge_snapshots(snaps) if fleet else snaps[0]


def _empty_fleet(kt: KubeTarget, services: list[dict]) -> Snapshot:
    return Snapshot(kind="Snapshot", metadata={"name": "fleet"},
                    context={"kubeContext": kt.context, "server": kt.server, "cluster": kt.cluster},
                    kubernetes=[with_kind(s, "v1", "Service") for s in services])


def _oci_setup(opts: LiveOptions) -> oci_api.OciSetup | Exception | None:
    """Read the OCI config (shared by every Service of a run). An OciDisabled/other failure is returned."""
    auth = oci_api.resolve_auth(opts.auth)  # the auth in use, default included, for every message below
    endpoint = opts.oci_endpoint or os.environ.get("OKEDOCTOR_OCI_ENDPOINT")
    # Before the config is read: a principal signer must never be built against the simulator.
    oci_api.refuse_principal_on_loopback(auth, endpoint)
    try:
        setup = oci_api.load_setup(auth=auth, profile=opts.profile, config_file=opts.config_file,
                                   region=opts.region)
        if setup.auth in oci_api.PRINCIPAL_AUTHS:
            setup.signer = oci_api.principal_signer(setup, endpoint)
        oci_api.preload_services()
    except oci_api.OciDisabled as exc:
        return exc
    except (UsageError, CollectionError):
        raise
    except Exception as exc:  # a principal signer could not reach its token service
        return oci_api.OciUnavailable(f"OCI {auth} authentication failed: {oci_api._first_line(exc)}")
    return setup


class _Run:
    """The state of one collection; tasks write into it under a lock."""

    def __init__(self, kt: KubeTarget, target: Target, opts: LiveOptions, engine: Engine):
        self.kt, self.target, self.opts, self.engine = kt, target, opts, engine
        self.lock = threading.Lock()
        self.kube: dict[str, Any] = {}  # what -> object or list
        self.oci: dict[str, Any] = {section: [] for section in (
            "networkLoadBalancers", "loadBalancers", "subnets", "securityLists", "networkSecurityGroups",
            "instances", "vnicAttachments", "vnics", "routeTables")}
        self.oci.update(backendSetHealth={}, backendHealth={}, networkSecurityGroupRules={})
        self.oci_used = False
        self.containers: dict[str, dict[str, Any]] = {}
        self.internet: dict[str, Any] | None = None
        self.collection: dict[str, dict[str, str]] = {}
        self.region: str | None = opts.region
        self.compartment: str | None = None  # where the cloud controller manager makes the Service's LB
        self.lb_search: dict[str, Any] | None = None  # context.lbSearch: the compartments listed, and why
        self.oci_setup: oci_api.OciSetup | None = None
        self.cluster_body: dict | None = None
        self.cluster_services: list[dict] | None = None  # every Service of the cluster, once listed
        self.nodes: list[dict] = []
        self.redirect = parse_redirect(opts.internet_redirect)
        self.lb_depth = 2  # the internet probe's depth: after the Service, or after the LB when there is one

    # ---- bookkeeping --------------------------------------------------------------------
    def note(self, fact: str, kind: str, reason: str) -> None:
        """Record why a fact is missing; denials win over other kinds, reasons accumulate."""
        with self.lock:
            prev = self.collection.get(fact)
            if prev is None:
                self.collection[fact] = {"kind": kind, "reason": reason}
                return
            if reason not in prev["reason"]:
                prev["reason"] = f"{prev['reason']}; {reason}"
            if kind == "denied":
                prev["kind"] = "denied"

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.kube[key] = value

    # ---- the plan -----------------------------------------------------------------------
    def start(self, api, service: dict | None = None) -> None:
        """Submit the reads; `service` is given when a fleet listing already read it."""
        ns, name = self.target.namespace, self.target.service
        e = self.engine
        self.api = api
        self.k = KubeReads(api, e, self.kt)
        self.oci_setup_fut = e.once(("oci-setup",), "oci", _oci_setup, self.opts)

        def shared(key, resource, fn, *args, **kwargs):
            # Namespace-wide reads: one request however many Services of the run need it.
            return e.once(key, "kubernetes", functools.partial(self._optional, resource, fn, *args, **kwargs))

        futs = {
            "endpoints": e.submit("kubernetes", self._optional, "endpoints", self.k.endpoints, ns, name),
            "slices": e.submit("kubernetes", self._optional, "endpointslices", self.k.endpoint_slices, ns, name),
            "nodes": shared(("nodes",), "nodes", self.k.nodes),
            "events": shared(("events", ns), "events", self.k.events, ns),
            "replicasets": shared(("replicasets", ns), "replicasets", self.k.replicasets, ns),
            "deployments": shared(("deployments", ns), "deployments", self.k.deployments, ns),
            "pvcs": shared(("pvcs", ns), "persistentvolumeclaims", self.k.pvcs, ns),
            "storageclasses": shared(("storageclasses",), "storageclasses", self.k.storage_classes),
            "namespace": shared(("namespace", ns), "namespaces", self.k.namespace, ns),
        }
        if ns != "default":
            # The kubelet posts node events in the default namespace.
            futs["nodeEvents"] = shared(("node-events",), "events", self.k.events, "default",
                                        field_selector="involvedObject.kind=Node")
        self.futs = futs
        e.once(("preload-httpx",), "live.internet", preload_httpx)
        if service is None:
            svc = self._service(e.submit("kubernetes", self.k.service, ns, name))
            if svc is None:
                return
        else:
            svc = service
            self.put("service", with_kind(svc, "v1", "Service"))
        e.submit("kubernetes", self._pods_phase, svc)
        self.lb_fut = e.submit("oci", self._oci_phase, svc)
        e.submit("live.internet", self._internet_phase, svc)

    def _service(self, fut) -> dict | None:
        """The Service, or a one-line error that names the context and cluster we asked."""
        try:
            svc = self.engine.result(fut)
        except TimeoutError:
            raise CollectionError(f"the API server {self.kt.server} did not answer within {self.opts.timeout:g}s "
                                  f"(context {self.kt.context!r}); check the network path or raise --timeout") from None
        except Unreachable as exc:
            raise CollectionError(
                f"cannot reach the Kubernetes API server {self.kt.server} (context {self.kt.context!r}): {exc}; "
                "check the VPN/bastion, the API endpoint's NSG, or the context") from None
        except Forbidden:
            self.note("kubernetes", "denied",
                      rbac_reason("services", self.target.namespace, f"Service {self.target.namespace}/"
                                  f"{self.target.service}"))
            return None
        except Gone:
            others = self.kt.other_contexts
            hint = f"; other contexts in the kubeconfig: {', '.join(others)} (pass --context)" if others else ""
            raise UsageError(
                f"service {self.target.namespace}/{self.target.service} not found in context {self.kt.context!r} "
                f"(cluster {self.kt.cluster}, server {self.kt.server}){hint}") from None
        self.put("service", svc)
        return svc

    def _optional(self, resource: str, fn, *args, **kwargs):
        """A read whose failure leaves a named gap instead of stopping the run."""
        # Without these the chain cannot be walked at all; the others only add detail.
        fact = "kubernetes" if resource in ("endpoints", "endpointslices", "nodes") else f"kubernetes.{resource}"
        try:
            return fn(*args, **kwargs)
        except Forbidden:
            self.note(fact, "denied", rbac_reason(resource, self.target.namespace, resource))
        except Gone:
            return None
        except Unreachable as exc:
            self.note(fact, "unavailable", f"reading {resource} failed: {exc}")
        return None

    # ---- pods, their config, logs and the probe -----------------------------------------
    def _pods_phase(self, svc: dict) -> None:
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector:
            self.put("pods", [])
            return
        sel = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        try:
            pods = self.k.pods(self.target.namespace, sel, depth=2)
        except Forbidden:
            self.note("kubernetes", "denied", rbac_reason("pods", self.target.namespace, "pods"))
            return
        except Unreachable as exc:
            self.note("kubernetes", "unavailable", f"listing pods failed: {exc}")
            return
        self.put("pods", pods)
        if not pods:  # the near-miss search compares the selector with the namespace's other pods
            self.engine.submit("kubernetes", self._other_pods, "namespacePods", [(self.target.namespace, None)])
        if any(unscheduled(p) for p in pods):  # what fills the nodes: every pod scheduled on them
            self.engine.submit("kubernetes", self._node_pods)
        self._config_refs(pods)
        for pod in pods:
            for c in (pod.get("spec") or {}).get("containers") or []:
                self.containers[f"{self.target.namespace}/{pod['metadata']['name']}/{c['name']}"] = {}
            self._logs(pod)
        if self.opts.no_exec:
            self.note("live.probe", "disabled", "--no-exec: the in-pod probe was not run")
        else:
            for pod in pods[:MAX_PROBED_PODS]:
                self.engine.submit("live.probe", self._probe_pod, svc, pod)

    def _other_pods(self, key: str, lists: list[tuple[str | None, str | None]]) -> None:
        """Pods beyond the selected ones, read only to compare or to sum, each list once per run
        (namespace, or node when the namespace is None). A refusal leaves them out (the checks then
        say the other pods were not collected) rather than skipping checks."""
        def read(ns: str | None, node: str | None) -> list[dict]:
            try:
                return self.k.pods(ns, None, 3) if ns is not None else self.k.node_pods(node or "", 3)
            except (Forbidden, Gone, BadRequest, Unreachable):
                return []

        futs = [self.engine.once(("other-pods", ns, node), "kubernetes", read, ns, node) for ns, node in lists]
        self.put(key, [p for fut in futs for p in self.engine.result(fut)])

    def _node_pods(self) -> None:
        nodes = self.engine.result(self.futs["nodes"]) or []
        self._other_pods("nodePods", [(None, n["metadata"]["name"]) for n in nodes])

    def _config_refs(self, pods: list[dict]) -> None:
        secrets, configmaps = set(), set()
        for pod in pods:
            s, c = referenced_config(pod)
            secrets |= s
            configmaps |= c
        ns = self.target.namespace
        for name in sorted(secrets):
            self.engine.submit("kubernetes", self._config_obj, "secrets", name,
                               lambda n=name: strip_secret_values(self.k.secret(ns, n, depth=3)))
        for name in sorted(configmaps):
            self.engine.submit("kubernetes", self._config_obj, "configmaps", name,
                               lambda n=name: strip_configmap_values(self.k.configmap(ns, n, depth=3)))

    def _config_obj(self, resource: str, name: str, read) -> None:
        obj = self._optional(resource, read)
        if obj is not None:
            obj.setdefault("apiVersion", "v1")
            obj.setdefault("kind", "Secret" if resource == "secrets" else "ConfigMap")
            with self.lock:
                self.kube.setdefault(resource, []).append(obj)

    def _logs(self, pod: dict) -> None:
        ns, name = self.target.namespace, pod["metadata"]["name"]
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        for c in (pod.get("spec") or {}).get("containers") or []:
            st = statuses.get(c["name"])
            if not st or not needs_logs(st):
                continue
            key = f"{ns}/{name}/{c['name']}"
            self.engine.once(("log", key, False), "live.containers", self._log, key, name, c["name"], False)
            if st.get("restartCount", 0) > 0 or (st.get("lastState") or {}).get("terminated"):
                self.engine.once(("log", key, True), "live.containers", self._log, key, name, c["name"], True)

    def _log(self, key: str, pod: str, container: str, previous: bool, depth: int = 3) -> None:
        try:
            text = self.k.log(self.target.namespace, pod, container, previous, depth=depth)
        except Forbidden:
            self.note("live.containers", "denied", rbac_reason("pods/log", self.target.namespace, "container logs"))
            return
        except (Gone, BadRequest):
            return  # no previous instance, or still waiting to start: nothing to read
        except Unreachable as exc:
            self.note("live.containers", "unavailable", f"reading logs failed: {exc}")
            return
        with self.lock:
            self.containers.setdefault(key, {})["previousLogs" if previous else "logs"] = redact(text)

    def _probe_pod(self, svc: dict, pod: dict) -> None:
        """Probe each Service port's target in the pod; the first probe of a container finds its tool."""
        if (pod.get("status") or {}).get("phase") != "Running":
            return
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        found: dict[str, tuple[str, int] | None] = {}
        for pt in probe_targets(pod, svc):
            st = statuses.get(pt.container)
            if not st or not (st.get("state") or {}).get("running"):
                continue
            if pt.container not in found:
                found[pt.container] = self._probe_first(pod, pt)
            elif found[pt.container]:
                tool, depth = found[pt.container]
                self.engine.submit("live.probe", self._probe_with, pod, pt, tool, depth + 1)

    def _probe_first(self, pod: dict, pt) -> tuple[str, int] | None:
        """Try the tools in TOOL_ORDER until one exists; record its answer; return (tool, depth)."""
        key = f"{self.target.namespace}/{pod['metadata']['name']}/{pt.container}"
        missing: list[str] = []
        for depth, tool in enumerate(TOOL_ORDER, start=3):
            try:
                res, answer = self._exec_probe(pod, pt, tool, depth)
            except (Forbidden, Unreachable):
                return None
            if res.missing_tool:
                missing.append(tool)
                continue
            with self.lock:
                entry = self.containers.setdefault(key, {})
                entry["tools"], entry["toolsMissing"] = [tool], missing
                entry.setdefault("localhost", {})[str(pt.port)] = answer
            self._follow_up(pod, pt, tool, depth, answer)
            return tool, depth
        with self.lock:
            entry = self.containers.setdefault(key, {})
            entry["tools"], entry["toolsMissing"] = [], missing
        return None

    def _probe_with(self, pod: dict, pt, tool: str, depth: int, follow: bool = True) -> None:
        key = f"{self.target.namespace}/{pod['metadata']['name']}/{pt.container}"
        try:
            _, answer = self._exec_probe(pod, pt, tool, depth)
        except (Forbidden, Unreachable):
            return
        with self.lock:
            self.containers.setdefault(key, {}).setdefault("localhost", {})[str(pt.port)] = answer
        if follow:
            self._follow_up(pod, pt, tool, depth, answer)

    def _follow_up(self, pod: dict, pt, tool: str, depth: int, answer: dict) -> None:
        """The app failed to answer (5xx, refused, timeout, reset): read the container's log, which the
        checks quote; when the port was refused, probe the ports the log says the app listens on."""
        if answer.get("error") not in ("refused", "timeout", "reset") and int(answer.get("status") or 0) < 500:
            return
        name = pod["metadata"]["name"]
        key = f"{self.target.namespace}/{name}/{pt.container}"
        fut = self.engine.once(("log", key, False), "live.containers", self._log, key, name, pt.container, False,
                               depth + 1)
        if answer.get("error") != "refused":
            return
        self.engine.result(fut)
        with self.lock:
            entry = self.containers.get(key) or {}
            probed = set(entry.get("localhost") or {})
            ports = [p for p in listening_ports(entry.get("logs")) if str(p) not in probed][:MAX_LOG_PORTS]
        for port in ports:
            self.engine.submit("live.probe", self._probe_with, pod, ProbeTarget(pt.container, port, "/"), tool,
                               depth + 2, False)

    def _exec_probe(self, pod: dict, pt, tool: str, depth: int):
        """One exec of one tool: (ExecResult, parsed answer); denials and failures are noted."""
        key = f"{self.target.namespace}/{pod['metadata']['name']}/{pt.container}"
        timeout = int(max(1, min(5, self.engine.remaining() - 0.5)))
        started = time.perf_counter()
        try:
            res = self.k.exec(self.target.namespace, pod["metadata"]["name"], pt.container,
                              argv_for(tool, pt.port, pt.path, timeout), timeout + 1, depth)
        except Forbidden:
            self.note("live.probe", "denied", rbac_reason("pods/exec", self.target.namespace, "pods/exec"))
            raise
        except Unreachable as exc:
            self.note("live.probe", "unavailable", f"exec into {key} failed: {exc}")
            raise
        answer = parse_probe(tool, res)
        answer.update(tool=tool, path=pt.path, elapsedMs=int((time.perf_counter() - started) * 1000))
        return res, answer

    # ---- OCI ----------------------------------------------------------------------------
    def _oci_phase(self, svc: dict) -> dict | None:
        """Find the LB/NLB, then fan out to its health, subnets and NSGs and to the workers' network."""
        setup = self.engine.result(self.oci_setup_fut)  # raises a UsageError/CollectionError from setup
        # What the cluster says of its region and compartment, known with or without OCI access.
        nodes = self.engine.result(self.futs["nodes"]) or []
        self.compartment = (svc["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION) or \
            first_truthy(n["metadata"].get("annotations", {}).get(COMPARTMENT_ANNOTATION) for n in nodes)
        self.region = self.region or first_truthy(n["metadata"].get("labels", {}).get(REGION_LABEL) for n in nodes)
        if isinstance(setup, oci_api.OciDisabled):
            self.note("oci", "disabled", str(setup))
            return None
        if isinstance(setup, Exception):
            self.note("oci", "unavailable", str(setup))
            return None
        self.nodes = nodes
        self.region = setup.region or self.region
        self.oci_setup = setup
        self.oci_used = True
        self.node_instances = [(n.get("spec") or {}).get("providerID", "") for n in nodes
                               if (n.get("spec") or {}).get("providerID", "").startswith("ocid1.instance")]
        self.reader = oci_api.OciReader(setup, region=self.region, endpoint=self.opts.oci_endpoint,
                                        timeout=min(15.0, max(1.0, self.opts.timeout)),
                                        on_request=lambda: self.engine.count("oci"))
        # Only a NodePort or LoadBalancer Service can have a load balancer to look for.
        exposed = (svc.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer")
        cluster_fut = self._cluster_compartment_future() if exposed else None
        for node in nodes:
            self.engine.once(("worker", node["metadata"]["name"]), "oci", self._guard, self._worker, node)
        if exposed:
            self._compartments(svc, nodes, cluster_fut)
        return self._guard(self._find_lb, svc)

    def _cluster_compartment_future(self):
        """ContainerEngine GetCluster, from the cluster OCID of the kubeconfig: the cluster's own compartment."""
        cluster = self.kt.cluster or ""
        if not cluster.startswith("ocid1.cluster") or self.opts.lb_ocid:
            return None  # --lb-ocid names the LB: no compartment to search
        return self.engine.once(("cluster", cluster), "oci", self._get_cluster, cluster)

    def _get_cluster(self, cluster: str) -> dict | str:
        """The Cluster body, or why it could not be read (a missing cluster compartment is not fatal)."""
        try:
            return self._oci(1, "ce", "/clusters/{clusterId}", {"clusterId": cluster})
        except oci_api.OciDenied as exc:
            return (f"GetCluster answered {exc.status} {exc.code or ''}: needs the IAM policy statement "
                    f"`{self.oci_setup.statement('ce', None, cluster)}`")
        except (oci_api.OciUnavailable, oci_api.OciNotFound) as exc:
            return f"GetCluster failed: {exc}"

    def _compartments(self, svc: dict, nodes: list[dict], cluster_fut) -> None:
        """The compartments to list LBs/NLBs in, each with where it came from (context.lbSearch)."""
        sources: dict[str, list[str]] = {}

        def add(compartment: str | None, source: str) -> None:
            if compartment and source not in sources.setdefault(compartment, []):
                sources[compartment].append(source)

        annotated = (svc["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION)
        add(annotated, "service-annotation")
        cluster_note = None
        if cluster_fut is not None:
            try:
                got = self.engine.result(cluster_fut)
            except TimeoutError:
                got = "GetCluster did not answer before the deadline"
            if isinstance(got, dict):
                add(got.get("compartmentId"), "cluster")
                if got.get("compartmentId") and self.cluster_body is None:
                    self.cluster_body = got
            else:
                cluster_note = got
        for node in nodes:
            add((node["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION), "node-annotation")
        for extra in self.opts.compartment_ids:
            add(extra, "--compartment-id")
        cluster_compartment = self.cluster_body.get("compartmentId") if self.cluster_body else None
        # The CCM lists in one compartment: the Service's annotation, else the cluster's.
        self.compartment = annotated or cluster_compartment or first_truthy(sources)
        self.lb_search = {"compartments": [{"id": c, "from": src} for c, src in sources.items()]}
        if cluster_note:
            self.lb_search["clusterCompartment"] = cluster_note

    def _oci(self, depth: int, service: str, path: str, params: dict | None = None, query: dict | None = None,
             listing: bool = False):
        self.engine.reach(depth)  # the reader counts each attempt, retries included
        if listing:
            return self.reader.list_all(service, path, params, query)
        return self.reader.get(service, path, params, query)[0]

    def _guard(self, fn, *args):
        """OCI errors become a denied/unavailable note on the `oci` fact; the collection goes on."""
        return self._guarded("oci", fn, *args)

    def _guard_aux(self, fn, *args):
        """Reads no check depends on (route tables): kept when readable, silently absent otherwise.

        OCI answers "not allowed" and "not there" alike (404), and a gap here must neither skip
        the OCI checks nor raise an access-denied finding for a read nothing needed.
        """
        try:
            return fn(*args)
        except (oci_api.OciDenied, oci_api.OciUnavailable, oci_api.OciNotFound, TimeoutError):
            return None

    def _guarded(self, fact: str, fn, *args):
        try:
            return fn(*args)
        except oci_api.OciDenied as exc:
            cluster = self.kt.cluster if self.kt.cluster.startswith("ocid1.cluster") else None
            stmt = self.oci_setup.statement(exc.service, self.compartment, cluster)
            self.note(fact, "denied", f"OCI answered {exc.status} {exc.code or ''} reading "
                      f"{oci_api.IAM_FAMILY[exc.service]}: needs the IAM policy statement `{stmt}`")
        except oci_api.OciUnavailable as exc:
            self.note(fact, "unavailable", str(exc))
        except oci_api.OciNotFound:
            pass
        except TimeoutError:
            pass  # the deadline: wait_all reports the fact as cut
        return None

    def _add(self, section: str, body: dict | list | None) -> None:
        if not body:
            return
        with self.lock:
            bodies = self.oci[section]
            for b in body if isinstance(body, list) else [body]:
                if not any(x.get("id") == b.get("id") for x in bodies):
                    bodies.append(b)

    def _find_lb(self, svc: dict) -> dict | None:
        meta = svc["metadata"]
        flavor = "nlb" if (meta.get("annotations") or {}).get(LB_TYPE_ANNOTATION, "").lower() == "nlb" else "lb"
        if self.opts.lb_ocid:
            flavor = "nlb" if self.opts.lb_ocid.startswith("ocid1.networkloadbalancer") else "lb"
            body = self._oci(2, flavor, *get_path(flavor, self.opts.lb_ocid))
            return self._fan_out(flavor, body, 3)
        svc_type = (svc.get("spec") or {}).get("type")
        if svc_type not in ("LoadBalancer", "NodePort"):
            return None  # no load balancer can send to it
        base = 2
        if not self.compartment:  # no annotation: the cluster's compartment is the workers' instances'
            ids = [n for n in self.node_instances if n]
            instance = self._instance(ids[0]) if ids else None
            self.compartment = (instance or {}).get("compartmentId")
            if self.compartment:
                self.lb_search = {"compartments": [{"id": self.compartment, "from": ["worker-instances"]}]}
            base = 3
        if not self.compartment:
            self.note("oci", "unavailable", "cannot tell the load balancer's compartment: neither the cluster "
                      f"(GetCluster), the Service nor the nodes name it ({COMPARTMENT_ANNOTATION}); pass "
                      "--compartment-id or --lb-ocid")
            return None
        uid, ns, name = meta.get("uid", ""), meta.get("namespace", ""), meta["name"]
        depth = base
        if svc_type == "LoadBalancer":  # the cloud controller manager's LB, by its name, where it makes it
            want = f"{ns}/{name}/{uid}" if flavor == "nlb" else uid
            listed = self._oci(base, flavor, list_path(flavor), None,
                               {"compartmentId": self.compartment, "displayName": want}, listing=True)
            match = [b for b in listed if ccm_name_matches(flavor, b.get("displayName", ""), ns, name, uid)]
            if match:
                self._searched("display-name")
                return self._fan_out(flavor, match[0], base + 1, refetch=(flavor == "nlb"))
            depth = base + 1
        return self._search(svc, ns, name, uid, depth)

    def _searched(self, found_by: str | None) -> None:
        with self.lock:
            if self.lb_search is not None:
                self.lb_search["foundBy"] = found_by

    def _lists(self, depth: int) -> tuple[list[dict], list[dict]]:
        """Every LB and NLB of the searched compartments, listed once per run (shared by a fleet report:
        each list holds every LB with all its backends, tens of MB for 300 NLBs)."""
        comps = [c["id"] for c in (self.lb_search or {}).get("compartments") or []] or [self.compartment]
        futs = {(f, c): self.engine.once(("lb-list", f, c), "oci", self._guard, self._oci, depth, f,
                                         list_path(f), None, {"compartmentId": c}, True)
                for c in comps for f in ("nlb", "lb")}
        got: dict[str, list[dict]] = {"nlb": [], "lb": []}
        for (f, _), fut in futs.items():
            seen = {b.get("id") for b in got[f]}
            got[f] += [b for b in self.engine.result(fut) or [] if b.get("id") not in seen]
        return got["nlb"], got["lb"]

    def _search(self, svc: dict, ns: str, name: str, uid: str, depth: int) -> dict | None:
        """No LB by the CCM's name: list both kinds in every compartment; match the name loosely or the
        ingress IP, else by backends (this cluster's nodes on this Service's, or a stale, NodePort)."""
        # The cluster's Services tell a stale NodePort from another Service's (NodePorts are cluster-wide).
        services_fut = None
        if self.cluster_services is None:
            services_fut = self.engine.once(("services", None), "kubernetes", functools.partial(
                self._optional, "services", self.k.services, None, depth))
        nlbs, lbs = self._lists(depth)
        ips = {i.get("ip") for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []}
        ips.discard(None)
        for f, bodies in (("nlb", nlbs), ("lb", lbs)):
            for body in bodies:
                addrs = {a.get("ipAddress") for a in body.get("ipAddresses") or []}
                by_name = ccm_name_matches(f, body.get("displayName", ""), ns, name, uid)
                if by_name or (ips & addrs):
                    self._searched("display-name" if by_name else "ingress-ip")
                    return self._fan_out(f, body, depth + 1, refetch=(f == "nlb"))
        services = self.cluster_services
        if services_fut is not None:
            try:
                services = self.engine.result(services_fut)
            except TimeoutError:
                services = None
        if services is None:
            services = [svc]  # without them a stale NodePort cannot be told from another Service's
        others = [with_kind(s, "v1", "Service") for s in services
                  if node_ports(s) and (s["metadata"].get("namespace"), s["metadata"]["name"]) != (ns, name)]
        found = search_by_backends(svc, others + [svc], self.nodes, nlbs, lbs)
        if not found.matches and needs_worker_subnets(svc, self.nodes, nlbs, lbs):
            # Backends on this Service's NodePort that are no node: were they nodes (replaced by an
            # upgrade)? The workers' subnets say; they are read for the diagnosis anyway.
            found = search_by_backends(svc, others + [svc], self.nodes, nlbs, lbs, self._worker_cidrs(depth))
        chosen = found.matches[0] if found.matches else None
        # What the search decided from, so that --from the snapshot decides the same: every LB/NLB
        # sending to this cluster's nodes (list bodies: no read per LB), and the Services with NodePorts.
        for f, bodies in (("nlb", nlbs), ("lb", lbs)):
            for body in bodies:
                if body.get("id") in found.cluster_lbs and (chosen is None or body.get("id") != chosen.id):
                    self._add(section_of(f), body)
        if found.cluster_lbs:
            self.put("otherServices", others)
        self._searched("backends" if chosen else None)
        if chosen is None:
            return None
        return self._fan_out(chosen.flavor, chosen.body, depth + 1, refetch=(chosen.flavor == "nlb"))

    def _worker_cidrs(self, depth: int) -> list[str]:
        """The CIDRs of the workers' subnets, from the worker reads (waited for, not repeated)."""
        for node in self.nodes:
            fut = self.engine.once(("worker", node["metadata"]["name"]), "oci", self._guard, self._worker, node)
            try:
                self.engine.result(fut)
            except TimeoutError:
                return []
        with self.lock:
            mine = set(self.node_instances)
            sids = list(dict.fromkeys(a["subnetId"] for a in self.oci["vnicAttachments"]
                                      if a.get("instanceId") in mine and a.get("subnetId")))
        cidrs: list[str] = []
        for sid in sids:
            subnet = self._guard(self.engine.shared, ("subnet", sid), self._oci, depth, "vcn", "/subnets/{subnetId}",
                                 {"subnetId": sid})
            cidrs += [c for c in ((subnet or {}).get("ipv4CidrBlocks") or [(subnet or {}).get("cidrBlock")]) if c]
        return cidrs

    def _fan_out(self, flavor: str, body: dict, depth: int, refetch: bool = False) -> dict:
        e = self.engine
        self.lb_depth = depth
        lb_id = body["id"]
        if refetch:  # a list gives summaries: store the full body, fetched beside the fan-out
            e.submit("oci", self._guard, lambda: self._add(section_of(flavor),
                                                           self._oci(depth, flavor, *get_path(flavor, lb_id))))
        else:
            self._add(section_of(flavor), body)
        for bs_name, bs in (body.get("backendSets") or {}).items():
            e.submit("oci", self._guard, self._backend_set, flavor, lb_id, bs_name, bs, depth)
        subnet_ids = [body["subnetId"]] if body.get("subnetId") else list(body.get("subnetIds") or [])
        for sid in subnet_ids:
            e.submit("oci", self._guard, self._subnet, sid, depth, True)
        for nsg in body.get("networkSecurityGroupIds") or []:
            self._nsg(nsg, depth)
        return body

    def _backend_set(self, flavor: str, lb_id: str, bs_name: str, bs: dict, depth: int) -> None:
        base = get_path(flavor, lb_id)[0]
        health = self._oci(depth, flavor, base + "/backendSets/{backendSetName}/health",
                           {**get_path(flavor, lb_id)[1], "backendSetName": bs_name})
        with self.lock:
            self.oci["backendSetHealth"][f"{lb_id}/{bs_name}"] = health
        if (health or {}).get("status") == "OK":
            return
        for backend in bs.get("backends") or []:
            self.engine.submit("oci", self._guard, self._backend, flavor, lb_id, bs_name, backend["name"], depth + 1)

    def _backend(self, flavor: str, lb_id: str, bs_name: str, backend: str, depth: int) -> None:
        base, params = get_path(flavor, lb_id)
        health = self._oci(depth, flavor, base + "/backendSets/{backendSetName}/backends/{backendName}/health",
                           {**params, "backendSetName": bs_name, "backendName": backend})
        with self.lock:
            self.oci["backendHealth"][f"{lb_id}/{bs_name}/{backend}"] = health

    def _subnet(self, sid: str, depth: int, with_routes: bool) -> None:
        subnet = self.engine.shared(("subnet", sid), self._oci, depth, "vcn", "/subnets/{subnetId}",
                                    {"subnetId": sid})
        if not subnet:
            return
        self._add("subnets", subnet)
        for sl in subnet.get("securityListIds") or []:
            self.engine.once(("seclist", sl), "oci", self._guard, self._fetch_into, "securityLists", depth + 1,
                             "/securityLists/{securityListId}", {"securityListId": sl})
        if with_routes and subnet.get("routeTableId"):
            rt = subnet["routeTableId"]
            self.engine.once(("rt", rt), "oci", self._guard_aux, self._fetch_into, "routeTables", depth + 1,
                             "/routeTables/{rtId}", {"rtId": rt})

    def _fetch_into(self, section: str, depth: int, path: str, params: dict) -> None:
        self._add(section, self._oci(depth, "vcn", path, params))

    def _nsg(self, nsg: str, depth: int) -> None:
        self.engine.once(("nsg", nsg), "oci", self._guard, self._fetch_into, "networkSecurityGroups", depth,
                         "/networkSecurityGroups/{networkSecurityGroupId}", {"networkSecurityGroupId": nsg})
        self.engine.once(("nsgrules", nsg), "oci", self._guard, self._nsg_rules, nsg, depth)

    def _nsg_rules(self, nsg: str, depth: int) -> None:
        rules = self._oci(depth, "vcn", "/networkSecurityGroups/{networkSecurityGroupId}/securityRules",
                          {"networkSecurityGroupId": nsg}, None, listing=True)
        with self.lock:
            self.oci["networkSecurityGroupRules"][nsg] = rules

    def _worker(self, node: dict) -> None:
        """The worker's instance, VNICs, subnet and NSGs, from its providerID."""
        instance_id = (node.get("spec") or {}).get("providerID", "")
        if not instance_id.startswith("ocid1.instance"):
            return
        compartment = (node["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION)
        depth = 2
        if compartment:
            self.engine.submit("oci", self._guard, self._instance, instance_id)
        else:  # the instance names the compartment the attachments are listed in
            instance = self._instance(instance_id)
            compartment = (instance or {}).get("compartmentId")
            depth = 3
            if not compartment:
                return
        attachments = self._oci(depth, "compute", "/vnicAttachments", None,
                                {"compartmentId": compartment, "instanceId": instance_id}, listing=True)
        self._add("vnicAttachments", attachments)
        for att in attachments:
            if att.get("lifecycleState") not in (None, "ATTACHED"):
                continue
            if att.get("subnetId"):
                self.engine.submit("oci", self._guard, self._subnet, att["subnetId"], depth + 1, False)
            self.engine.submit("oci", self._guard, self._vnic, att["vnicId"], depth + 1)

    def _instance(self, instance_id: str) -> dict | None:
        """The worker's instance; read once, whether the LB lookup or the worker asks first."""
        instance = self.engine.shared(("instance", instance_id), self._oci, 2, "compute", "/instances/{instanceId}",
                                      {"instanceId": instance_id})
        self._add("instances", instance)
        return instance

    def _vnic(self, vnic_id: str, depth: int) -> None:
        vnic = self._oci(depth, "vcn", "/vnics/{vnicId}", {"vnicId": vnic_id})
        self._add("vnics", vnic)
        for nsg in (vnic or {}).get("nsgIds") or []:
            self._nsg(nsg, depth + 1)

    # ---- the internet -------------------------------------------------------------------
    def _internet_phase(self, svc: dict) -> None:
        try:
            lb = self.engine.result(self.lb_fut)
        except Exception:  # the OCI phase reports its own failure; probe what the Service says
            lb = None
        addresses = internet_addresses(svc, lb)
        if addresses is None:
            self.note("live.internet", "disabled", "the load balancer is private: it is not probed from the internet")
            self.internet = {}
            return
        results: dict[str, Any] = {}
        futs = {}
        for addr, tls in addresses:
            if self.redirect is not None and addr not in self.redirect:
                continue  # safety: with a redirect map, nothing outside it is contacted
            futs[addr] = self.engine.submit("live.internet", self._probe_internet, addr, tls)
        if addresses and not futs:
            return  # none may be contacted: not observed (no `live.internet`), as a file without them says
        for addr, fut in futs.items():
            res = self.engine.result(fut)
            if res is not None:
                results[addr] = res
        self.internet = results

    def _probe_internet(self, addr: str, tls: bool):
        self.engine.hit("internet", self.lb_depth)
        return probe_address(addr, min(3.0, max(0.2, self.engine.remaining() - 0.2)), self.redirect, tls)

    # ---- the result ---------------------------------------------------------------------
    def snapshot(self, cut: list[str]) -> Snapshot:
        for fact in cut:
            self.note(fact if fact in ("kubernetes", "oci", "live.containers", "live.probe", "live.internet")
                      else "kubernetes", "unavailable",
                      f"not read within the {self.opts.timeout:g}s deadline (--timeout)")
        for key, fut in self.futs.items():
            if key != "service" and fut.done() and not fut.cancelled() and fut.exception() is None:
                self.put(key, fut.result())
        with self.lock:
            kube = dict(self.kube)
            oci = {k: (list(v) if isinstance(v, list) else dict(v)) for k, v in self.oci.items()}
            containers = {k: dict(v) for k, v in self.containers.items()}
            internet = dict(self.internet) if self.internet is not None else None
            collection = {k: dict(v) for k, v in self.collection.items()}
        objects = [scrub_object(o) for o in assemble_kubernetes(kube, self.target)]
        live: dict[str, Any] = {}
        if "pods" in kube and "live.containers" not in collection or "pods" in kube:
            live["containers"] = containers
        if internet is not None:
            live["internet"] = internet
        now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        context = {"kubeContext": self.kt.context, "server": self.kt.server, "cluster": self.kt.cluster}
        if self.region:
            context["region"] = self.region
        if self.compartment:
            context["compartmentId"] = self.compartment
        if self.lb_search is not None and not self.opts.lb_ocid:
            context["lbSearch"] = dict(self.lb_search)
        if self.cluster_body is not None and self.oci_used:
            oci["clusters"] = [self.cluster_body]
        target = {"namespace": self.target.namespace, "service": self.target.service}
        if self.opts.lb_ocid:
            target["lbOcid"] = self.opts.lb_ocid
        return Snapshot(
            kind="Snapshot",
            metadata={"name": f"{self.target.namespace}-{self.target.service}", "capturedAt": now,
                      "collectedBy": f"okedoctor {__version__}"},
            context=context,
            target=target,
            kubernetes=objects,
            oci=oci if self.oci_used else None,
            live=live,
            collection=collection,
        )
