"""meta.k8s.io/v1 Table responses, the server-side printing kubectl asks for with `as=Table`.

The columns and cell rules follow the API server's printers for the kinds a diagnosis shows
(pods, services, endpoints, endpoint slices, nodes, namespaces, workloads, claims, storage
classes, config maps, secrets, events); other kinds get NAME and AGE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Row = list[Any]


def human_duration(seconds: float) -> str:
    """The API server's duration.HumanDuration (what the AGE column shows)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def age(text: Any) -> str:
    when = _parse_time(text)
    if when is None:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - when).total_seconds())


def _col(name: str, desc: str, priority: int = 0, fmt: str = "", typ: str = "string") -> dict[str, Any]:
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


NAME = _col("Name", "Name must be unique within a namespace.", fmt="name")
AGE = _col("Age", "CreationTimestamp is a timestamp representing the server time when this object was "
           "created.")


def _pod(pod: dict[str, Any]) -> Row:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    total = len(spec.get("containers") or [])
    ready = restarts = 0
    last_restart: datetime | None = None
    reason = status.get("reason") or status.get("phase") or ""
    initializing = False
    init_specs = spec.get("initContainers") or []
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _later(last_restart, cs)
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        sidecar = i < len(init_specs) and init_specs[i].get("restartPolicy") == "Always"
        if term and term.get("exitCode") == 0 or sidecar and cs.get("started"):
            continue
        if term:
            reason = "Init:" + (term.get("reason") or (f"Signal:{term['signal']}" if term.get("signal")
                                                        else f"ExitCode:{term.get('exitCode')}"))
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, cs)
            state = cs.get("state") or {}
            term, wait = state.get("terminated"), state.get("waiting")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition(pod, "Ready") else "NotReady"
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    restart_cell = str(restarts)
    if last_restart is not None:
        restart_cell += f" ({human_duration((datetime.now(UTC) - last_restart).total_seconds())} ago)"
    gates = spec.get("readinessGates") or []
    gate_cell = "<none>"
    if gates:
        true = sum(1 for g in gates if _condition(pod, g.get("conditionType", "")))
        gate_cell = f"{true}/{len(gates)}"
    return [meta.get("name"), f"{ready}/{total}", reason, restart_cell, age(meta.get("creationTimestamp")),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", gate_cell]


def _later(cur: datetime | None, cs: dict[str, Any]) -> datetime | None:
    term = (cs.get("lastState") or {}).get("terminated") or {}
    when = _parse_time(term.get("finishedAt"))
    if when is None:
        return cur
    return when if cur is None or when > cur else cur


def _condition(obj: dict[str, Any], ctype: str) -> bool:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond.get("status") == "True"
    return False


def _service(svc: dict[str, Any]) -> Row:
    spec, meta = svc.get("spec") or {}, svc.get("metadata") or {}
    stype = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if stype == "LoadBalancer":
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        external = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
        external += list(spec.get("externalIPs") or [])
        ext_cell = ",".join(external) if external else "<pending>"
    elif stype == "ExternalName":
        ext_cell = spec.get("externalName") or "<none>"
    else:
        ext_cell = ",".join(external) if external else "<none>"
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol") or "TCP"
        ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p.get('port')}/{proto}")
    selector = spec.get("selector") or {}
    return [meta.get("name"), stype, spec.get("clusterIP") or "<none>", ext_cell,
            ",".join(ports) or "<none>", age(meta.get("creationTimestamp")),
            ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"]


def _endpoints(ep: dict[str, Any]) -> Row:
    shown: list[str] = []
    count = 0
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for port in ports:
            for addr in subset.get("addresses") or []:
                count += 1
                if len(shown) < 3:
                    shown.append(f"{addr.get('ip')}:{port['port']}" if port.get("port") else str(addr.get("ip")))
    cell = ",".join(shown) if shown else "<none>"
    if count > len(shown):
        cell += f" + {count - len(shown)} more..."
    meta = ep.get("metadata") or {}
    return [meta.get("name"), cell, age(meta.get("creationTimestamp"))]


def _node(node: dict[str, Any]) -> Row:
    meta, status = node.get("metadata") or {}, node.get("status") or {}
    ready = "Unknown"
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            ready = "Ready" if cond.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        ready += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in (meta.get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/") and k.split("/", 1)[1])
    info = status.get("nodeInfo") or {}

    def addr(kind: str) -> str:
        return next((a.get("address") for a in status.get("addresses") or [] if a.get("type") == kind), "<none>")

    return [meta.get("name"), ready, ",".join(roles) or "<none>", age(meta.get("creationTimestamp")),
            info.get("kubeletVersion", ""), addr("InternalIP"), addr("ExternalIP"), info.get("osImage", ""),
            info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]


def _deployment(dep: dict[str, Any]) -> Row:
    meta, status = dep.get("metadata") or {}, dep.get("status") or {}
    want = (dep.get("spec") or {}).get("replicas", 1)
    return [meta.get("name"), f"{status.get('readyReplicas', 0)}/{want}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), age(meta.get("creationTimestamp")),
            *_containers_images(((dep.get("spec") or {}).get("template") or {}).get("spec") or {}),
            _selector((dep.get("spec") or {}).get("selector"))]


def _event(ev: dict[str, Any]) -> Row:
    meta = ev.get("metadata") or {}
    last = ev.get("lastTimestamp") or ev.get("eventTime") or meta.get("creationTimestamp")
    obj = ev.get("involvedObject") or ev.get("regarding") or {}
    return [age(last), ev.get("type", ""), ev.get("reason", ""),
            f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}", ev.get("message") or ev.get("note", "")]


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _containers_images(pod_spec: dict[str, Any]) -> list[str]:
    containers = pod_spec.get("containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


def _selector(sel: dict[str, Any] | None) -> str:
    sel = sel or {}
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op, values = expr.get("operator", ""), ",".join(expr.get("values") or [])
        key = expr.get("key", "")
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key))
    return ",".join(parts) or "<none>"


def _replicaset(rs: dict[str, Any]) -> Row:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    return [_meta(rs).get("name"), spec.get("replicas", 1), status.get("replicas", 0),
            status.get("readyReplicas", 0), age(_meta(rs).get("creationTimestamp")),
            *_containers_images((spec.get("template") or {}).get("spec") or {}), _selector(spec.get("selector"))]


def _statefulset(sts: dict[str, Any]) -> Row:
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    return [_meta(sts).get("name"), f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            age(_meta(sts).get("creationTimestamp")),
            *_containers_images((spec.get("template") or {}).get("spec") or {})]


def _daemonset(ds: dict[str, Any]) -> Row:
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    node_sel = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [_meta(ds).get("name"), status.get("desiredNumberScheduled", 0),
            status.get("currentNumberScheduled", 0), status.get("numberReady", 0),
            status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0),
            ",".join(f"{k}={v}" for k, v in sorted(node_sel.items())) or "<none>",
            age(_meta(ds).get("creationTimestamp"))]


