"""What follows from the configuration: the observations a write to the simulator changes.

A snapshot records observations next to configuration: the health of each LB backend and the
answer of each public address. When a fix changes the configuration (a security list, a
backend set, a Service's ports), those observations must change with it, or the simulator
would keep reporting the incident after it was fixed. This module derives them:

backend health   OK when the backend's address is a Ready node, the health checker's port is
                 served on it (10256: kube-proxy, served on every Ready node; a NodePort or an
                 ETP Local healthCheckNodePort: served when the Service has a ready endpoint,
                 on that node for ETP Local), and the VCN rules let the LB reach the node on
                 that port (the LB subnet's egress, the node's ingress, and the return of a
                 stateless rule).
public address   answers when a listener has the port, the LB subnet's rules let the client in
                 and its route table sends 0.0.0.0/0 to an internet gateway (public LB), the
                 listener's backend set has a healthy backend that the LB reaches on the
                 backend port, that port is a NodePort whose Service's targetPort a ready pod
                 declares (or declares no ports at all). Otherwise it times out (refused with
                 no listener; an HTTP listener answers 502 itself).

The model cannot know what the app answers, nor everything a scenario describes. So an
observation whose derived value is the same before and after the writes keeps the file's
value (a scenario may pin the app's own 500s, or a backend the model would call healthy);
only the ones a write changed are replaced by the model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okedoctor.facts import Facts, LoadBalancerRef
from okedoctor.kube import pod_ready
from okedoctor.netrules import EGRESS, INGRESS, Peer, Traffic, evaluate, has_igw_default_route
from okedoctor.oci_catalog import BACKEND_HEALTH, BACKEND_SET_HEALTH, FLAVORS
from okedoctor.snapshot import Snapshot

KUBE_PROXY_HEALTH_PORT = 10256
ANY = Peer("0.0.0.0/0")


@dataclass(frozen=True)
class Derived:
    backends: dict[str, str]  # "<lb>/<set>/<backend>" -> the health check's result ("OK", "TIMED_OUT"...)
    internet: dict[str, str]  # "ip:port" -> "answers" | "timeout" | "refused" | "bad-gateway"


def derive(kubernetes: list[dict[str, Any]], oci: dict[str, Any], addresses: list[str],
           containers: dict[str, Any] | None = None) -> Derived:
    """`containers` is the file's live.containers: what answers on localhost inside each pod."""
    facts = Facts(Snapshot(kubernetes=kubernetes, oci=oci, live={"containers": containers or {}}))
    backends: dict[str, str] = {}
    answers: dict[str, str] = {}
    for flavor in FLAVORS.values():
        for body in oci.get(flavor.section) or []:
            ref = LoadBalancerRef(flavor.key, body, "lb-ocid")
            for name, bset in (body.get("backendSets") or {}).items():
                for b in bset.get("backends") or []:
                    backends[f"{ref.id}/{name}/{b.get('name')}"] = _backend_ok(facts, ref, bset, b)
            for ip in ref.public_ips + [a.get("ipAddress") for a in body.get("ipAddresses") or []]:
                for address in addresses:
                    if address.rsplit(":", 1)[0] == ip:
                        answers[address] = _answer(facts, ref, int(address.rsplit(":", 1)[1]), backends)
    return Derived(backends, answers)


def _node_ready(node: dict[str, Any]) -> bool:
    conds = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds) and \
        not (node.get("metadata") or {}).get("deletionTimestamp")


def _services_by_port(facts: Facts) -> dict[int, tuple[dict[str, Any], str]]:
    out: dict[int, tuple[dict[str, Any], str]] = {}
    for svc in facts.objects("Service"):
        spec = svc.get("spec") or {}
        for p in spec.get("ports") or []:
            if p.get("nodePort"):
                out[int(p["nodePort"])] = (svc, "nodePort")
        if spec.get("healthCheckNodePort"):
            out[int(spec["healthCheckNodePort"])] = (svc, "health")
    return out


