"""The OCI Native Ingress Controller: what it makes and how it names it, read from the objects.

The controller (github.com/oracle/oci-native-ingress-controller) serves IngressClasses whose
`spec.controller` is `oci.oraclecloud.com/native-ingress-controller`. For each such class it makes
one L7 load balancer (its settings in the class's `IngressClassParameters`, group
`ingress.oraclecloud.com/v1beta1`) and writes the LB's OCID on the class
(`oci-native-ingress.oraclecloud.com/id`) and the LB's address on each Ingress's status. No
Service owns that LB: it sends straight to the pods' IPs (VCN-native pod networking), so the
request never crosses a NodePort or a node's kube-proxy.

Its names, as the controller computes them (pkg/util/util.go), so okedoctor can find in the LB
body what the controller should have made for a rule:
- backend set `bs_` + the first 15 hex digits of sha256(namespace + service + service port), one
  per Service and port, whose backends are the Service's endpoint addresses on the target port;
- listener and routing policy `route_<port>` (the Service port, or the http/https-listener-port
  annotation), each rule of the policy named `k8s_` + 10 hex digits of sha256(ingress name + host
  + pathType (ImplementationSpecific when unset) + path + service name);
- the readiness gate of a pod behind a rule `podreadiness.ingress.oraclecloud.com/<that rule name>`,
  which the controller sets True once the pod's backend is not CRITICAL/WARNING/UNKNOWN.

Read-only helpers over Facts; no check lives here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from okedoctor.chain import ingress as ing
from okedoctor.chain.podnet import Gap, Gaps, Side, pod_side
from okedoctor.chain.rules import lb_endpoint
from okedoctor.facts import Facts, LoadBalancerRef
from okedoctor.kube import condition, resolve_target_port
from okedoctor.netrules import EGRESS, INGRESS, Peer, Traffic

Obj = dict[str, Any]

CONTROLLER = "oci.oraclecloud.com/native-ingress-controller"
LB_ID_ANNOTATION = "oci-native-ingress.oraclecloud.com/id"
GATE_PREFIX = "podreadiness.ingress.oraclecloud.com"
INJECT_LABEL = "podreadiness.ingress.oraclecloud.com/pod-readiness-gate-inject"
PARAMS_GROUP = "ingress.oraclecloud.com"
PARAMS_VERSION = "v1beta1"
PARAMS_KIND = "IngressClassParameters"
PARAMS_PLURAL = "ingressclassparameters"
HTTP_PORT_ANNOTATION = "oci-native-ingress.oraclecloud.com/http-listener-port"
HTTPS_PORT_ANNOTATION = "oci-native-ingress.oraclecloud.com/https-listener-port"
CERT_ANNOTATION = "oci-native-ingress.oraclecloud.com/certificate-ocid"
DEFAULT_BACKEND_SET = "default_ingress"

KIND = ing.ControllerKind("oci-native-ingress", CONTROLLER, ("oci-native-ingress-controller",),
                          (("app.kubernetes.io/name", "oci-native-ingress-controller"),))


def _sha(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
    return h.hexdigest()


def backend_set_name(namespace: str, service: str, port: int) -> str:
    return "bs_" + _sha(namespace, service, str(port))[:15]


def listener_name(port: int) -> str:
    return f"route_{port}"


def rule_policy_name(rule: ing.RulePath) -> str:
    path_type = rule.path_type or "ImplementationSpecific"
    return "k8s_" + _sha(rule.name, rule.host or "", path_type, rule.path, rule.service or "")[:10]


def readiness_gate(rule: ing.RulePath) -> str:
    return f"{GATE_PREFIX}/{rule_policy_name(rule)}"


def native_classes(facts: Facts) -> list[Obj]:
    return [c for c in facts.objects("IngressClass") if (c.get("spec") or {}).get("controller") == CONTROLLER]


def lb_id(cls: Obj) -> str | None:
    return ((cls.get("metadata") or {}).get("annotations") or {}).get(LB_ID_ANNOTATION) or None


def class_name(cls: Obj) -> str:
    return (cls.get("metadata") or {}).get("name", "")


def serves(facts: Facts, cls: Obj, ingress: Obj) -> bool:
    """Whether this class's controller (and so its LB) takes the Ingress: its class, or the default."""
    eff = ing.effective_class(facts, ingress)
    return eff is not None and class_name(eff) == class_name(cls)


