"""Live collection for a URL: resolve the name, find the Service whose LB holds the address, follow
the ingress rule to the backend Service, and collect both Services as a Service diagnosis does.

Round trips, dependent ones in order: (1) every Service, the Ingresses, IngressClasses,
HTTPRoutes and Gateways, one list each, together; (2) the edge Service's pods (is it an ingress controller?),
or, when the address is the OCI Native Ingress Controller's LB (no Service holds it), the
IngressClassParameters its class names, the backend Service then collected with that LB;
(3) the two Services' own collections side by side, plus the Ingress's TLS Secret, the probe
of the URL itself (its certificate with the host as SNI, its answer for the Host) and the
ingress controller's warning and error log lines (what it refused). The result is the
Snapshot a file with `target.url` holds (docs/snapshot-format.md).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import replace
from typing import Any

from okedoctor.chain import native as nat
from okedoctor.chain import route as routes
from okedoctor.chain.admission import problem_lines
from okedoctor.chain.ingress import route_url
from okedoctor.errors import CollectionError, UsageError
from okedoctor.facts import KIND_FACTS, KUBERNETES, LIVE_CONTAINERS, LIVE_INTERNET, OCI, Facts
from okedoctor.kube import pod_ready
from okedoctor.live.collector import CollectResult, _finish, _open, _Run
from okedoctor.live.collectors.lbfind import REGION_LABEL
from okedoctor.live.collectors.oci import COMPARTMENT_ANNOTATION
from okedoctor.live.collectors.wires import REAL, Wires
from okedoctor.live.engine import INTERNET_API, Engine
from okedoctor.live.internet import parse_redirect, probe_url
from okedoctor.live.kube import rbac_reason, resolve_kube_target, scrub_object, strip_secret_values
from okedoctor.live.kube_reads import BadRequest, Forbidden, Gone, KubeReads, Unreachable, list_items
from okedoctor.live.redact import redact
from okedoctor.live.resolve import resolve
from okedoctor.live.shapes import first_truthy, with_kind
from okedoctor.model import Target
from okedoctor.options import LiveOptions
from okedoctor.snapshot import Snapshot
from okedoctor.urls import Url, parse_url

CA_ENV = "OKEDOCTOR_INTERNET_CA"
CONTROLLER_LOG_PODS = 3  # the controller's replicas whose logs are read: they run the same configuration
_LISTS = (  # (path, apiVersion, kind, required)
    ("/api/v1/services", "v1", "Service", True),
    ("/apis/networking.k8s.io/v1/ingresses", "networking.k8s.io/v1", "Ingress", False),
    ("/apis/networking.k8s.io/v1/ingressclasses", "networking.k8s.io/v1", "IngressClass", False),
    ("/apis/gateway.networking.k8s.io/v1/httproutes", "gateway.networking.k8s.io/v1", "HTTPRoute", False),
    # Listed with the routes, not after them: what the controller said of each Gateway and listener.
    ("/apis/gateway.networking.k8s.io/v1/gateways", "gateway.networking.k8s.io/v1", "Gateway", False),
)
_WALKED = ("Service", "Ingress", "IngressClass", "HTTPRoute", "Gateway")


def collect_url(target: Target, opts: LiveOptions, wires: Wires = REAL) -> CollectResult:
    """A URL, or an Ingress/HTTPRoute (`target.route`) walked by the URL of its first host rule."""
    kt = resolve_kube_target(opts.kubeconfig, opts.context, opts.expect_context)
    engine = Engine(opts.timeout)
    try:
        wire = _open(kt, engine, opts, wires)
        k = KubeReads(wire, engine, kt)
        url = parse_url(target.url or _route_url(k, target))
        answers = resolve(url.host)
        listed = _lists(k, engine)
        base = _provisional(kt.context, url, answers, listed)
        walk, edge_pods = _walk(k, base, listed)
        runs = []
        for svc in (walk.edge, walk.backend if walk.stop is None else None):
            if svc is None or any(r.state.target == _target(svc) for r in runs):
                continue
            # Behind the native controller's LB the backend's run reads that LB (its backend sets
            # send to the pods), as --lb-ocid does for an LB made by hand.
            run_opts = replace(opts, lb_ocid=walk.lb_id) if walk.lb_id and svc is walk.backend else opts
            run = _Run(kt, _target(svc), run_opts, engine, wires)
            run.state.cluster_services = listed["Service"]
            run.start(wire, service=svc)
            runs.append(run)
        extra = engine.submit(KUBERNETES, _tls_secrets, k, walk)
        probe = engine.submit(LIVE_INTERNET, _probe, engine, opts, walk) if walk.address else None
        logs = engine.submit(LIVE_CONTAINERS, _controller_logs, k, edge_pods) if walk.controller else None
        snapshot = _finish(engine, runs, fleet=True) if runs else _bare(kt, k, engine, opts, wires)
        if runs:
            # The runs count their depths from their Service, which the walk's two round trips
            # (the lists, then the edge's pods) preceded: the longest chain is theirs plus two.
            engine.reach(engine.chain + 2)
        if target.route:
            engine.reach(engine.chain + 1)  # the Ingress/HTTPRoute was read before anything else
        snapshot = _complete(snapshot, url, answers, listed, engine.result(extra),
                             engine.result(probe) if probe else None, walk)
        # What the walk itself read beyond the lists: the native class's parameters, or why not.
        snapshot.kubernetes += [o for o in base.kubernetes if o.get("kind") == nat.PARAMS_KIND]
        snapshot.collection.update(base.collection)
        if logs is not None:
            _merge_logs(snapshot, engine.result(logs))
    finally:
        engine.close()
    found = Target(target.namespace, "", url=url.text, route=target.route) if target.route else \
        Target("", "", url=url.text)
    return CollectResult(snapshot=snapshot, target=found, stats=engine.stats())


_ROUTE_PATHS = {"ingress": ("/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}",
                            "networking.k8s.io/v1", "Ingress"),
                "httproute": ("/apis/gateway.networking.k8s.io/v1/namespaces/{namespace}/httproutes/{name}",
                              "gateway.networking.k8s.io/v1", "HTTPRoute")}


def _route_url(k: KubeReads, target: Target) -> str:
    """The URL of the Ingress's (HTTPRoute's) first host rule, as a file's `ingress/NAME` takes it."""
    kind, _, name = (target.route or "").partition("/")
    path, api, kind_name = _ROUTE_PATHS[kind]
    where = f"{kind_name} {target.namespace}/{name}"
    try:
        obj = with_kind(k.get(1, path, {"namespace": target.namespace, "name": name}), api, kind_name)
    except Gone:
        raise UsageError(f"{where} does not exist (or its API is not installed)") from None
    except Forbidden:
        resource = "ingresses" if kind == "ingress" else "httproutes"
        raise CollectionError(rbac_reason(resource, target.namespace, where)) from None
    except Unreachable as exc:
        raise CollectionError(f"cannot reach the Kubernetes API server: {exc}") from None
    url = route_url(obj)
    if url is None:
        raise UsageError(f"{where} has no rule naming a host: diagnose its URL")
    return url


