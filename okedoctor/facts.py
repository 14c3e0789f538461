"""Facts: the one read-only object every check reads.

Built from a Snapshot (a file, or what the live collectors gathered), with the lookups checks
need indexed once: service -> selected pods -> nodes, LB -> backend sets -> health, subnet ->
security lists, instance -> VNICs. Objects stay the raw API dicts (camelCase), exactly as the
APIs return them, so a check reads the same field names a user sees in `kubectl get -o yaml`.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from okedoctor.frozen import freeze
from okedoctor.lbsearch import BackendIndex, BackendSearch, describe, index_backends, search_by_backends
from okedoctor.model import SkipKind, Target
from okedoctor.oci_catalog import FLAVORS, INDEXED_SECTIONS
from okedoctor.safeout import unsafe_words
from okedoctor.snapshot import Snapshot

# What Facts.__init__ sets: the data a retarget shares. Cached properties are not in it.
_FACTS_DATA = frozenset(("snapshot", "target", "lb_ocid", "context", "_by_kind", "_by_key", "oci", "live", "_shared"))

Obj = dict[str, Any]

# The facts a check may declare in `needs`.
KUBERNETES = "kubernetes"
OCI = "oci"
LIVE_CONTAINERS = "live.containers"
LIVE_INTERNET = "live.internet"
LIVE_PROBE = "live.probe"  # the in-pod HTTP probe (exec); a subset of live.containers
LIVE_DNS = "live.dns"  # the A/AAAA answers for the URL's host
# The OCI Certificates service's certificates that L7 listeners reference (sslConfiguration.certificateIds).
OCI_CERTIFICATES = "oci.certificates"

# Kinds read apart from the Service, its pods and the nodes: each is its own fact, so a failed
# read of one (a 403 on ReplicaSets, a 500 on events) leaves the others and the core observed.
KIND_FACTS = {
    "Event": "kubernetes.events",
    "ReplicaSet": "kubernetes.replicasets",
    "Deployment": "kubernetes.deployments",
    "PersistentVolumeClaim": "kubernetes.persistentvolumeclaims",
    "PersistentVolume": "kubernetes.persistentvolumes",
    "StorageClass": "kubernetes.storageclasses",
    "Namespace": "kubernetes.namespaces",
    "Secret": "kubernetes.secrets",
    "ConfigMap": "kubernetes.configmaps",
    # Not a Kubernetes kind: what a check read of the OCI Certificates service, so a certificate
    # that could not be read leaves the check's silence unknown (runner._read_without).
    "OCI Certificates": OCI_CERTIFICATES,
    "IngressClassParameters": "kubernetes.ingressclassparameters",
    "Gateway": "kubernetes.gateways",
}


def service_key(target: Target) -> str:
    """`namespace/name`: how a fleet snapshot's `collection` entry names the Services it covers."""
    return f"{target.namespace}/{target.service}"


@dataclass(frozen=True)
class Unavailable:
    """Why a fact is missing: the runner turns it into a `skipped` entry."""

    kind: SkipKind
    reason: str


@dataclass(frozen=True)
class LoadBalancerRef:
    """The LB or NLB that fronts the target Service, and how we found it."""

    flavor: str  # "nlb" or "lb"
    body: Obj
    found_by: str  # "display-name", "ingress-ip", "lb-ocid" or "backends"
    note: str = ""  # with found_by "backends": which backends tied it to the Service

    @property
    def id(self) -> str:
        return self.body.get("id", "")

    @property
    def ccm_managed(self) -> bool:
        """Made by the cloud controller manager (its display name is derived from the Service)."""
        return self.found_by == "display-name"

    @property
    def listeners(self) -> dict[str, Obj]:
        return self.body.get("listeners") or {}

    @property
    def backend_sets(self) -> dict[str, Obj]:
        return self.body.get("backendSets") or {}

    @property
    def public_ips(self) -> list[str]:
        return [a["ipAddress"] for a in self.body.get("ipAddresses") or [] if a.get("isPublic")]

    @property
    def is_private(self) -> bool:
        if self.flavor == "nlb":
            return bool(self.body.get("isPrivate"))
        return bool(self.body.get("isPrivate")) or not self.public_ips

    @property
    def subnet_ids(self) -> list[str]:
        if self.flavor == "nlb":
            return [self.body["subnetId"]] if self.body.get("subnetId") else []
        return list(self.body.get("subnetIds") or [])

    @property
    def nsg_ids(self) -> list[str]:
        return list(self.body.get("networkSecurityGroupIds") or [])


