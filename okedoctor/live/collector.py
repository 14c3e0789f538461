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

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from okedoctor.errors import CollectionError, UsageError
from okedoctor.facts import KUBERNETES, LIVE_INTERNET, OCI
from okedoctor.frozen import thaw
from okedoctor.live.collectors.assemble import assemble, shared_nodes
from okedoctor.live.collectors.containers import ContainerCollector
from okedoctor.live.collectors.internet import InternetCollector
from okedoctor.live.collectors.kube import KubeCollector
from okedoctor.live.collectors.ocirun import OciCollector
from okedoctor.live.collectors.state import RunEngine, RunState, reported_fact
from okedoctor.live.collectors.wires import REAL, Wires
from okedoctor.live.collectors.wires import oci_setup as _oci_setup
from okedoctor.live.engine import Engine
from okedoctor.live.kube import KubeTarget, RbacRule, rbac_reason, resolve_kube_target
from okedoctor.live.kube_reads import Forbidden, Gone, KubeReads, KubeWire, Unreachable
from okedoctor.live.shapes import merge_snapshots, preload_httpx, with_kind
from okedoctor.model import Target
from okedoctor.options import LiveOptions
from okedoctor.snapshot import Snapshot

__all__ = ["CollectResult", "FleetResult", "_oci_setup", "collect", "collect_fleet", "list_services"]


@dataclass
class CollectResult:
    snapshot: Snapshot
    target: Target
    stats: dict[str, Any] = field(default_factory=dict)


Watch = Callable[[Engine], object]


def collect(target: Target, opts: LiveOptions, wires: Wires = REAL, watch: Watch | None = None,
            while_waiting: Callable[[], object] | None = None) -> CollectResult:
    """Read every fact the checks need for `target`; see the module docstring for the plan.

    `watch` is handed the engine before the first request, to show progress as tasks end.
    `while_waiting` runs in this thread once every first request is out and the OCI setup and the
    internet probe's httpx are imported (all need the CPU first: the reads wait for them), while
    the answers are awaited."""
    kt = resolve_kube_target(opts.kubeconfig, opts.context, opts.expect_context)
    ns = opts.namespace or kt.namespace or "default"
    tgt = Target(ns, target.service)
    engine = Engine(opts.timeout)
    if watch is not None:
        watch(engine)
    try:
        wire = _open(kt, engine, opts, wires)
        run = _Run(kt, tgt, opts, engine, wires)
        run.start(wire)
        if while_waiting is not None:
            _settled(engine, engine.once(("oci-setup",), OCI, wires.oci_setup, opts))
            # httpx before the checks: a probe that starts when the LB is found waits for its import.
            _settled(engine, engine.once(("preload-httpx",), LIVE_INTERNET, preload_httpx))
            while_waiting()
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
                  all_namespaces: bool = False, wires: Wires = REAL, watch: Watch | None = None) -> FleetResult:
    """One shared collection pass over every exposed Service of a namespace (or of all).

    Namespace-wide reads (nodes, events, ReplicaSets, Deployments, PVCs...), the workers'
    network and OCI objects are read once however many Services use them.
    """
    kt = resolve_kube_target(opts.kubeconfig, opts.context, opts.expect_context)
    scope = None if all_namespaces else (namespace or opts.namespace or kt.namespace or "default")
    engine = Engine(opts.timeout)
    if watch is not None:
        watch(engine)
    try:
        wire = _open(kt, engine, opts, wires)
        k = KubeReads(wire, engine, kt)
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
                run = _Run(kt, tgt, opts, engine, wires)
                run.state.fleet = True
                if scope is None:
                    run.state.cluster_services = services  # the search by backends needs no second list
                run.start(wire, service=svc)
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


def _open(kt: KubeTarget, engine: Engine, opts: LiveOptions, wires: Wires) -> KubeWire:
    """The Kubernetes wire, with the OCI setup started alongside its credential plugin."""
    if wires.kube is REAL.kube:
        # Importing the kubernetes client is CPU work that OCI's imports would only slow down;
        # the OCI setup then overlaps the credential plugin's run, which waits on a subprocess.
        from okedoctor.live.kube import lean_kubernetes

        lean_kubernetes()
        import kubernetes.client.api_client  # noqa: F401
        import kubernetes.config  # noqa: F401

    engine.once(("oci-setup",), OCI, wires.oci_setup, opts)
    # Loading the kubeconfig runs its credential plugin (`oci ce cluster generate-token`), which
    # the client waits for without a timeout: wait for it no longer than the deadline.
    try:
        return engine.result(engine.submit(KUBERNETES, wires.kube, kt))
    except TimeoutError:
        raise CollectionError(f"the kubeconfig's credentials for context {kt.context!r} were not ready within "
                              f"{opts.timeout:g}s (its exec credential plugin did not finish); run the plugin "
                              "by hand, or raise --timeout") from None