def _ready_pods(facts: Facts, svc: dict[str, Any], node: str | None = None) -> list[dict[str, Any]]:
    sel = (svc.get("spec") or {}).get("selector") or {}
    if not sel:
        return []
    ns = svc["metadata"].get("namespace")
    return [p for p in facts.objects("Pod", ns)
            if all(((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in sel.items())
            and pod_ready(p) and (node is None or (p.get("spec") or {}).get("nodeName") == node)]


def _served(facts: Facts, node: dict[str, Any], port: int) -> bool:
    if port == KUBE_PROXY_HEALTH_PORT:
        return True
    svc, kind = _services_by_port(facts).get(port, (None, ""))
    if svc is None:
        return False
    local = (svc.get("spec") or {}).get("externalTrafficPolicy") == "Local"
    where = node["metadata"]["name"] if local or kind == "health" else None
    return bool(_ready_pods(facts, svc, where))


def _reaches(facts: Facts, ref: LoadBalancerRef, node: dict[str, Any], port: int, client: bool = False) -> bool:
    """The VCN lets the LB open TCP `port` on the node and the answer come back.

    A client's connection through an NLB that preserves the source reaches the node from the
    client's address (any), not from the NLB's subnet.
    """
    from okedoctor.chain.lb import lb_peer, lb_rulesets, node_peer, node_rulesets

    lb_sets, found = lb_rulesets(facts, ref), node_rulesets(facts, node)
    src, dst = lb_peer(facts, ref), node_peer(facts, node)
    if lb_sets is None or found is None or src is None or dst is None:
        return True  # not modelled (the file does not hold the network): not the model's to refuse
    preserved = client and any(b.get("isPreserveSource") for b in ref.backend_sets.values())
    traffic = Traffic.tcp(port)
    out = evaluate(lb_sets, EGRESS, traffic, dst)
    into = evaluate(found[2], INGRESS, traffic, ANY if preserved else src)
    return out.ok and into.ok


def _backend_ok(facts: Facts, ref: LoadBalancerRef, bset: dict[str, Any], backend: dict[str, Any]) -> str:
    """The health check's result, as the API names them: OK, TIMED_OUT, CONNECT_FAILED, INVALID_STATUS_CODE."""
    node = facts.node_by_ip(backend.get("ipAddress") or "")
    if node is None or not _node_ready(node) or not backend.get("port"):
        return "TIMED_OUT"
    port = int((bset.get("healthChecker") or {}).get("port") or backend["port"])
    if not _reaches(facts, ref, node, port):
        return "TIMED_OUT"
    if _served(facts, node, port):
        return "OK"
    _, kind = _services_by_port(facts).get(port, (None, ""))
    # kube-proxy answers ETP Local's health port with 503 on a node without a ready endpoint
    return "INVALID_STATUS_CODE" if kind == "health" else "CONNECT_FAILED"


def _app_listens(facts: Facts, svc: dict[str, Any], node_port: int) -> bool:
    """Something answers the Service's targetPort in a ready pod: what the file's in-pod probe saw
    on that port, else a port the pod declares (or any, when it declares none)."""
    port = next((p for p in (svc.get("spec") or {}).get("ports") or [] if p.get("nodePort") == node_port), {})
    target = port.get("targetPort", port.get("port"))
    live = (facts.snapshot.live or {}).get("containers") or {}
    for pod in _ready_pods(facts, svc):
        number = _target_number(pod, target)
        ns, name = pod["metadata"].get("namespace"), pod["metadata"]["name"]
        seen = [(live.get(f"{ns}/{name}/{c.get('name')}") or {}).get("localhost", {}).get(str(number))
                for c in (pod.get("spec") or {}).get("containers") or []]
        seen = [s for s in seen if s]
        if seen:
            if any(s.get("status") is not None for s in seen):
                return True
            continue
        declared = [cp for c in (pod.get("spec") or {}).get("containers") or [] for cp in c.get("ports") or []]
        if not declared or any(cp.get("containerPort") == number or cp.get("name") == target for cp in declared):
            return True
    return False


def _answer(facts: Facts, ref: LoadBalancerRef, port: int, healthy: dict[str, str]) -> str:
    listener = next((li for li in ref.listeners.values() if int(li.get("port") or 0) == port), None)
    if listener is None:
        return "refused"
    if not ref.is_private and not _front_door_open(facts, ref, port):
        return "timeout"
    bset = ref.backend_sets.get(listener.get("defaultBackendSetName") or "") or {}
    by_port = _services_by_port(facts)
    for b in bset.get("backends") or []:
        node = facts.node_by_ip(b.get("ipAddress") or "")
        svc, _ = by_port.get(int(b.get("port") or 0), (None, ""))
        if (healthy.get(f"{ref.id}/{bset.get('name')}/{b.get('name')}") == "OK" and node is not None and svc is not None
                and _served(facts, node, int(b["port"])) and _reaches(facts, ref, node, int(b["port"]), True)
                and _app_listens(facts, svc, int(b["port"]))):
            return "answers"
    return "bad-gateway" if str(listener.get("protocol") or "").upper().startswith("HTTP") else "timeout"


def _front_door_open(facts: Facts, ref: LoadBalancerRef, port: int) -> bool:
    from okedoctor.chain.lb import lb_rulesets, lb_subnets

    subnets = lb_subnets(facts, ref)
    for subnet in subnets:
        table = facts.route_table(subnet.get("routeTableId") or "")
        if table is not None and not has_igw_default_route(table):
            return False
    rulesets = lb_rulesets(facts, ref)
    return rulesets is None or evaluate(rulesets, INGRESS, Traffic.tcp(port), ANY).ok


def health_bodies(key: str, result: str, stamp: str) -> dict[str, Any]:
    """A backend's health answer as the API gives it."""
    return {"status": "OK" if result == "OK" else "CRITICAL",
            "healthCheckResults": [{"timestamp": stamp, "healthCheckStatus": result}]}


def set_health(names: list[str], ok: dict[str, bool]) -> dict[str, Any]:
    critical = [n for n in names if not ok.get(n)]
    status = "OK" if not critical else ("CRITICAL" if len(critical) == len(names) else "WARNING")
    return {"status": status, "warningStateBackendNames": [], "criticalStateBackendNames": critical,
            "unknownStateBackendNames": [], "totalBackendCount": len(names)}


__all__ = ["BACKEND_HEALTH", "BACKEND_SET_HEALTH", "Derived", "derive", "health_bodies", "set_health"]


# ---- the endpoints controller ---------------------------------------------------------------

def _target_number(pod: dict[str, Any], target: Any) -> int | None:
    if isinstance(target, int):
        return target
    for c in (pod.get("spec") or {}).get("containers") or []:
        for cp in c.get("ports") or []:
            if cp.get("name") == target:
                return int(cp["containerPort"])
    return int(target) if str(target).isdigit() else None


def endpoints_of(svc: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[list[dict], list[dict], list[dict]]:
    """(EndpointSlice endpoints, Endpoints subsets, slice ports) the controllers would write for svc."""
    sel = (svc.get("spec") or {}).get("selector") or {}
    ns = svc["metadata"].get("namespace")
    mine = [p for p in pods if sel and (p.get("metadata") or {}).get("namespace") == ns
            and all(((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in sel.items())
            and (p.get("status") or {}).get("podIP")]
    ports = (svc.get("spec") or {}).get("ports") or []
    first = mine[0] if mine else {}
    slice_ports = [{"name": p.get("name", ""), "port": _target_number(first, p.get("targetPort", p.get("port"))),
                    "protocol": p.get("protocol", "TCP")} for p in ports]
    slice_ports = [p for p in slice_ports if p["port"] is not None]
    endpoints, ready, not_ready = [], [], []
    for pod in mine:
        ok = pod_ready(pod)
        ref = {"kind": "Pod", "namespace": ns, "name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid")}
        node = (pod.get("spec") or {}).get("nodeName")
        endpoints.append({"addresses": [pod["status"]["podIP"]], "nodeName": node, "targetRef": ref,
                          "conditions": {"ready": ok, "serving": ok, "terminating": False}})
        (ready if ok else not_ready).append({"ip": pod["status"]["podIP"], "nodeName": node, "targetRef": ref})
    subset: dict[str, Any] = {"ports": [{k: v for k, v in p.items() if v != ""} for p in slice_ports]}
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    return endpoints, ([subset] if mine else []), slice_ports
