"""The pure parts of live collection: what to read, what to keep, how to put it together.

No I/O here: these functions shape API answers into the snapshot and are unit-tested alone.
"""

from __future__ import annotations

from typing import Any

from okedoctor.live.internet import is_public
from okedoctor.model import Target
from okedoctor.oci_catalog import FLAVORS
from okedoctor.snapshot import Snapshot


def preload_httpx() -> None:
    import httpx  # noqa: F401 - imported early, off the critical path of the internet probe



def first_truthy(values) -> Any:
    return next((v for v in values if v), None)


def ccm_name_matches(flavor: str, display_name: str, namespace: str, name: str, uid: str) -> bool:
    """The cloud controller manager's name: NLB `<ns>/<name>/<uid>`, LB `<uid>` maybe prefixed."""
    return FLAVORS[flavor].ccm_name_matches(display_name, namespace, name, uid)


def needs_logs(status: dict) -> bool:
    """Logs are read for containers that are not ready, have restarted, or are waiting."""
    state = status.get("state") or {}
    return (not status.get("ready")) or status.get("restartCount", 0) > 0 or "waiting" in state


def init_needs_logs(status: dict) -> bool:
    """An init container's logs are read unless it finished with exit code 0 (or has not started)."""
    state = status.get("state") or {}
    done = (state.get("terminated") or {}).get("exitCode") == 0
    return not done and (status.get("restartCount", 0) > 0 or "terminated" in state or "running" in state
                         or bool((status.get("lastState") or {}).get("terminated")))


def unscheduled(pod: dict) -> bool:
    """A pod the scheduler has not placed (yet): Pending, no node."""
    return (pod.get("status") or {}).get("phase") == "Pending" and not (pod.get("spec") or {}).get("nodeName")


def referenced_config(pod: dict) -> tuple[set[str], set[str]]:
    """Names of the Secrets and ConfigMaps a pod references (volumes, env, envFrom, pull secrets)."""
    secrets: set[str] = set()
    cms: set[str] = set()
    spec = pod.get("spec") or {}
    for vol in spec.get("volumes") or []:
        if (vol.get("secret") or {}).get("secretName"):
            secrets.add(vol["secret"]["secretName"])
        if (vol.get("configMap") or {}).get("name"):
            cms.add(vol["configMap"]["name"])
        for src in (vol.get("projected") or {}).get("sources") or []:
            if (src.get("secret") or {}).get("name"):
                secrets.add(src["secret"]["name"])
            if (src.get("configMap") or {}).get("name"):
                cms.add(src["configMap"]["name"])
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for env in c.get("env") or []:
            ref = env.get("valueFrom") or {}
            if (ref.get("secretKeyRef") or {}).get("name"):
                secrets.add(ref["secretKeyRef"]["name"])
            if (ref.get("configMapKeyRef") or {}).get("name"):
                cms.add(ref["configMapKeyRef"]["name"])
        for src in c.get("envFrom") or []:
            if (src.get("secretRef") or {}).get("name"):
                secrets.add(src["secretRef"]["name"])
            if (src.get("configMapRef") or {}).get("name"):
                cms.add(src["configMapRef"]["name"])
    for ref in spec.get("imagePullSecrets") or []:
        if ref.get("name"):
            secrets.add(ref["name"])
    return secrets, cms