def _settled(engine: Engine, fut) -> None:
    """Wait for `fut` however it ends: what it raises is the OCI phase's to report."""
    with contextlib.suppress(Exception):
        engine.result(fut)


def _finish(engine: Engine, runs: list[_Run], fleet: bool = False) -> Snapshot:
    engine.wait_all()
    for fact, exc in engine.errors():
        if isinstance(exc, UsageError | CollectionError):
            raise exc
        if not isinstance(exc, TimeoutError):
            runs[0].note(reported_fact(fact), "unavailable",
                         f"internal error while reading: {type(exc).__name__}: {exc}")
    snaps = [run.snapshot() for run in runs]
    if not fleet:
        return snaps[0]
    merged = merge_snapshots(snaps)
    # Shared by every Service, so left out of each one's snapshot (see assemble_kubernetes).
    merged.kubernetes.extend(shared_nodes(runs[0].state))
    return merged


def _empty_fleet(kt: KubeTarget, services: list[dict]) -> Snapshot:
    return Snapshot(kind="Snapshot", metadata={"name": "fleet"},
                    context={"kubeContext": kt.context, "server": kt.server, "cluster": kt.cluster},
                    kubernetes=[with_kind(s, "v1", "Service") for s in services])


class _Run:
    """One Service's collection: its state, and a collector per source reading into it."""

    def __init__(self, kt: KubeTarget, target: Target, opts: LiveOptions, engine: Engine, wires: Wires):
        self.state = RunState(kt, target, opts, RunEngine(engine))
        self.wires = wires

    def note(self, fact: str, kind: str, reason: str) -> None:
        self.state.note(fact, kind, reason)

    def start(self, wire: KubeWire, service: dict | None = None) -> None:
        """Submit the reads; `service` is given when a fleet listing already read it."""
        s, e = self.state, self.state.engine
        reads = KubeReads(wire, e, s.kt)
        kube = KubeCollector(s, reads)
        setup_fut = e.once(("oci-setup",), OCI, self.wires.oci_setup, s.opts)
        if service is None:
            kube.request_service()
        kube.start()
        if service is None:
            svc = kube.service()
            if svc is None:
                return
        else:
            svc = thaw(service)  # the URL walk read it through Facts, whose objects are read-only
            s.put("service", with_kind(svc, "v1", "Service"))
        e.submit(KUBERNETES, self._pods, kube, ContainerCollector(s, reads), svc)
        internet = InternetCollector(s, self.wires.internet)
        if not internet.start_early(svc):
            # Nothing to probe before the LB is found: httpx (CPU work) is imported once the OCI
            # setup (the CPU work the LB lookup waits for) is done, during the lookup's round
            # trips, not in competition with it. An early probe imports it itself, at once.
            setup_fut.add_done_callback(lambda _: e.once(("preload-httpx",), LIVE_INTERNET, preload_httpx))
        lb_fut = e.submit(OCI, OciCollector(s, self.wires, kube, setup_fut).run, svc)
        e.submit(LIVE_INTERNET, internet.run, svc, lb_fut)

    @staticmethod
    def _pods(kube: KubeCollector, containers: ContainerCollector, svc: dict) -> None:
        pods = kube.pods(svc)
        if pods is not None:
            containers.start(svc, pods)

    def snapshot(self) -> Snapshot:
        return assemble(self.state)


def list_services(opts: LiveOptions, namespace: str | None, wires: Wires = REAL) -> list[tuple[str, str]]:
    """(name, spec.type) of the Services in a namespace (the context's when None): for shell
    completion and hints, one request within `opts.timeout`, nothing else read."""
    kt = resolve_kube_target(opts.kubeconfig, opts.context, opts.expect_context)
    wire = wires.kube(kt)  # the client's import and setup are CPU work, not the API's time
    engine = Engine(opts.timeout, from_command_start=False)
    try:
        k = KubeReads(wire, engine, kt)
        items = engine.result(engine.submit(KUBERNETES, k.services, namespace or kt.namespace or "default"))
    finally:
        engine.close()
    return [(o["metadata"]["name"], str((o.get("spec") or {}).get("type") or "ClusterIP")) for o in items]
