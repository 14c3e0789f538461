"""The Kubernetes objects of a snapshot, indexed the way the API server serves them.

Get and list follow the API's own rules: objects sorted by namespace then name (etcd key order),
label selectors (=, ==, !=, in, notin, exists, !exists), the field selectors each kind supports,
and limit/continue pagination.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """How error messages name the resource: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _r(gv: str, kind: str, plural: str, namespaced: bool = True, short: tuple[str, ...] = (),
       all_: bool = False) -> Resource:
    group, _, version = gv.rpartition("/")
    return Resource(group, version, kind, plural, namespaced, short, ("all",) if all_ else ())


# The built-in resources a 1.31 cluster serves (the ones a diagnosis can meet). A real cluster
# serves these even when it has no object of the kind, so the simulator does too (empty lists).
BUILTIN = (
    _r("v1", "Pod", "pods", short=("po",), all_=True),
    _r("v1", "Service", "services", short=("svc",), all_=True),
    _r("v1", "Endpoints", "endpoints", short=("ep",)),
    _r("v1", "Node", "nodes", namespaced=False, short=("no",)),
    _r("v1", "Namespace", "namespaces", namespaced=False, short=("ns",)),
    _r("v1", "Event", "events", short=("ev",)),
    _r("v1", "ConfigMap", "configmaps", short=("cm",)),
    _r("v1", "Secret", "secrets"),
    _r("v1", "ServiceAccount", "serviceaccounts", short=("sa",)),
    _r("v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",)),
    _r("v1", "PersistentVolume", "persistentvolumes", namespaced=False, short=("pv",)),
    _r("v1", "ReplicationController", "replicationcontrollers", short=("rc",), all_=True),
    _r("v1", "ResourceQuota", "resourcequotas", short=("quota",)),
    _r("v1", "LimitRange", "limitranges", short=("limits",)),
    _r("apps/v1", "Deployment", "deployments", short=("deploy",), all_=True),
    _r("apps/v1", "ReplicaSet", "replicasets", short=("rs",), all_=True),
    _r("apps/v1", "StatefulSet", "statefulsets", short=("sts",), all_=True),
    _r("apps/v1", "DaemonSet", "daemonsets", short=("ds",), all_=True),
    _r("apps/v1", "ControllerRevision", "controllerrevisions"),
    _r("discovery.k8s.io/v1", "EndpointSlice", "endpointslices"),
    _r("events.k8s.io/v1", "Event", "events", short=("ev",)),
    _r("storage.k8s.io/v1", "StorageClass", "storageclasses", namespaced=False, short=("sc",)),
    _r("storage.k8s.io/v1", "CSIDriver", "csidrivers", namespaced=False),
    _r("storage.k8s.io/v1", "VolumeAttachment", "volumeattachments", namespaced=False),
    _r("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    _r("networking.k8s.io/v1", "Ingress", "ingresses", short=("ing",)),
    _r("networking.k8s.io/v1", "IngressClass", "ingressclasses", namespaced=False),
    _r("batch/v1", "Job", "jobs", all_=True),
    _r("batch/v1", "CronJob", "cronjobs", short=("cj",), all_=True),
    _r("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",)),
    _r("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",),
       all_=True),
)

# Field selectors the API server supports per kind (besides metadata.name and metadata.namespace).
FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
            "status.nominatedNodeName"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
              "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "Node": ("spec.unschedulable",),
    "Namespace": ("status.phase",),
    "Secret": ("type",),
    "ReplicaSet": ("status.replicas",),
    "ReplicationController": ("status.replicas",),
    "Job": ("status.successful",),
    "CertificateSigningRequest": ("spec.signerName",),
}


EVENTS_V1_FIELDS = ("regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                    "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath", "reason",
                    "reportingController", "type")


class BadRequest(ValueError):
    """A query the API server rejects with 400; str() is the Status message."""


# Custom resources whose CRD's plural is not the English plural of the kind.
CRD_PLURALS = {"IngressClassParameters": "ingressclassparameters"}


def _plural(kind: str) -> str:
    if kind in CRD_PLURALS:
        return CRD_PLURALS[kind]
    low = kind.lower()
    if low.endswith(("s", "x", "ch", "sh")):
        return low + "es"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    return low + "s"


def _defined(objects: list[dict[str, Any]]) -> list[Resource]:
    """The resources the file's CustomResourceDefinitions define, one per served version."""
    out = []
    for crd in objects:
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        if not (spec.get("group") and names.get("kind") and names.get("plural")):
            continue
        out += [Resource(spec["group"], v["name"], names["kind"], names["plural"], spec.get("scope") == "Namespaced")
                for v in spec.get("versions") or [] if v.get("name") and v.get("served", True)]
    return out