def _target(svc: dict) -> Target:
    return Target(svc["metadata"].get("namespace") or "default", svc["metadata"]["name"])


_GATEWAYS_DENIED = "Gateway:denied"


def _lists(k: KubeReads, engine: Engine) -> dict[str, list[dict]]:
    futs = {kind: engine.submit(KUBERNETES, _list, k, path, api, kind, required)
            for path, api, kind, required in _LISTS}
    out: dict[str, list[dict]] = {}
    for kind, fut in futs.items():
        items = engine.result(fut)
        if items is None:  # denied, and the checks must know it (the Gateways)
            out[kind], out[_GATEWAYS_DENIED] = [], [{}]
        else:
            out[kind] = items
    return out


def _list(k: KubeReads, path: str, api: str, kind: str, required: bool) -> list[dict] | None:
    try:
        return [with_kind(o, api, kind) for o in list_items(k.get(1, path))]
    except Gone:
        return []  # the API group is not installed (no Gateway API): nothing of that kind exists
    except Forbidden:
        if required:
            raise CollectionError(rbac_reason("allservices", None, "Services") + "; a URL is found by them") from None
        return None if kind == "Gateway" else []
    except Unreachable as exc:
        if required:
            raise CollectionError(f"cannot reach the Kubernetes API server: {exc}") from None
        return []