def _namespace(ns: dict[str, Any]) -> Row:
    return [_meta(ns).get("name"), (ns.get("status") or {}).get("phase", ""), age(_meta(ns).get("creationTimestamp"))]


def _endpointslice(eps: dict[str, Any]) -> Row:
    ports = ",".join(str(p.get("port")) for p in eps.get("ports") or [] if p.get("port") is not None) or "<unset>"
    addresses = [a for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    cell = ",".join(addresses[:3]) or "<unset>"
    if len(addresses) > 3:
        cell += f" + {len(addresses) - 3} more..."
    return [_meta(eps).get("name"), eps.get("addressType", ""), ports, cell, age(_meta(eps).get("creationTimestamp"))]


_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _pvc(pvc: dict[str, Any]) -> Row:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = status.get("phase", "")
    bound = phase == "Bound"
    modes = ",".join(_MODES.get(m, m) for m in status.get("accessModes") or []) if bound else ""
    capacity = (status.get("capacity") or {}).get("storage", "") if bound else ""
    return [_meta(pvc).get("name"), "Terminating" if _meta(pvc).get("deletionTimestamp") else phase,
            spec.get("volumeName", ""), capacity, modes, spec.get("storageClassName") or "<unset>",
            spec.get("volumeAttributesClassName") or "<unset>", age(_meta(pvc).get("creationTimestamp")),
            spec.get("volumeMode") or "Filesystem"]


def _storageclass(sc: dict[str, Any]) -> Row:
    name = _meta(sc).get("name")
    annotations = _meta(sc).get("annotations") or {}
    if "true" in (annotations.get("storageclass.kubernetes.io/is-default-class"),
                  annotations.get("storageclass.beta.kubernetes.io/is-default-class")):
        name = f"{name} (default)"
    return [name, sc.get("provisioner", ""), sc.get("reclaimPolicy") or "Delete",
            sc.get("volumeBindingMode") or "Immediate", str(bool(sc.get("allowVolumeExpansion"))).lower(),
            age(_meta(sc).get("creationTimestamp"))]


def _configmap(cm: dict[str, Any]) -> Row:
    return [_meta(cm).get("name"), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
            age(_meta(cm).get("creationTimestamp"))]


def _secret(secret: dict[str, Any]) -> Row:
    return [_meta(secret).get("name"), secret.get("type", "Opaque"), len(secret.get("data") or {}),
            age(_meta(secret).get("creationTimestamp"))]


def _generic(obj: dict[str, Any]) -> Row:
    meta = obj.get("metadata") or {}
    return [meta.get("name"), age(meta.get("creationTimestamp"))]


PRINTERS: dict[str, tuple[list[dict[str, Any]], Callable[[dict[str, Any]], Row]]] = {
    "Pod": ([NAME, _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
             _col("Status", "The aggregate status of the containers in this pod."),
             _col("Restarts", "The number of times the containers in this pod have been restarted and when "
                  "the last container in this pod has restarted."),
             AGE, _col("IP", "IP address allocated to the pod.", 1), _col("Node", "Name of the node.", 1),
             _col("Nominated Node", "Name of the node the pod is nominated to.", 1),
             _col("Readiness Gates", "Pod readiness gates.", 1)], _pod),
    "Service": ([NAME, _col("Type", "The type of the service."), _col("Cluster-IP", "The cluster IP."),
                 _col("External-IP", "The external IP addresses of the service."),
                 _col("Port(s)", "The ports of the service."), AGE,
                 _col("Selector", "The selector of the service.", 1)], _service),
    "Endpoints": ([NAME, _col("Endpoints", "The addresses and ports of the endpoints."), AGE], _endpoints),
    "Node": ([NAME, _col("Status", "The status of the node."), _col("Roles", "The roles of the node."), AGE,
              _col("Version", "Kubelet version."), _col("Internal-IP", "Internal IP.", 1),
              _col("External-IP", "External IP.", 1), _col("OS-Image", "OS image.", 1),
              _col("Kernel-Version", "Kernel version.", 1),
              _col("Container-Runtime", "Container runtime.", 1)], _node),
    "Deployment": ([NAME, _col("Ready", "Number of the pod with ready state."),
                    _col("Up-to-date", "Total number of non-terminated pods with the desired template.",
                         typ="integer"),
                    _col("Available", "Number of available pods.", typ="integer"), AGE,
                    _col("Containers", "Names of each container in the template.", 1),
                    _col("Images", "Images referenced by each container in the template.", 1),
                    _col("Selector", "Label selector for pods.", 1)], _deployment),
    "ReplicaSet": ([NAME, _col("Desired", "Number of desired pods.", typ="integer"),
                    _col("Current", "Number of actual replicas.", typ="integer"),
                    _col("Ready", "Number of ready replicas.", typ="integer"), AGE,
                    _col("Containers", "Names of each container in the template.", 1),
                    _col("Images", "Images referenced by each container in the template.", 1),
                    _col("Selector", "Label selector for pods.", 1)], _replicaset),
    "StatefulSet": ([NAME, _col("Ready", "Number of the pod with ready state."), AGE,
                     _col("Containers", "Names of each container in the template.", 1),
                     _col("Images", "Images referenced by each container in the template.", 1)], _statefulset),
    "DaemonSet": ([NAME, _col("Desired", "The desired number of nodes.", typ="integer"),
                   _col("Current", "The number of nodes running the daemon pod.", typ="integer"),
                   _col("Ready", "The number of nodes with a ready daemon pod.", typ="integer"),
                   _col("Up-to-date", "The number of nodes running the updated pod.", typ="integer"),
                   _col("Available", "The number of nodes with an available daemon pod.", typ="integer"),
                   _col("Node Selector", "The node selector of the pod template."), AGE], _daemonset),
    "Namespace": ([NAME, _col("Status", "The status of the namespace."), AGE], _namespace),
    "EndpointSlice": ([NAME, _col("AddressType", "The type of the addresses."),
                       _col("Ports", "The ports of the slice."),
                       _col("Endpoints", "The addresses of the endpoints."), AGE], _endpointslice),
    "PersistentVolumeClaim": ([NAME, _col("Status", "The phase of the claim."),
                               _col("Volume", "The bound volume."), _col("Capacity", "The capacity."),
                               _col("Access Modes", "The access modes."),
                               _col("StorageClass", "The storage class."),
                               _col("VolumeAttributesClass", "The volume attributes class."), AGE,
                               _col("VolumeMode", "The volume mode.", 1)], _pvc),
    "StorageClass": ([NAME, _col("Provisioner", "The provisioner."),
                      _col("ReclaimPolicy", "The reclaim policy."),
                      _col("VolumeBindingMode", "The volume binding mode."),
                      _col("AllowVolumeExpansion", "Whether volumes can grow."), AGE], _storageclass),
    "ConfigMap": ([NAME, _col("Data", "Number of keys.", typ="integer"), AGE], _configmap),
    "Secret": ([NAME, _col("Type", "The type of the secret."), _col("Data", "Number of keys.", typ="integer"),
                AGE], _secret),
    "Event": ([_col("Last Seen", "Time the event was last seen."), _col("Type", "Type of the event."),
               _col("Reason", "Reason of the event."), _col("Object", "The object the event is about."),
               _col("Message", "Human-readable description of the event.")], _event),
}


def to_table(kind: str, objects: list[dict[str, Any]], include: str, list_meta: dict[str, Any]) -> dict[str, Any]:
    columns, printer = PRINTERS.get(kind, ([NAME, AGE], _generic))
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer(obj)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj.get("metadata") or {}}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": columns, "rows": rows}