@dataclass
class Store:
    resources: dict[tuple[str, str, str], Resource] = field(default_factory=dict)  # (group, version, plural)
    objects: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def from_objects(cls, objects: list[dict[str, Any]]) -> Store:
        store = cls()
        by_kind: dict[tuple[str, str, str], Resource] = {}
        for res in BUILTIN:
            store.resources[(res.group, res.version, res.plural)] = res
            by_kind[(res.group, res.version, res.kind)] = res
        for res in _defined(objects):  # a CRD in the file serves its kind even with no object of it
            store.resources.setdefault((res.group, res.version, res.plural), res)
            by_kind.setdefault((res.group, res.version, res.kind), res)
        for obj in [*objects, *_event_twins(objects)]:
            group, _, version = str(obj["apiVersion"]).rpartition("/")
            res = by_kind.get((group, version, obj["kind"]))
            if res is None:
                # A kind we do not catalogue (a CRD): served where its apiVersion says.
                res = Resource(group, version, obj["kind"], _plural(obj["kind"]),
                               bool(obj["metadata"].get("namespace")))
                by_kind[(group, version, obj["kind"])] = res
                store.resources[(group, version, res.plural)] = res
            store.objects.setdefault((group, version, res.plural), []).append(obj)
        for items in store.objects.values():
            items.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))
        return store

    def resource(self, group: str, version: str, plural: str) -> Resource | None:
        return self.resources.get((group, version, plural))

    def group_versions(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for group, version, _ in self.resources:
            versions = out.setdefault(group, [])
            if version not in versions:
                versions.append(version)
        return out

    def resources_in(self, group: str, version: str) -> list[Resource]:
        return [r for (g, v, _), r in self.resources.items() if g == group and v == version]

    def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        for obj in self.objects.get((res.group, res.version, res.plural), []):
            if obj["metadata"]["name"] == name and (not res.namespaced or namespace_of(obj) == namespace):
                return obj
        return None

    def list(self, res: Resource, namespace: str | None, label_selector: str = "",
             field_selector: str = "") -> list[dict[str, Any]]:
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, res)
        out = []
        for obj in self.objects.get((res.group, res.version, res.plural), []):
            if res.namespaced and namespace is not None and namespace_of(obj) != namespace:
                continue
            if matches_labels(obj, labels) and matches_fields(obj, fields):
                out.append(obj)
        return out

    def resource_version(self) -> str:
        """The list resourceVersion: the newest object's (numeric, as etcd's revisions are)."""
        newest = 1
        for items in self.objects.values():
            for obj in items:
                rv = str(obj["metadata"].get("resourceVersion") or "")
                if rv.isdigit():
                    newest = max(newest, int(rv))
        return str(newest)


# core/v1 Event field <-> events.k8s.io/v1 Event field: one stored Event, served by both APIs.
_EVENT_FIELDS = (("involvedObject", "regarding"), ("message", "note"), ("reportingComponent", "reportingController"),
                 ("source", "deprecatedSource"), ("firstTimestamp", "deprecatedFirstTimestamp"),
                 ("lastTimestamp", "deprecatedLastTimestamp"), ("count", "deprecatedCount"))
_EVENT_SHARED = ("metadata", "eventTime", "reportingInstance", "action", "reason", "type", "related")