def _provisional(context: str, url: Url, answers: list[str], listed: dict[str, list[dict]]) -> Snapshot:
    objects = [o for kind in _WALKED for o in listed[kind]]
    snap = Snapshot(kind="Snapshot", metadata={"name": url.host}, context={"kubeContext": context},
                    target={"url": url.text}, kubernetes=objects, live={"dns": {url.host: answers}})
    if listed.get(_GATEWAYS_DENIED):
        # The Gateway checks then say they ran without the Gateways: the ingress hop is unknown, not ok.
        snap.collection[KIND_FACTS["Gateway"]] = {"kind": "denied", "reason": rbac_reason("gateways", None, "Gateways")}
    return snap


def _walk(k: KubeReads, base: Snapshot, listed: dict[str, list[dict]]) -> tuple[routes.Walk, list[dict]]:
    """The walk over what was listed, with the edge Service's pods read to recognise a controller
    (or, behind the native controller's LB, its IngressClassParameters: the same round trip)."""
    facts = Facts(base, Target("", "", url=base.target["url"]))
    first = routes.walk(facts)
    assert first is not None
    if first.native_class is not None:
        _native_parameters(k, first.native_class, base)
        return first, []
    if first.edge is None:
        return first, []
    meta, selector = first.edge["metadata"], (first.edge.get("spec") or {}).get("selector") or {}
    pods: list[dict] = []
    if selector:
        try:
            pods = k.pods(meta.get("namespace") or "default",
                          ",".join(f"{a}={b}" for a, b in selector.items()), 2)
        except (Forbidden, Gone, Unreachable):
            pods = []
    with_pods = Snapshot(kind="Snapshot", metadata=base.metadata, context=base.context, target=base.target,
                         kubernetes=[*base.kubernetes, *(with_kind(p, "v1", "Pod") for p in pods)], live=base.live)
    final = routes.walk(Facts(with_pods, Target("", "", url=base.target["url"])))
    assert final is not None
    return final, pods


def _controller_logs(k: KubeReads, pods: list[dict]) -> dict[str, str]:
    """The warning and error lines of the controller's logs, redacted, per `ns/pod/container`: what it
    refused (OKD-ING-006). Its access log (clients' addresses and paths) is not kept. Extra evidence,
    read once without retries: a log that cannot be read leaves the key out, as in a file without it."""
    out: dict[str, str] = {}
    ready_first = sorted(pods, key=lambda p: not pod_ready(p))[:CONTROLLER_LOG_PODS]
    for pod in ready_first:
        ns, name = pod["metadata"].get("namespace") or "default", pod["metadata"]["name"]
        for c in (pod.get("spec") or {}).get("containers") or []:
            try:
                text = k.log(ns, name, c["name"], False, 3, attempts=1)
            except (Forbidden, Gone, BadRequest, Unreachable):
                continue
            lines = problem_lines(redact(text))
            if lines:
                out[f"{ns}/{name}/{c['name']}"] = "\n".join(lines) + "\n"
    return out


def _merge_logs(snap: Snapshot, logs: dict[str, str]) -> None:
    """The controller's lines join its containers' entries, unless its Service's run read the whole log."""
    containers = snap.live.setdefault("containers", {})
    for key, text in logs.items():
        containers.setdefault(key, {}).setdefault("logs", text)


def _native_parameters(k: KubeReads, cls: dict, snap: Snapshot) -> None:
    """The IngressClassParameters the native class names, into the snapshot; a denied read, or the
    CRD not installed, as a `collection` gap (the checks that read them are then unknown)."""
    ref = nat.parameters_ref(cls)
    if ref is None:
        return
    ns, name = ref
    path = f"/apis/{nat.PARAMS_GROUP}/{nat.PARAMS_VERSION}/namespaces/{{namespace}}/{nat.PARAMS_PLURAL}/{{name}}"
    fact = KIND_FACTS[nat.PARAMS_KIND]
    try:
        obj = k.get(2, path, {"namespace": ns or "default", "name": name})
    except Forbidden:
        snap.collection[fact] = {"kind": "denied", "reason": rbac_reason(nat.PARAMS_PLURAL, ns or "default",
                                                                          "IngressClassParameters")}
        return
    except Gone as exc:
        if "could not find the requested resource" in str(exc):
            snap.collection[fact] = {"kind": "unavailable", "reason": (
                f"the {nat.PARAMS_KIND} CRD ({nat.PARAMS_GROUP}/{nat.PARAMS_VERSION}) is not installed")}
        return  # the object does not exist: what OKD-NIC-005 reports
    except Unreachable as exc:
        snap.collection[fact] = {"kind": "unavailable", "reason": f"reading IngressClassParameters failed: {exc}"}
        return
    snap.kubernetes.append(scrub_object(with_kind(obj, f"{nat.PARAMS_GROUP}/{nat.PARAMS_VERSION}", nat.PARAMS_KIND)))