def internet_addresses(svc: dict, lb: dict | None) -> list[tuple[str, bool]] | None:
    """(ip:port, tls) to probe from outside; None when the LB is private."""
    # The Service's ports are what clients use; the listeners may lack one (or have extra ones).
    ports = {int(p["port"]) for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port")}
    if lb is not None:
        ips = [a["ipAddress"] for a in lb.get("ipAddresses") or [] if a.get("isPublic")]
        if lb.get("isPrivate") or not ips:
            return None
        ports |= {int(li["port"]) for li in (lb.get("listeners") or {}).values() if li.get("port")}
    else:
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ips = [i["ip"] for i in ingress if i.get("ip") and is_public(i["ip"])]
        if ingress and not ips:
            return None
    return [(f"{ip}:{port}", port == 443) for ip in ips for port in sorted(ports)]


def assemble_kubernetes(kube: dict[str, Any], target: Target, nodes_apart: bool = False) -> list[dict]:
    """The objects the diagnosis looked at, filtered to those related to the target.

    `nodes_apart`: the nodes are left out (a fleet run adds them once to the merged snapshot,
    not once per Service), though their events are kept."""
    svc = kube.get("service")
    if not svc:
        return []
    pods = kube.get("pods") or []
    out: list[dict] = []
    if kube.get("namespace"):
        out.append(with_kind(kube["namespace"], "v1", "Namespace"))
    out.append(with_kind(svc, "v1", "Service"))
    # After a search by backends: the cluster's other Services with NodePorts (what tells a stale one).
    out += [with_kind(o, "v1", "Service") for o in kube.get("otherServices") or []]
    if kube.get("endpoints"):
        out.append(with_kind(kube["endpoints"], "v1", "Endpoints"))
    out += kube.get("slices") or []
    rs_all = kube.get("replicasets") or []
    owning_rs = [rs for rs in rs_all
                 if any(ref.get("uid") == rs["metadata"].get("uid")
                        for p in pods for ref in p["metadata"].get("ownerReferences") or [])]
    selector = (svc.get("spec") or {}).get("selector") or {}
    deps = []
    for dep in kube.get("deployments") or []:
        owns = any(ref.get("kind") == "Deployment" and ref.get("name") == dep["metadata"]["name"]
                   for rs in owning_rs for ref in rs["metadata"].get("ownerReferences") or [])
        labels = (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        # With no pod selected, every Deployment: the near-miss search compares their templates.
        if owns or not pods or (selector and all(labels.get(k) == v for k, v in selector.items())):
            deps.append(dep)
    dep_names = {d["metadata"]["name"] for d in deps}
    rs_keep = [rs for rs in rs_all if rs in owning_rs or any(
        ref.get("kind") == "Deployment" and ref.get("name") in dep_names
        for ref in rs["metadata"].get("ownerReferences") or [])]
    out += deps + rs_keep + pods
    # Other pods, when a check compares or sums them: the namespace's when the selector matches
    # none, and those on the nodes when a selected pod cannot be scheduled.
    have = {(p["metadata"].get("namespace", ""), p["metadata"]["name"]) for p in pods}
    for pod in (kube.get("namespacePods") or []) + (kube.get("nodePods") or []):
        key = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
        if key not in have:
            have.add(key)
            out.append(pod)
    nodes = kube.get("nodes") or []
    if not nodes_apart:
        out += nodes
    claims = {(v.get("persistentVolumeClaim") or {}).get("claimName")
              for p in pods for v in (p.get("spec") or {}).get("volumes") or []}
    pvcs = [c for c in kube.get("pvcs") or [] if c["metadata"]["name"] in claims]
    classes = {(c.get("spec") or {}).get("storageClassName") for c in pvcs}
    # A claim naming a class that does not exist: every class, to name those that do.
    every = bool(classes - {None, ""} - {sc["metadata"]["name"] for sc in kube.get("storageclasses") or []})
    scs = [sc for sc in kube.get("storageclasses") or []
           if every or sc["metadata"]["name"] in classes
           or (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    volumes = {(c.get("spec") or {}).get("volumeName") for c in pvcs}
    pvs = sorted((v for v in kube.get("persistentvolumes") or [] if v["metadata"]["name"] in volumes),
                 key=lambda o: o["metadata"]["name"])
    out += pvcs + pvs + scs
    out += sorted(kube.get("secrets") or [], key=lambda o: o["metadata"]["name"])
    out += sorted(kube.get("configmaps") or [], key=lambda o: o["metadata"]["name"])
    wanted = {(o.get("kind"), o["metadata"].get("namespace", ""), o["metadata"]["name"])
              for o in (out + nodes if nodes_apart else out)}
    wanted |= {("Pod", target.namespace, p["metadata"]["name"]) for p in pods}
    events = (kube.get("events") or []) + (kube.get("nodeEvents") or [])
    for ev in events:
        ref = ev.get("involvedObject") or {}
        if (ref.get("kind"), ref.get("namespace", "") or "", ref.get("name")) in wanted:
            out.append(ev)
    return out


def with_kind(obj: dict, version: str, kind: str) -> dict:
    obj.setdefault("apiVersion", version)
    obj.setdefault("kind", kind)
    return obj


def merge_snapshots(snaps: list[Snapshot]) -> Snapshot:
    """One snapshot holding every Service's facts, each object once."""
    first = snaps[0]
    objects: dict[tuple, dict] = {}
    for snap in snaps:
        for obj in snap.kubernetes:
            meta = obj.get("metadata") or {}
            objects.setdefault((obj.get("kind"), meta.get("namespace", ""), meta.get("name")), obj)
    oci: dict[str, Any] | None = None
    for snap in snaps:
        if snap.oci is None:
            continue
        oci = oci or {}
        for section, value in snap.oci.items():
            if isinstance(value, dict):
                oci.setdefault(section, {}).update(value)
            else:
                have = oci.setdefault(section, [])
                ids = {b.get("id") for b in have}
                have.extend(b for b in value if b.get("id") not in ids)
    live: dict[str, Any] = {}
    for snap in snaps:
        for key in ("containers", "internet"):
            if key in snap.live:
                live.setdefault(key, {}).update(snap.live[key])
    collection = merge_gaps(snaps)
    context = dict(first.context)
    if len({s.context.get("compartmentId") for s in snaps}) > 1:
        context.pop("compartmentId", None)  # Services annotated into other compartments
    searched: dict[str, list[str]] = {}
    for snap in snaps:  # every compartment any Service's search listed; foundBy is per Service
        for c in (snap.context.get("lbSearch") or {}).get("compartments") or []:
            have = searched.setdefault(c["id"], [])
            have.extend(f for f in c.get("from") or [] if f not in have)
    context.pop("lbSearch", None)
    if searched:
        context["lbSearch"] = {"compartments": [{"id": c, "from": f} for c, f in searched.items()]}
    return Snapshot(kind="Snapshot", metadata={**first.metadata, "name": "fleet"}, context=context,
                    target={}, kubernetes=list(objects.values()), oci=oci, live=live, collection=collection)


def merge_gaps(snaps: list[Snapshot]) -> dict[str, Any]:
    """Each Service's gaps, scoped to it: one failed read must not blind the Services that did
    not depend on it. A gap every Service shares, word for word, stays unscoped."""
    by_fact: dict[str, dict[str, dict[str, Any]]] = {}
    for snap in snaps:
        who = f"{snap.target.get('namespace', '')}/{snap.target.get('service', '')}"
        for fact, gap in snap.collection.items():
            by_fact.setdefault(fact, {})[who] = dict(gap)
    out: dict[str, Any] = {}
    for fact, per_service in by_fact.items():
        first = next(iter(per_service.values()))
        if len(per_service) == len(snaps) and all(g == first for g in per_service.values()):
            out[fact] = first
        else:
            out[fact] = {"kind": first["kind"], "reason": first["reason"], "services": per_service}
    return out