def lb_body(facts: Facts, cls: Obj) -> Obj | None:
    ocid = lb_id(cls)
    return next((b for b in facts.oci.get("loadBalancers") or [] if b.get("id") == ocid), None) if ocid else None


def lb_ref(facts: Facts, cls: Obj) -> LoadBalancerRef | None:
    body = lb_body(facts, cls)
    return LoadBalancerRef("lb", body, "lb-ocid") if body else None


def _status_ips(ingress: Obj) -> set[str]:
    entries = ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return {e["ip"] for e in entries if e.get("ip")}


def addresses(facts: Facts, cls: Obj) -> list[str]:
    """The addresses of the class's LB: the LB body's when OCI was read, and the ones the controller
    wrote on the status of the class's Ingresses (known without OCI)."""
    body = lb_body(facts, cls)
    ips = [a["ipAddress"] for a in (body or {}).get("ipAddresses") or [] if a.get("ipAddress")]
    ips += [ip for i in facts.objects("Ingress") if serves(facts, cls, i) for ip in sorted(_status_ips(i))]
    return list(dict.fromkeys(ips))


def class_for_address(facts: Facts, answers: list[str]) -> tuple[Obj, str] | None:
    """The native IngressClass whose LB holds one of the answers."""
    for cls in native_classes(facts):
        ips = addresses(facts, cls)
        hit = next((a for a in answers if a in ips), None)
        if hit:
            return cls, hit
    return None


def parameters(facts: Facts, cls: Obj) -> Obj | None:
    """The IngressClassParameters object the class points at, when it was read."""
    ref = (cls.get("spec") or {}).get("parameters") or {}
    if (ref.get("kind") or "").lower() != PARAMS_KIND.lower() or not ref.get("name"):
        return None
    return facts.get(PARAMS_KIND, ref.get("namespace") or "", ref["name"])


def parameters_ref(cls: Obj) -> tuple[str, str] | None:
    """(namespace, name) of the class's IngressClassParameters, when it names one."""
    ref = (cls.get("spec") or {}).get("parameters") or {}
    if (ref.get("kind") or "").lower() != PARAMS_KIND.lower() or not ref.get("name"):
        return None
    return ref.get("namespace") or "", ref["name"]


@dataclass(frozen=True)
class Backend:
    """One pod the controller should have put in the rule's backend set."""

    pod: str
    ip: str
    port: int
    ready: bool

    @property
    def name(self) -> str:
        return f"{self.ip}:{self.port}"


def expected_backends(facts: Facts, service: Obj, port: Obj) -> list[Backend]:
    """The Service's endpoint addresses (ready and not) that are pods, on the port's target port:
    what the controller's backend controller writes into the backend set."""
    endpoints = facts.endpoints(service) or {}
    ns = (service.get("metadata") or {}).get("namespace") or "default"
    out = []
    for subset in endpoints.get("subsets") or []:
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for addr in subset.get(key) or []:
                ref = addr.get("targetRef") or {}
                if ref.get("kind") != "Pod" or not addr.get("ip"):
                    continue
                pod = facts.get("Pod", ns, ref.get("name", ""))
                target = resolve_target_port(port, pod) if pod else None
                if target is None and isinstance(port.get("targetPort"), int):
                    target = port["targetPort"]
                if target is not None:
                    out.append(Backend(ref.get("name", ""), addr["ip"], int(target), ready))
    return sorted(set(out), key=lambda b: (b.pod, b.ip))


def listener_port(rule: ing.RulePath, service_port: int) -> int:
    """The listener the controller puts the rule on: the Service port, unless the Ingress names one."""
    anns = (rule.route.get("metadata") or {}).get("annotations") or {}
    tls_hosts = {h for t in (rule.route.get("spec") or {}).get("tls") or [] for h in t.get("hosts") or []}
    key = HTTPS_PORT_ANNOTATION if (anns.get(CERT_ANNOTATION) or rule.host in tls_hosts) else HTTP_PORT_ANNOTATION
    try:
        return int(anns.get(key) or service_port)
    except ValueError:
        return service_port


def gate_status(pod: Obj, gate: str) -> Obj | None:
    return condition(pod, gate)