def _tls_secrets(k: KubeReads, walk: routes.Walk) -> list[dict]:
    """The TLS Secret the matching Ingress names for the host (values stripped), when it exists."""
    if walk.match is None or walk.match.kind != "Ingress":
        return []
    out = []
    for entry in (walk.match.route.get("spec") or {}).get("tls") or []:
        if walk.url.host in (entry.get("hosts") or []) and entry.get("secretName"):
            try:
                secret = k.secret(walk.match.namespace, entry["secretName"], 3)
            except (Forbidden, Gone, Unreachable):
                continue
            out.append(strip_secret_values(with_kind(secret, "v1", "Secret")))
    return out


def _probe(engine: Engine, opts: LiveOptions, walk: routes.Walk) -> dict[str, Any] | None:
    engine.hit(INTERNET_API, 3)
    address = f"{walk.address}:{walk.url.port}"
    timeout = min(3.0, max(0.2, engine.remaining() - 0.2))
    return probe_url(address, walk.url.host, walk.url.scheme, walk.url.path, timeout,
                     parse_redirect(opts.internet_redirect), os.environ.get(CA_ENV))


def _bare(kt: Any, k: KubeReads, engine: Engine, opts: LiveOptions, wires: Wires) -> Snapshot:
    """The walk ended before any Service: the cluster's header facts only (its nodes, region, compartment)."""
    try:
        nodes = [with_kind(n, "v1", "Node") for n in k.nodes(2)]
    except (Forbidden, Gone, Unreachable):
        nodes = []
    setup = engine.result(engine.once(("oci-setup",), OCI, wires.oci_setup, opts))
    context: dict[str, Any] = {"kubeContext": kt.context, "server": kt.server, "cluster": kt.cluster}
    region = getattr(setup, "region", None) or opts.region or first_truthy(
        (n["metadata"].get("labels") or {}).get(REGION_LABEL) for n in nodes)
    compartment = first_truthy((n["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION) for n in nodes)
    if region:
        context["region"] = region
    if compartment:
        context["compartmentId"] = compartment
    return Snapshot(kind="Snapshot", metadata={}, context=context, kubernetes=nodes)


def _complete(snap: Snapshot, url: Url, answers: list[str], listed: dict[str, list[dict]], secrets: list[dict],
              seen: dict[str, Any] | None, walk: routes.Walk) -> Snapshot:
    """The URL's own facts on top of the Services' collections: what a file with target.url holds."""
    have = {(o.get("kind"), (o.get("metadata") or {}).get("namespace", ""), o["metadata"]["name"])
            for o in snap.kubernetes}
    extra = [o for kind in _WALKED for o in listed[kind]] + secrets
    for obj in extra:
        key = (obj.get("kind"), (obj.get("metadata") or {}).get("namespace", ""), obj["metadata"]["name"])
        if key not in have:
            snap.kubernetes.append(scrub_object(obj))
            have.add(key)
    snap.live["dns"] = {url.host: answers} if answers else {}
    if seen is not None and walk.address:
        _merge_probe(snap.live.setdefault("internet", {}), f"{walk.address}:{url.port}", url.host, seen)
    snap.target = {"url": url.text}
    # How the edge's LB was searched is the Service diagnosis's header; a URL's is its `route`.
    snap.context.pop("lbSearch", None)
    snap.metadata = {**snap.metadata, "name": url.host,
                     "capturedAt": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return snap


def _merge_probe(internet: dict[str, Any], address: str, host: str, seen: dict[str, Any]) -> None:
    """The URL's answer joins the address's entry: its certificate as `tls`, and its answer under
    `hosts` only where it differs from what the address answers any name."""
    entry = internet.get(address)
    if entry is None:
        internet[address] = seen
        return
    if "tls" in seen:
        entry["tls"] = seen["tls"]
    if "error" in seen and entry.get("error"):
        return  # no connection for any name: the address's own error (refused, timeout) says it in its words
    answer = {k: seen[k] for k in ("status", "body", "error", "headers") if k in seen}
    if {k: entry.get(k) for k in answer} != answer:
        entry.setdefault("hosts", {})[host] = answer
