"""Generate a large cluster scenario for the fleet report's tests and benchmark.

Every object is a clone of one in the shipped healthy-nlb scenario (itself written from the
real API shapes) with new names, addresses and UIDs, so the generated cluster is as faithful
as the scenario it grows from. Each Service gets one of a few incidents, and the generator
returns the verdict and root-cause hop a correct diagnosis must give it.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any

from okedoctor.snapshot import Snapshot, snapshot_from_dict

Obj = dict[str, Any]

# incident -> (verdict, hop of the root cause)
INCIDENTS: dict[str, tuple[str, str | None]] = {
    "healthy": ("ok", None),
    "selector-mismatch": ("failure", "pod"),
    "crashloop": ("failure", "pod"),
    "app-500": ("failure", "pod"),
    "stale-backend-port": ("failure", "loadbalancer"),
    "no-load-balancer": ("failure", "loadbalancer"),
}
# One healthy Service in two, the rest broken in turn.
PATTERN = ("healthy", "selector-mismatch", "healthy", "crashloop", "healthy", "app-500",
           "healthy", "stale-backend-port", "healthy", "no-load-balancer")
WORKER_CIDR = "10.0.8.0/21"  # room for 2,000 workers
PUBLIC_RANGES = ("203.0.113", "198.51.100", "192.0.2")


@dataclass(frozen=True)
class Expected:
    verdict: str
    root_hop: str | None
    incident: str


def _template() -> Obj:
    from okedoctor.overlay import load_document

    return load_document(resources.files("okedoctor").joinpath("scenarios/healthy-nlb.yaml"))


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "okedoctor-fleet/" + "/".join(map(str, parts))))


def _node_ip(i: int) -> str:
    return f"10.0.{10 + i // 250}.{5 + i % 250}"


def _public_ip(i: int) -> str:
    return f"{PUBLIC_RANGES[i // 250 % 3]}.{5 + i % 250}"


class _Builder:
    def __init__(self, nodes: int, pods_per_service: int):
        self.t = _template()
        self.by_kind = {}
        for obj in self.t["kubernetes"]:
            self.by_kind.setdefault(obj["kind"], obj)
        self.pods_per_service = pods_per_service
        self.kube: list[Obj] = []
        self.oci: dict[str, Any] = {k: (copy.deepcopy(v) if k in ("subnets", "securityLists") else type(v)())
                                    for k, v in self.t["oci"].items()}
        self.live: dict[str, Any] = {"containers": {}, "internet": {}}
        self.node_names = [self._add_node(i) for i in range(nodes)]
        self._widen_worker_subnet()

    def _clone(self, kind: str) -> Obj:
        return copy.deepcopy(self.by_kind[kind])

    def _add_node(self, i: int) -> str:
        ip, instance = _node_ip(i), f"ocid1.instance.oc1.ap-tokyo-1.fleetnode{i}"
        node = self._clone("Node")
        node["metadata"].update(name=ip, uid=_uid("node", i))
        node["metadata"]["labels"]["kubernetes.io/hostname"] = ip
        node["spec"]["providerID"] = instance
        node["status"]["addresses"] = [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": ip}]
        node["status"]["nodeInfo"].update(bootID=_uid("boot", i), systemUUID=_uid("sys", i),
                                          machineID=_uid("machine", i).replace("-", ""))
        self.kube.append(node)
        inst = copy.deepcopy(self.t["oci"]["instances"][0])
        inst.update(id=instance, displayName=f"oke-fleet-node{i}")
        vnic_id = f"ocid1.vnic.oc1.ap-tokyo-1.fleetvnic{i}"
        att = copy.deepcopy(self.t["oci"]["vnicAttachments"][0])
        att.update(id=f"ocid1.vnicattachment.oc1.ap-tokyo-1.fleet{i}", instanceId=instance, vnicId=vnic_id)
        vnic = copy.deepcopy(self.t["oci"]["vnics"][0])
        vnic.update(id=vnic_id, privateIp=ip)
        self.oci["instances"].append(inst)
        self.oci["vnicAttachments"].append(att)
        self.oci["vnics"].append(vnic)
        return ip

    def _widen_worker_subnet(self) -> None:
        old = "10.0.10.0/24"
        for sub in self.oci["subnets"]:
            if sub["cidrBlock"] == old:
                sub["cidrBlock"], sub["ipv4CidrBlocks"] = WORKER_CIDR, [WORKER_CIDR]
        for sl in self.oci["securityLists"]:
            for rule in sl["ingressSecurityRules"]:
                if rule.get("source") == old:
                    rule["source"] = WORKER_CIDR
            for rule in sl["egressSecurityRules"]:
                if rule.get("destination") == old:
                    rule["destination"] = WORKER_CIDR

    def add_service(self, i: int, incident: str) -> None:
        ns, name = f"team-{i % 10}", f"svc-{i:03d}"
        uid, node_port, ip = _uid("svc", i), 30000 + i, _public_ip(i)
        labels = {"app": name}
        svc = self._clone("Service")
        svc["metadata"].update(name=name, namespace=ns, uid=uid)
        svc["spec"]["selector"] = {"app": f"{name}-v2"} if incident == "selector-mismatch" else labels
        svc["spec"]["ports"][0]["nodePort"] = node_port
        svc["spec"]["clusterIP"] = svc["spec"]["clusterIPs"][0] = f"10.96.{i // 250}.{i % 250 + 1}"
        ingress = [] if incident == "no-load-balancer" else [{"ip": ip, "ipMode": "VIP"}]
        svc["status"] = {"loadBalancer": {"ingress": ingress} if ingress else {}}
        self.kube.append(svc)
        pods = self._add_workload(i, ns, name, labels, incident)
        selected = [] if incident == "selector-mismatch" else pods
        self._add_endpoints(ns, name, uid, selected, ready=incident != "crashloop")
        if incident == "no-load-balancer":
            self._add_sync_failure_event(ns, name, uid, i)
        else:
            self._add_nlb(i, ns, name, uid, node_port, ip, stale=incident == "stale-backend-port")
            self.live["internet"][f"{ip}:80"] = (
                {"status": 500, "body": "Internal Server Error"} if incident == "app-500"
                else {"status": 200, "body": "ok"} if incident == "healthy" else {"error": "refused"})

    def _add_workload(self, i: int, ns: str, name: str, labels: dict, incident: str) -> list[Obj]:
        dep, rs = self._clone("Deployment"), self._clone("ReplicaSet")
        dep_uid, rs_uid, rs_name = _uid("dep", i), _uid("rs", i), f"{name}-5c9d7f8b6d"
        dep["metadata"].update(name=name, namespace=ns, uid=dep_uid, labels=labels)
        dep["spec"]["selector"]["matchLabels"] = labels
        dep["spec"]["template"]["metadata"]["labels"] = labels
        dep["spec"]["replicas"] = self.pods_per_service
        rs_labels = {**labels, "pod-template-hash": "5c9d7f8b6d"}
        rs["metadata"].update(name=rs_name, namespace=ns, uid=rs_uid, labels=rs_labels)
        rs["metadata"]["ownerReferences"][0].update(name=name, uid=dep_uid)
        rs["spec"]["template"]["metadata"]["labels"] = dict(rs_labels)
        rs["spec"]["selector"]["matchLabels"] = dict(rs_labels)
        if incident == "crashloop":
            for obj in (dep, rs):
                obj["status"].update(readyReplicas=0, availableReplicas=0)
            dep["status"]["unavailableReplicas"] = self.pods_per_service
        self.kube += [dep, rs]
        return [self._add_pod(i, k, ns, rs_name, rs_uid, labels, incident) for k in range(self.pods_per_service)]

    def _add_pod(self, i: int, k: int, ns: str, rs_name: str, rs_uid: str, labels: dict, incident: str) -> Obj:
        pod = self._clone("Pod")
        name = f"{rs_name}-p{k:02d}x"
        node = self.node_names[(i * self.pods_per_service + k) % len(self.node_names)]
        pod["metadata"].update(name=name, namespace=ns, uid=_uid("pod", i, k), generateName=f"{rs_name}-",
                               labels=dict(labels, **{"pod-template-hash": "5c9d7f8b6d"}))
        pod["metadata"]["ownerReferences"][0].update(name=rs_name, uid=rs_uid)
        pod["spec"]["nodeName"] = node
        status = pod["status"]
        status.update(hostIP=node, hostIPs=[{"ip": node}])
        pod_ip = f"10.{245 + i // 250}.{i % 250}.{k + 2}"
        status.update(podIP=pod_ip, podIPs=[{"ip": pod_ip}])
        cs = status["containerStatuses"][0]
        cs["containerID"] = "cri-o://" + _uid("ctr", i, k).replace("-", "") * 2
        key = f"{ns}/{name}/web"
        if incident == "crashloop":
            for cond in status["conditions"]:
                if cond["type"] in ("Ready", "ContainersReady"):
                    cond.update(status="False", reason="ContainersNotReady",
                                message="containers with unready status: [web]")
            cs.update(ready=False, started=False, restartCount=7,
                      state={"waiting": {"reason": "CrashLoopBackOff",
                                         "message": f"back-off 5m0s restarting failed container=web pod={name}_{ns}"}},
                      lastState={"terminated": {"exitCode": 1, "reason": "Error",
                                                "startedAt": "2026-11-20T03:05:00Z",
                                                "finishedAt": "2026-11-20T03:05:01Z",
                                                "containerID": cs["containerID"]}})
            self.live["containers"][key] = {
                "logs": "", "tools": ["sh", "curl"],
                "previousLogs": "2026-11-20T03:05:01Z FATAL required environment variable DATABASE_URL is not set\n",
            }
        else:
            answer = ({"status": 500, "body": "Internal Server Error"} if incident == "app-500"
                      else {"status": 200, "body": "ok"})
            self.live["containers"][key] = {"logs": "2026-11-20T03:00:00Z INFO listening on 0.0.0.0:8080\n",
                                           "tools": ["sh", "curl"], "localhost": {"8080": answer}}
        self.kube.append(pod)
        return pod

    def _add_endpoints(self, ns: str, name: str, svc_uid: str, pods: list[Obj], ready: bool) -> None:
        ep, eps = self._clone("Endpoints"), self._clone("EndpointSlice")
        ep["metadata"].update(name=name, namespace=ns, uid=_uid("ep", ns, name), labels={"app": name})
        eps["metadata"].update(name=f"{name}-abcde", namespace=ns, uid=_uid("eps", ns, name), generateName=f"{name}-",
                               labels={**eps["metadata"]["labels"], "app": name, "kubernetes.io/service-name": name})
        eps["metadata"]["ownerReferences"][0].update(name=name, uid=svc_uid)
        addrs = [{"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                  "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                "uid": p["metadata"]["uid"]}} for p in pods]
        if not pods:
            ep["subsets"] = []
        else:
            ep["subsets"] = [{("addresses" if ready else "notReadyAddresses"): addrs,
                              "ports": ep["subsets"][0]["ports"]}]
        eps["endpoints"] = [{"addresses": [a["ip"]], "nodeName": a["nodeName"], "targetRef": a["targetRef"],
                             "conditions": {"ready": ready, "serving": ready, "terminating": False}} for a in addrs]
        self.kube += [ep, eps]

    def _add_sync_failure_event(self, ns: str, name: str, uid: str, i: int) -> None:
        self.kube.append({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.18a2b3c4d5e6f7{i:02d}", "namespace": ns, "uid": _uid("ev", i),
                         "resourceVersion": "1", "creationTimestamp": "2026-11-20T03:00:00Z"},
            "involvedObject": {"apiVersion": "v1", "kind": "Service", "name": name, "namespace": ns, "uid": uid,
                               "resourceVersion": "1"},
            "reason": "SyncLoadBalancerFailed",
            "message": ("Error syncing load balancer: failed to ensure load balancer: creating network load "
                        "balancer: Error returned by NetworkLoadBalancer Service. Http Status Code: 400. "
                        "Error Code: LimitExceeded. Message: The following service limits were exceeded: "
                        "network-load-balancer-count."),
            "source": {"component": "service-controller"},
            "firstTimestamp": "2026-11-20T02:40:00Z", "lastTimestamp": "2026-11-20T03:00:00Z", "count": 12,
            "type": "Warning", "reportingComponent": "service-controller", "reportingInstance": "",
        })

    def _add_nlb(self, i: int, ns: str, name: str, uid: str, node_port: int, ip: str, stale: bool) -> None:
        nlb = copy.deepcopy(self.t["oci"]["networkLoadBalancers"][0])
        nlb_id = f"ocid1.networkloadbalancer.oc1.ap-tokyo-1.fleet{i}"
        nlb.update(id=nlb_id, displayName=f"{ns}/{name}/{uid}")
        nlb["ipAddresses"] = [{"ipAddress": ip, "isPublic": True, "ipVersion": "IPV4", "reservedIp": None}]
        port = node_port + 1000 if stale else node_port
        bset = nlb["backendSets"]["TCP-80"]
        template = bset["backends"][0]
        bset["backends"] = []
        for n, node in enumerate(self.node_names):
            b = dict(template, name=f"{node}:{port}", ipAddress=node, port=port,
                     targetId=f"ocid1.instance.oc1.ap-tokyo-1.fleetnode{n}")
            bset["backends"].append(b)
        self.oci["networkLoadBalancers"].append(nlb)
        self.oci["backendSetHealth"][f"{nlb_id}/TCP-80"] = {
            "status": "OK", "warningStateBackendNames": [], "criticalStateBackendNames": [],
            "unknownStateBackendNames": [], "totalBackendCount": len(self.node_names)}


def generate_fleet(
    services: int = 60, nodes: int = 3, pods_per_service: int = 2
) -> tuple[Snapshot, dict[str, Expected]]:
    """A cluster of `services` LoadBalancer Services; returns it and what each must be diagnosed as."""
    b = _Builder(nodes, pods_per_service)
    for team in range(min(services, 10)):
        ns = copy.deepcopy(b.by_kind["Namespace"])
        ns["metadata"].update(name=f"team-{team}", uid=_uid("ns", team),
                              labels={"kubernetes.io/metadata.name": f"team-{team}"})
        b.kube.append(ns)
    expected: dict[str, Expected] = {}
    for i in range(services):
        incident = PATTERN[i % len(PATTERN)]
        b.add_service(i, incident)
        verdict, hop = INCIDENTS[incident]
        expected[f"team-{i % 10}/svc-{i:03d}"] = Expected(verdict, hop, incident)
    doc = {
        "apiVersion": "okedoctor/v1", "kind": "Snapshot",
        "metadata": {"name": f"fleet-{services}", "description": f"{services} Services on {nodes} workers, generated"},
        "context": dict(b.t["context"]),
        "target": {},
        "kubernetes": b.kube, "oci": b.oci, "live": b.live,
    }
    return snapshot_from_dict(doc, "generated fleet"), expected