@dataclass(frozen=True)
class RuleTarget:
    """Where the native LB should send the walk's rule: its backend set and the pods in it."""

    ref: LoadBalancerRef
    service: Obj
    port: Obj  # the Service port the rule names
    backend_set: str
    expected: tuple[Backend, ...]

    @property
    def body(self) -> Obj | None:
        return self.ref.backend_sets.get(self.backend_set)

    @property
    def listed(self) -> set[str]:
        return {f"{b.get('ipAddress')}:{b.get('port')}" for b in (self.body or {}).get("backends") or []}


def rule_target(facts: Facts, walk: Any) -> RuleTarget | None:
    """The walk's rule as the native LB should carry it; None unless the walk went through the
    native LB to an existing backend Service port and the LB body was read."""
    cls = getattr(walk, "native_class", None)
    if cls is None or walk.backend is None or walk.match is None:
        return None
    ref = lb_ref(facts, cls)
    port = ing.service_port(walk.backend, walk.match.port)
    if ref is None or port is None:
        return None
    ns = (walk.backend.get("metadata") or {}).get("namespace") or "default"
    name = walk.backend["metadata"]["name"]
    bs = DEFAULT_BACKEND_SET if walk.match.default_backend else backend_set_name(ns, name, int(port["port"]))
    return RuleTarget(ref, walk.backend, port, bs, tuple(expected_backends(facts, walk.backend, port)))


def health_of(facts: Facts, target: RuleTarget, backend: Backend) -> str | None:
    """The backend's health: its own GetBackendHealth, else what the set's health says of it (the
    collector reads each backend only when the set is not OK); None when neither was read."""
    got = facts.backend_health(target.ref.id, target.backend_set, backend.name)
    if got and got.get("status"):
        return got["status"]
    whole = facts.backend_set_health(target.ref.id, target.backend_set)
    if not whole:
        return None
    for status in ("CRITICAL", "WARNING", "UNKNOWN"):
        if backend.name in (whole.get(f"{status.lower()}StateBackendNames") or []):
            return status
    return "OK" if whole.get("status") == "OK" else None


def lb_pod_gaps(facts: Facts, target: RuleTarget) -> list[Gap] | None:
    """What the VCN's rules block between the native LB and the rule's pods, on the target port:
    the LB's egress to the pod and the pod VNIC's ingress from the LB subnet (stateless rules need
    their return rule). None when the rules of either side were not read or the pods' IPs are in
    no subnet of their nodes (an overlay: then the controller sends to NodePorts instead)."""
    endpoint = lb_endpoint(facts, target.ref)
    if endpoint is None:
        return None
    lb_side = Side(endpoint.label, endpoint.rulesets, endpoint.cidr, endpoint.subnet_id)
    lb_peer = Peer(endpoint.cidr, frozenset(target.ref.nsg_ids))
    gaps, judged = Gaps(), False
    ns = (target.service.get("metadata") or {}).get("namespace") or "default"
    for backend in target.expected:
        pod = facts.get("Pod", ns, backend.pod)
        got = pod_side(facts, pod) if pod else None
        if got is None:
            continue
        p_side, p_peer = got
        judged = True
        flow = f"{endpoint.cidr} -> {backend.ip}:{backend.port}"
        traffic = Traffic.tcp(backend.port)
        gaps.check(lb_side, EGRESS, traffic, p_peer, p_side.cidr, flow)
        gaps.check(p_side, INGRESS, traffic, lb_peer, lb_side.cidr, flow)
    return list(gaps.by_key.values()) if judged else None


# Codes of the native checks, for the findings that name their cause (never the check classes).
BACKENDS_UNHEALTHY = "OKD-NIC-002"
LB_TO_PODS_BLOCKED = "OKD-NIC-003"

CONTROLLER_PODS = "kubectl get pods -A -l app.kubernetes.io/name=oci-native-ingress-controller"


def inspect_commands(target: RuleTarget, cls: Obj) -> tuple[str, ...]:
    """What to look at when the controller did not sync a rule: the LB's set, the class's events
    (BackendReconcileFailed), the controller's pods."""
    return (f"oci lb backend-set get --load-balancer-id {target.ref.id} --backend-set-name {target.backend_set}",
            f"kubectl describe ingressclass {class_name(cls)}",
            CONTROLLER_PODS)


def unhealthy(facts: Facts, target: RuleTarget) -> list[tuple[Backend, str]]:
    """The rule's listed pod backends whose health is not OK, with their status."""
    out = []
    for b in target.expected:
        if b.name in target.listed:
            status = health_of(facts, target, b)
            if status and status != "OK":
                out.append((b, status))
    return out