@dataclass(frozen=True)
class LbSearch:
    """How the target's load balancer was looked for, for the LB and internet hops.

    found_by is None when none was found: the hops are then unknown with `hint`, never ok.
    """

    found_by: str | None  # "display-name" | "ingress-ip" | "lb-ocid" | "backends" | None
    compartments: tuple[str, ...]
    hint: str | None  # one line, when nothing was found
    load_balancers: tuple[LoadBalancerRef, ...] = ()  # every match, the chosen one first
    unattributed: tuple[str, ...] = ()  # LBs on a stale NodePort that could be another Service's

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"foundBy": self.found_by, "compartments": list(self.compartments)}
        if self.load_balancers:
            out["loadBalancers"] = [{"id": r.id, "type": r.flavor, "displayName": r.body.get("displayName"),
                                     **({"backends": r.note} if r.note else {})} for r in self.load_balancers]
        if self.unattributed:
            out["unattributed"] = list(self.unattributed)
        if self.hint:
            out["hint"] = self.hint
        return out


def key_of(obj: Obj) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")


def selector_matches(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """A Service-style equality selector. An empty selector selects nothing (as for Services)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def shared_index(fn):
    """A cached index that does not depend on the target: built once, shared by every retarget.

    Every other cached property of Facts is per target by construction (`retarget` starts a
    fresh instance), so forgetting this decorator costs time, never a leak between Services.
    """
    name = fn.__name__

    def get(self):
        cache = self._shared
        if name not in cache:
            cache[name] = fn(self)
        return cache[name]

    get.__doc__ = fn.__doc__
    return property(get)


def per_run(fn):
    """A chain-view derivation that does not depend on the target (`fn(facts)`): computed once per
    run and shared by every retarget, as `shared_index` is for Facts' own indices. The ports the
    nodes serve, say, are the same for each of a fleet's Services. Callers must not mutate it."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def get(facts):
        cache = facts._shared
        if name not in cache:
            cache[name] = _traced(facts, fn)
        return _replayed(facts, cache[name])

    return get


def shared_by(key: Callable[[Any], Any]):
    """`fn(facts, arg)` that depends on the collected facts and its argument, never on the target:
    computed once per run and `key(arg)`, shared by every retarget, with the optional kinds it
    read replayed to each caller (as `per_run` does).

    The workers' rule sets, say, are the same for each of a fleet's hundreds of Services.
    Callers must not mutate what it returns.
    """
    def decorate(fn):
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def get(facts, arg):
            cache = facts._shared.setdefault(name, {})
            k = key(arg)
            if k not in cache:
                cache[k] = _traced(facts, fn, arg)
            return _replayed(facts, cache[k])

        return get

    return decorate


# One object, by kind, namespace and name.
shared_per_object = shared_by(key_of)


def per_target(fn):
    """A chain-view derivation of one target (`fn(facts)`), computed once per Facts and Service.

    Many checks read the same derivations (the LB's port pairs, the ports nodes serve, the
    backend assessment); each is worked out once per target instead of once per check. The
    cache lives in the Facts object, which `retarget` starts afresh for every Service. Callers
    must not mutate what it returns.
    """
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def get(facts):
        cache = facts.__dict__.setdefault("_per_target", {})
        if name not in cache:
            cache[name] = _traced(facts, fn)
        return _replayed(facts, cache[name])

    return get


def _traced(facts, fn, *args) -> tuple[Any, frozenset[str]]:
    """fn's value and the optional kinds it read (see Facts.touch), for a cache to keep together."""
    outer = facts.__dict__.get("_reads")
    facts.__dict__["_reads"] = set()
    try:
        value = fn(facts, *args)
        return value, frozenset(facts.__dict__["_reads"])
    finally:
        inner = facts.__dict__["_reads"]
        if outer is not None:
            outer |= inner  # in place: the runner holds this very set (Facts.reading)
        facts.__dict__["_reads"] = outer


def _replayed(facts, cached: tuple[Any, frozenset[str]]) -> Any:
    """A cached value: whoever reads it read the kinds it was derived from, too."""
    value, kinds = cached
    for kind in kinds:
        facts.touch(kind)
    return value


class Facts:
    def __init__(self, snapshot: Snapshot, target: Target | None = None, lb_ocid: str | None = None):
        self.snapshot = snapshot
        tgt = snapshot.target or {}
        self.target = target or Target(tgt.get("namespace") or "default", tgt.get("service") or "")
        self.lb_ocid = lb_ocid or tgt.get("lbOcid")
        # Frozen once here (okedoctor/frozen.py): no check can change what a later check reads.
        self.context: dict[str, Any] = freeze(dict(snapshot.context or {}))
        self._by_kind: dict[str, list[Obj]] = defaultdict(list)
        self._by_key: dict[tuple[str, str, str], Obj] = {}
        for obj in freeze(snapshot.kubernetes):
            self._by_kind[obj["kind"]].append(obj)
            self._by_key[key_of(obj)] = obj
        self.oci: dict[str, Any] = freeze(snapshot.oci or {})
        self.live: dict[str, Any] = freeze(snapshot.live or {})
        self._shared: dict[str, Any] = {}  # shared_index caches, common to every retarget

    def retarget(self, target: Target, lb_ocid: str | None = None) -> Facts:
        """The same facts seen from another Service, reusing every target-independent index.

        The fleet report diagnoses hundreds of Services over one collection; rebuilding the
        indices per Service would cost more than the checks themselves. The copy keeps the data
        and the shared indices only: every per-target cached property starts empty.
        """
        other = object.__new__(Facts)
        other.__dict__.update({k: v for k, v in self.__dict__.items() if k in _FACTS_DATA})
        other.target, other.lb_ocid = target, lb_ocid
        return other

    # ---- what was read --------------------------------------------------------------------
    def touch(self, kind: str) -> None:
        """Note that the running check read objects of `kind` (see `reading`)."""
        reads = self.__dict__.get("_reads")
        if reads is not None and kind in KIND_FACTS:
            reads.add(kind)

    def reading(self) -> set[str]:
        """Start noting the optional kinds read from now on; the runner checks they were observed."""
        reads: set[str] = set()
        self.__dict__["_reads"] = reads
        return reads

    # ---- availability -------------------------------------------------------------------
    @property
    def gaps(self) -> dict[str, dict[str, Any]]:
        """What the collection could not read, for this target: `fact -> {kind, reason}`.

        A fleet snapshot scopes an entry to the Services it concerns (`services:`), so one
        Service's failed read leaves the others' verdicts alone.
        """
        out: dict[str, dict[str, Any]] = {}
        for fact, entry in (self.snapshot.collection or {}).items():
            if not isinstance(entry, dict):
                continue
            scoped = entry.get("services")
            if isinstance(scoped, dict):
                mine = scoped.get(service_key(self.target))
                if isinstance(mine, dict):
                    out[fact] = mine
            else:
                out[fact] = entry
        return out

    def unavailable(self, need: str) -> Unavailable | None:
        """None when the fact is there; otherwise why not."""
        recorded = self.gaps.get(need)
        if recorded:
            return Unavailable(SkipKind(recorded.get("kind", "unavailable")), recorded.get("reason", ""))
        if need == KUBERNETES and not self.snapshot.kubernetes:
            return Unavailable(SkipKind.NOT_OBSERVED, "the snapshot holds no Kubernetes objects")
        if need == OCI and self.snapshot.oci is None:
            return Unavailable(
                SkipKind.NOT_OBSERVED,
                "no OCI facts: give an OCI config (--profile/--config-file) or --lb-ocid to read the LB",
            )
        if need in (LIVE_CONTAINERS, LIVE_PROBE) and "containers" not in self.live:
            return Unavailable(SkipKind.NOT_OBSERVED, "container logs and the in-pod probe were not observed")
        if need == LIVE_INTERNET and "internet" not in self.live:
            return Unavailable(SkipKind.NOT_OBSERVED, "the public address was not probed from outside")
        if need == LIVE_DNS and "dns" not in self.live:
            return Unavailable(SkipKind.NOT_OBSERVED, "the URL's name was not resolved")
        if need == OCI_CERTIFICATES:
            return self._unread_certificates()
        return None

    def _unread_certificates(self) -> Unavailable | None:
        """A certificate a listener references that the snapshot does not hold is never taken as
        fine: the collector records why it could not read one (`collection`); a file that holds
        neither the body nor a reason did not read it."""
        unread = sorted(self.referenced_certificates - set(self._oci_by_id))
        if not unread:
            return None
        return Unavailable(SkipKind.UNAVAILABLE, f"the OCI Certificates service's certificate {', '.join(unread)} "
                           "was not read (no body in oci.certificates)")

    # ---- kubernetes ---------------------------------------------------------------------
    def objects(self, kind: str, namespace: str | None = None) -> list[Obj]:
        self.touch(kind)
        if namespace is None:
            return list(self._by_kind.get(kind, []))
        return list(self._by_kind_ns.get((kind, namespace), []))

    @shared_index
    def _by_kind_ns(self) -> dict[tuple[str, str], list[Obj]]:
        out: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for kind, items in self._by_kind.items():
            for o in items:
                out[(kind, (o.get("metadata") or {}).get("namespace"))].append(o)
        return out

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        self.touch(kind)
        return self._by_key.get((kind, namespace or "", name))

    @cached_property
    def service(self) -> Obj | None:
        return self.get("Service", self.target.namespace, self.target.service)

    @property
    def services(self) -> list[Obj]:
        return self.objects("Service")

    def pods_selected_by(self, service: Obj) -> list[Obj]:
        ns = service["metadata"].get("namespace", "")
        selector = (service.get("spec") or {}).get("selector")
        if not selector:
            self.touch("Pod")
            return []
        # The pods carrying the selector's rarest label, then the rest of the selector: a fleet's
        # namespace holds hundreds of pods, a Service selects a few.
        by_label = self._pods_by_label
        try:
            pods = min((by_label.get((ns, k, v), ()) for k, v in selector.items()), key=len)
        except TypeError:  # a hand-written file's unhashable label value: look at every pod
            pods = self.objects("Pod", ns)
        self.touch("Pod")
        return [p for p in pods if selector_matches(selector, p["metadata"].get("labels"))]

    @shared_index
    def _pods_by_label(self) -> dict[tuple[str, str, str], list[Obj]]:
        """(namespace, label, value) -> the pods carrying it, in snapshot order."""
        out: dict[tuple[str, str, str], list[Obj]] = defaultdict(list)
        for pod in self._by_kind.get("Pod", []):
            meta = pod.get("metadata") or {}
            for k, v in (meta.get("labels") or {}).items():
                out[(meta.get("namespace"), k, v)].append(pod)
        return out

    @cached_property
    def pods(self) -> list[Obj]:
        """The pods the target Service selects."""
        return self.pods_selected_by(self.service) if self.service else []

    @property
    def nodes(self) -> list[Obj]:
        return self.objects("Node")

    @shared_index
    def unsafe_words(self) -> frozenset[str]:
        """The snapshot's names a printed fix command must shell-quote (okedoctor.safeout)."""
        return unsafe_words(self.snapshot.kubernetes, self.oci)

    def node(self, name: str | None) -> Obj | None:
        return self.get("Node", "", name or "")

    @shared_index
    def _node_by_ip(self) -> dict[str, Obj]:
        out: dict[str, Obj] = {}
        for node in self.nodes:
            for addr in (node.get("status") or {}).get("addresses") or []:
                out.setdefault(addr.get("address", ""), node)
        return out

    def node_by_ip(self, ip: str) -> Obj | None:
        return self._node_by_ip.get(ip)

    def endpoints(self, service: Obj | None = None) -> Obj | None:
        svc = service or self.service
        if not svc:
            return None
        return self.get("Endpoints", svc["metadata"].get("namespace", ""), svc["metadata"]["name"])

    def endpoint_slices(self, service: Obj | None = None) -> list[Obj]:
        svc = service or self.service
        if not svc:
            return []
        ns, name = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
        return [
            s for s in self.objects("EndpointSlice", ns)
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name
        ]

    @shared_index
    def _events_by_object(self) -> dict[tuple[str, str, str], list[Obj]]:
        out: dict[tuple[str, str, str], list[Obj]] = defaultdict(list)
        for ev in self.objects("Event"):
            # core/v1 names it involvedObject, events.k8s.io/v1 names it regarding.
            ref = ev.get("involvedObject") or ev.get("regarding") or {}
            out[(ref.get("kind", ""), ref.get("namespace", ""), ref.get("name", ""))].append(ev)
        return out

    def events_for(self, obj: Obj) -> list[Obj]:
        """Events about one object, oldest first."""
        self.touch("Event")
        evs = self._events_by_object.get(key_of(obj), [])
        return sorted(evs, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    def owner(self, obj: Obj, kind: str) -> Obj | None:
        ns = obj["metadata"].get("namespace", "")
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == kind:
                return self.get(kind, ns, ref.get("name", ""))
        return None

    def deployment_of(self, pod: Obj) -> Obj | None:
        rs = self.owner(pod, "ReplicaSet")
        return self.owner(rs, "Deployment") if rs else None

    @property
    def deployments(self) -> list[Obj]:
        """Deployments owning the target's pods, or whose template the Service selects."""
        self.touch("ReplicaSet")
        self.touch("Deployment")
        return self._deployments

    @cached_property
    def _deployments(self) -> list[Obj]:
        seen: dict[str, Obj] = {}
        for pod in self.pods:
            dep = self.deployment_of(pod)
            if dep:
                seen[dep["metadata"]["name"]] = dep
        if self.service:
            selector = (self.service.get("spec") or {}).get("selector")
            for dep in self.objects("Deployment", self.target.namespace):
                tmpl = ((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}
                if selector_matches(selector, tmpl.get("labels")):
                    seen.setdefault(dep["metadata"]["name"], dep)
        return list(seen.values())

    def replicasets_of(self, deployment: Obj) -> list[Obj]:
        ns, name = deployment["metadata"].get("namespace", ""), deployment["metadata"]["name"]
        return [
            rs for rs in self.objects("ReplicaSet", ns)
            if any(r.get("kind") == "Deployment" and r.get("name") == name
                   for r in rs["metadata"].get("ownerReferences") or [])
        ]

    def pods_of(self, owner: Obj) -> list[Obj]:
        ns, uid = owner["metadata"].get("namespace", ""), owner["metadata"].get("uid")
        return [p for p in self.objects("Pod", ns)
                if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])]

    def pvc(self, namespace: str, name: str) -> Obj | None:
        return self.get("PersistentVolumeClaim", namespace, name)

    def storage_class(self, name: str | None) -> Obj | None:
        if name:
            return self.get("StorageClass", "", name)
        for sc in self.objects("StorageClass"):
            ann = sc["metadata"].get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                return sc
        return None

    def secret(self, namespace: str, name: str) -> Obj | None:
        return self.get("Secret", namespace, name)

    def configmap(self, namespace: str, name: str) -> Obj | None:
        return self.get("ConfigMap", namespace, name)

    # ---- live observations --------------------------------------------------------------
    def container_live(self, namespace: str, pod: str, container: str) -> Obj | None:
        return (self.live.get("containers") or {}).get(f"{namespace}/{pod}/{container}")

    def internet(self, address: str) -> Obj | None:
        """What a client on the internet saw at `ip:port`."""
        return (self.live.get("internet") or {}).get(address)

    def internet_answer(self, address: str, host: str | None) -> Obj | None:
        """What a client asking for `host` (Host header and SNI) saw at `ip:port`.

        The entry's `hosts` holds answers that depend on the name; without one for `host`
        the entry's own status/body is what the address answers any name.
        """
        seen = self.internet(address)
        if seen is None or not host:
            return seen
        return (seen.get("hosts") or {}).get(host) or seen

    def internet_tls(self, address: str) -> Obj | None:
        """The certificate `ip:port` served (`subject`, `sans`, `issuer`, `notBefore`, `notAfter`,
        `verifyError`), or None when the address spoke no TLS or was not probed with it."""
        return (self.internet(address) or {}).get("tls")

    @property
    def dns_observed(self) -> bool:
        return "dns" in self.live

    def dns_answers(self, name: str) -> list[str] | None:
        """The A/AAAA answers recorded for `name`; None when it does not resolve (NXDOMAIN)."""
        answers = (self.live.get("dns") or {}).get(name.rstrip(".").lower())
        return list(answers) if answers else None

    @property
    def target_url(self) -> str | None:
        """The URL diagnosed (`target.url`), when the target is a URL rather than a Service."""
        return self.target.url

    # ---- OCI ----------------------------------------------------------------------------
    def _oci_list(self, section: str) -> list[Obj]:
        return list(self.oci.get(section) or [])

    @shared_index
    def _oci_by_id(self) -> dict[str, Obj]:
        out: dict[str, Obj] = {}
        for section in INDEXED_SECTIONS:
            for body in self._oci_list(section):
                if body.get("id"):
                    out[body["id"]] = body
        return out

    def oci_resource(self, ocid: str) -> Obj | None:
        return self._oci_by_id.get(ocid)

    @shared_index
    def referenced_certificates(self) -> frozenset[str]:
        """The OCI Certificates OCIDs the L7 load balancers' listeners name (`certificateIds`)."""
        out: set[str] = set()
        for body in self._oci_list(FLAVORS["lb"].section):
            listeners = body.get("listeners") if isinstance(body, dict) else None
            for listener in (listeners or {}).values() if isinstance(listeners, dict) else ():
                ssl = listener.get("sslConfiguration") if isinstance(listener, dict) else None
                ids = ssl.get("certificateIds") if isinstance(ssl, dict) else None
                if isinstance(ids, list):
                    out.update(str(c) for c in ids)
        return frozenset(out)

    @cached_property
    def load_balancer(self) -> LoadBalancerRef | None:
        """The LB/NLB of the target Service: --lb-ocid, the CCM's display name, the ingress IP, its backends."""
        bodies = [(flavor.key, body) for flavor in FLAVORS.values() for body in self._oci_list(flavor.section)]
        if self.lb_ocid:
            for key, body in bodies:
                if body.get("id") == self.lb_ocid:
                    return LoadBalancerRef(key, body, "lb-ocid")
        svc = self.service
        if not svc:
            return None
        meta = svc["metadata"]
        # Looked up by name rather than tried one by one (hundreds of Services x hundreds of LBs in
        # a fleet); the first in `bodies` order wins, as a scan would find it.
        named = self._lbs_by_ccm_name.get(FLAVORS["nlb"].ccm_display_name(meta.get("namespace", ""), meta["name"],
                                                                           meta.get("uid") or "")) \
            if meta.get("uid") else None
        if named is not None:
            return LoadBalancerRef(*named, "display-name")
        for key, body in bodies:
            if key != "nlb" and FLAVORS[key].ccm_name_matches(body.get("displayName") or "", meta.get("namespace", ""),
                                                              meta["name"], meta.get("uid")):
                return LoadBalancerRef(key, body, "display-name")
        ingress = {i.get("ip") for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []}
        ingress.discard(None)
        for key, body in bodies:
            if ingress & {a.get("ipAddress") for a in body.get("ipAddresses") or []}:
                return LoadBalancerRef(key, body, "ingress-ip")
        matches = self._backend_search.matches
        return LoadBalancerRef(matches[0].flavor, matches[0].body, "backends", matches[0].note) if matches else None

    @shared_index
    def _lbs_by_ccm_name(self) -> dict[str, tuple[str, Obj]]:
        """NLB display name -> (flavour, body), the first NLB of each name (the CCM names an NLB
        exactly `<ns>/<name>/<uid>`; an LB's name only ends with the uid, so LBs are scanned)."""
        out: dict[str, tuple[str, Obj]] = {}
        for body in self._oci_list(FLAVORS["nlb"].section):
            name = body.get("displayName")
            if name and isinstance(name, str):
                out.setdefault(name, ("nlb", body))
        return out

    @cached_property
    def _backend_search(self) -> BackendSearch:
        """LBs/NLBs whose backends are this cluster's nodes on the target's (or a stale) NodePort."""
        cidrs = [c for sub in self.worker_subnets for c in (sub.get("ipv4CidrBlocks") or [sub.get("cidrBlock")]) if c]
        return search_by_backends(self.service, self.services, self.nodes,
                                  self._oci_list("networkLoadBalancers"), self._oci_list("loadBalancers"), cidrs,
                                  self._backend_index)

    @shared_index
    def _backend_index(self) -> BackendIndex:
        return index_backends(self.services, self.nodes, self._oci_list("networkLoadBalancers"),
                              self._oci_list("loadBalancers"))

    @property
    def load_balancers(self) -> list[LoadBalancerRef]:
        """Every LB/NLB found for the target, the one the checks use first.

        Several only when found by backends (two hand-made LBs on the same NodePort, say)."""
        ref = self.load_balancer
        if ref is None:
            return []
        if ref.found_by != "backends":
            return [ref]
        return [LoadBalancerRef(m.flavor, m.body, "backends", m.note) for m in self._backend_search.matches]

    @property
    def searched_compartments(self) -> list[str]:
        """The compartments whose LBs/NLBs were listed (context.lbSearch), else the one in the context."""
        recorded = (self.context.get("lbSearch") or {}).get("compartments")
        if recorded is not None:
            return [c["id"] if isinstance(c, dict) else c for c in recorded]
        return [self.context["compartmentId"]] if self.context.get("compartmentId") else []

    @property
    def lb_search(self) -> LbSearch:
        """How the target's LB was found, or a one-line hint for the LB and internet hops when it was not."""
        refs = self.load_balancers
        compartments = tuple(self.searched_compartments)
        unattributed = tuple(f"{describe(m.flavor, m.body)}: {m.note}" for m in self._backend_search.unattributed)
        if refs:
            return LbSearch(refs[0].found_by, compartments, None, tuple(refs), unattributed)
        missing = self.unavailable(OCI)
        if missing:
            hint = f"the load balancers were not read ({missing.reason}); pass --lb-ocid OCID if one was made by hand"
        else:
            where = f"compartments {', '.join(compartments)}" if len(compartments) > 1 else \
                f"compartment {compartments[0]}" if compartments else "the compartments read"
            hint = (f"no load balancer found for this Service in {where}; "
                    "pass --lb-ocid OCID if one was made by hand")
            if unattributed:
                more = f"; and {len(unattributed) - 3} more" if len(unattributed) > 3 else ""
                hint += f" (candidates: {'; '.join(unattributed[:3])}{more})"
        return LbSearch(None, compartments, hint, (), unattributed)

    def backend_set_health(self, lb_id: str, backend_set: str) -> Obj | None:
        return (self.oci.get("backendSetHealth") or {}).get(f"{lb_id}/{backend_set}")

    def backend_health(self, lb_id: str, backend_set: str, backend: str) -> Obj | None:
        return (self.oci.get("backendHealth") or {}).get(f"{lb_id}/{backend_set}/{backend}")

    def subnet(self, ocid: str) -> Obj | None:
        return self._oci_by_id.get(ocid) if ocid in self._ids("subnets") else None

    def security_list(self, ocid: str) -> Obj | None:
        return self._oci_by_id.get(ocid) if ocid in self._ids("securityLists") else None

    def nsg(self, ocid: str) -> Obj | None:
        return self._oci_by_id.get(ocid) if ocid in self._ids("networkSecurityGroups") else None

    def nsg_rules(self, ocid: str) -> list[Obj] | None:
        """The NSG's rules, or None when they were not read."""
        rules = self.oci.get("networkSecurityGroupRules") or {}
        return list(rules[ocid]) if ocid in rules else None

    def route_table(self, ocid: str) -> Obj | None:
        return self._oci_by_id.get(ocid) if ocid in self._ids("routeTables") else None

    def etag(self, ocid: str) -> str | None:
        """The ETag OCI gave the resource when it was read, when recorded."""
        return (self.oci.get("etags") or {}).get(ocid)

    @property
    def route_tables(self) -> list[Obj]:
        return self._oci_list("routeTables")

    def _ids(self, section: str) -> set[str]:
        return {b.get("id") for b in self._oci_list(section)}

    def security_lists_of_subnet(self, subnet: Obj) -> list[Obj]:
        return [sl for sid in subnet.get("securityListIds") or [] if (sl := self.security_list(sid))]

    @shared_index
    def _vnic_by_ip(self) -> dict[str, Obj]:
        return {v["privateIp"]: v for v in self._oci_list("vnics") if v.get("privateIp")}

    def vnic_by_ip(self, ip: str) -> Obj | None:
        return self._vnic_by_ip.get(ip)

    @shared_index
    def _vnics_by_instance(self) -> dict[str, list[Obj]]:
        """instanceId -> its attached VNICs, in the order of `vnics` (as the lookups found them)."""
        parents: dict[str, set[str]] = {}
        for a in self._oci_list("vnicAttachments"):
            parents.setdefault(a.get("vnicId"), set()).add(a.get("instanceId"))
        out: dict[str, list[Obj]] = {}
        for v in self._oci_list("vnics"):
            for instance_id in parents.get(v.get("id"), ()):
                out.setdefault(instance_id, []).append(v)
        return out

    def vnics_of_instance(self, instance_id: str) -> list[Obj]:
        return list(self._vnics_by_instance.get(instance_id, ()))

    def node_internal_ip(self, node: Obj) -> str | None:
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP":
                return addr.get("address")
        return None

    def node_vnic(self, node: Obj) -> Obj | None:
        """The worker's VNIC: by its InternalIP, else the primary VNIC of its instance."""
        ip = self.node_internal_ip(node)
        if ip and (vnic := self.vnic_by_ip(ip)):
            return vnic
        instance_id = (node.get("spec") or {}).get("providerID", "")
        vnics = self.vnics_of_instance(instance_id) if instance_id else []
        return next((v for v in vnics if v.get("isPrimary")), vnics[0] if vnics else None)

    @shared_index
    def worker_subnets(self) -> list[Obj]:
        """Subnets of the workers' VNICs, in node order, without repeats."""
        seen: dict[str, Obj] = {}
        for node in self.nodes:
            vnic = self.node_vnic(node)
            if vnic and (sub := self.subnet(vnic.get("subnetId", ""))):
                seen.setdefault(sub["id"], sub)
        return list(seen.values())


def iter_containers(pod: Obj) -> Iterable[tuple[Obj, Obj | None]]:
    """(container spec, its status) for each app container of a pod."""
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    for c in (pod.get("spec") or {}).get("containers") or []:
        yield c, statuses.get(c.get("name"))


def iter_init_containers(pod: Obj) -> Iterable[tuple[Obj, Obj | None]]:
    """(init container spec, its status) for each init container that must finish before the app starts
    (native sidecars, restartPolicy Always, keep running and are left out)."""
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("initContainerStatuses") or []}
    for c in (pod.get("spec") or {}).get("initContainers") or []:
        if c.get("restartPolicy") != "Always":
            yield c, statuses.get(c.get("name"))