def _event_twins(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each Event as the other events API shows it, since the API server serves one Event storage
    through both core/v1 and events.k8s.io/v1 (with the field renames of its conversion)."""
    core = {(namespace_of(o), o["metadata"]["name"]) for o in objects
            if o["kind"] == "Event" and o["apiVersion"] == "v1"}
    new = {(namespace_of(o), o["metadata"]["name"]) for o in objects
           if o["kind"] == "Event" and o["apiVersion"] == "events.k8s.io/v1"}
    twins = []
    for obj in objects:
        if obj["kind"] != "Event" or obj["apiVersion"] not in ("v1", "events.k8s.io/v1"):
            continue
        to_new = obj["apiVersion"] == "v1"
        if (namespace_of(obj), obj["metadata"]["name"]) in (new if to_new else core):
            continue  # the file holds both views already
        twin: dict[str, Any] = {"kind": "Event", "apiVersion": "events.k8s.io/v1" if to_new else "v1"}
        twin.update({k: obj[k] for k in _EVENT_SHARED if k in obj})
        for old_name, new_name in _EVENT_FIELDS:
            src, dst = (old_name, new_name) if to_new else (new_name, old_name)
            if src in obj:
                twin[dst] = obj[src]
        series = obj.get("series")
        if isinstance(series, dict):
            twin["series"] = {k: series[k] for k in ("count", "lastObservedTime") if k in series}
        if to_new:
            twin.setdefault("eventTime", None)  # a MicroTime without omitempty: null when unset
        twins.append(twin)
    return twins


def namespace_of(obj: dict[str, Any]) -> str:
    # A hand-written object without a namespace lands in "default", as `kubectl apply` would put it.
    return obj["metadata"].get("namespace") or "default"


# ---- label selectors ------------------------------------------------------------------------

_KEY = r"(?:[a-z0-9A-Z.-]+/)?[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?)?"


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def parse_label_selector(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    if not text or not text.strip():
        return []
    reqs: list[tuple[str, str, tuple[str, ...]]] = []
    for part in _split_top(text):
        m = re.fullmatch(rf"(?P<key>{_KEY})\s+(?P<op>in|notin)\s+\((?P<values>.*)\)", part)
        if m:
            values = tuple(v.strip() for v in m.group("values").split(","))
            _check_values(values)
            reqs.append((m.group("key"), m.group("op"), values))
            continue
        m = re.fullmatch(rf"!\s*(?P<key>{_KEY})", part)
        if m:
            reqs.append((m.group("key"), "!", ()))
            continue
        m = re.fullmatch(rf"(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>.*)", part)
        if m:
            value = m.group("value").strip()
            _check_values((value,))
            reqs.append((m.group("key"), "!=" if m.group("op") == "!=" else "=", (value,)))
            continue
        if re.fullmatch(_KEY, part):
            reqs.append((part, "exists", ()))
            continue
        raise BadRequest(f"unable to parse requirement: found '{part}', expected a label selector")
    return reqs


def _check_values(values: tuple[str, ...]) -> None:
    for value in values:
        if len(value) > 63 or not re.fullmatch(_VALUE, value):
            raise BadRequest(f"unable to parse requirement: values[0][{value}]: Invalid value: "
                             f"\"{value}\": a valid label must be an empty string or consist of "
                             "alphanumeric characters, '-', '_' or '.'")


def matches_labels(obj: dict[str, Any], reqs: list[tuple[str, str, tuple[str, ...]]]) -> bool:
    labels = obj["metadata"].get("labels") or {}
    for key, op, values in reqs:
        have = key in labels
        value = str(labels.get(key, ""))
        ok = {
            "=": have and value == values[0] if values else False,
            "!=": not have or value != (values[0] if values else ""),
            "in": have and value in values,
            "notin": not have or value not in values,
            "exists": have,
            "!": not have,
        }[op]
        if not ok:
            return False
    return True


# ---- field selectors ------------------------------------------------------------------------

def parse_field_selector(text: str, res: Resource) -> list[tuple[str, bool, str]]:
    if not text or not text.strip():
        return []
    kind_fields = FIELDS.get(res.kind, ())
    if res.kind == "Event" and res.group == "events.k8s.io":
        kind_fields = EVENTS_V1_FIELDS
    allowed = {"metadata.name", "metadata.namespace", *kind_fields}
    reqs = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*", part)
        if not m:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
        if m.group(1) not in allowed:
            raise BadRequest(f"field label not supported: {m.group(1)}")
        reqs.append((m.group(1), m.group(2) != "!=", m.group(3)))
    return reqs


def field_value(obj: dict[str, Any], path: str) -> str:
    if path == "status.podIPs":
        ips = (obj.get("status") or {}).get("podIPs") or []
        return ips[0].get("ip", "") if ips else ""
    if path == "source" and obj.get("kind") == "Event":
        return ((obj.get("source") or {}).get("component")) or ""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return "false" if path == "spec.unschedulable" else ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def matches_fields(obj: dict[str, Any], reqs: list[tuple[str, bool, str]]) -> bool:
    for path, equal, value in reqs:
        have = namespace_of(obj) if path == "metadata.namespace" else field_value(obj, path)
        if (have == value) != equal:
            return False
    return True


# ---- pagination -------------------------------------------------------------------------------

def paginate(items: list[dict[str, Any]], limit: str | None, token: str | None,
             rv: str) -> tuple[list[dict[str, Any]], str | None, int | None]:
    """One page: (items, continue token or None, remaining item count or None)."""
    start = 0
    if token:
        try:
            state = json.loads(base64.urlsafe_b64decode(token.encode() + b"==="))
            start = int(state["start"])
        except (ValueError, KeyError, TypeError):
            raise BadRequest("continue key is not valid: incorrect encoded start resourceVersion "
                             "(version meta.k8s.io/v1)") from None
    try:
        size = int(limit) if limit else 0
    except ValueError:
        raise BadRequest(f"limit: Invalid value: \"{limit}\": must be an integer") from None
    if size <= 0 or start + size >= len(items):
        return items[start:], None, None
    end = start + size
    nxt = base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": end}).encode())
    return items[start:end], nxt.decode().rstrip("="), len(items) - end
