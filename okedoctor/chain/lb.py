"""What the OCI-side checks share: the Service <-> listener/backend-set pairing, the health-check
port the cloud controller manager (CCM) would set, the ports nodes serve, and the rule sets of
both ends of the LB -> worker path. Read-only helpers over Facts; no check lives here.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from okedoctor import actions
from okedoctor.facts import Facts, LoadBalancerRef, per_run, per_target, shared_by, shared_per_object
from okedoctor.netrules import Peer, RuleSet
from okedoctor.oci_catalog import FLAVORS, flavor_for_annotation

Obj = dict[str, Any]

KUBE_PROXY_HEALTH_PORT = 10256
HEALTH_PATH = "/healthz"
NODEPORT_RANGE = (30000, 32767)
LB_TYPE = "oci.oraclecloud.com/load-balancer-type"
RULE_MODE = "oci.oraclecloud.com/security-rule-management-mode"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"
NLB_SELECTOR = "oci-network-load-balancer.oraclecloud.com/node-label-selector"
LB_SELECTOR = "oci.oraclecloud.com/node-label-selector"
PRESERVE_SOURCE = "oci-network-load-balancer.oraclecloud.com/is-preserve-source"

# Codes of LB-side checks that other findings follow from (their classes live in checks/loadbalancer/).
INVALID_ANNOTATION = "OKD-LB-002"
NODE_MISSING_FROM_BACKENDS = "OKD-LB-008"


def spec(svc: Obj | None) -> Obj:
    return (svc or {}).get("spec") or {}


def annotations(obj: Obj | None) -> dict[str, str]:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def is_local(svc: Obj | None) -> bool:
    return spec(svc).get("externalTrafficPolicy") == "Local"


def wanted_flavor(svc: Obj) -> str:
    """"nlb" or "lb", as the CCM reads the type annotation (case-insensitive)."""
    return flavor_for_annotation(annotations(svc).get(LB_TYPE)).key


def expected_health_port(svc: Obj) -> int:
    """The port the CCM points the health checker at: healthCheckNodePort with Local, else 10256."""
    hc = spec(svc).get("healthCheckNodePort")
    return int(hc) if is_local(svc) and hc else KUBE_PROXY_HEALTH_PORT


def source_ranges(svc: Obj) -> list[str]:
    """The client CIDRs the CCM opens listeners to: loadBalancerSourceRanges, else 0.0.0.0/0."""
    ranges = spec(svc).get("loadBalancerSourceRanges") or []
    if not ranges:
        ann = annotations(svc).get("service.beta.kubernetes.io/load-balancer-source-ranges") or ""
        ranges = [r.strip() for r in ann.split(",") if r.strip()]
    return list(ranges) or ["0.0.0.0/0"]


def cli(ref: LoadBalancerRef) -> str:
    return FLAVORS[ref.flavor].cli_group


def lb_id_flag(ref: LoadBalancerRef) -> str:
    return FLAVORS[ref.flavor].id_flag


def kind_name(ref: LoadBalancerRef) -> str:
    return FLAVORS[ref.flavor].kind_name


# ---- Service ports <-> listeners and backend sets ---------------------------------------------

@dataclass(frozen=True)
class PortPair:
    """One Service port and the listener / backend set that carry it (None when missing)."""

    port: Obj
    listener: Obj | None
    backend_set_name: str | None
    backend_set: Obj | None

    @property
    def node_port(self) -> int | None:
        np = self.port.get("nodePort")
        return int(np) if np else None

    @property
    def label(self) -> str:
        return f"{self.port.get('protocol', 'TCP')}/{self.port.get('port')}"


def _protocol_fits(listener_proto: str, port_proto: str) -> bool:
    lp = (listener_proto or "").upper()
    pp = (port_proto or "TCP").upper()
    if lp in ("ANY", "TCP_AND_UDP"):
        return True
    if pp == "TCP":  # an L7 listener may speak HTTP/HTTP2/GRPC over the TCP Service port
        return lp in ("TCP", "HTTP", "HTTP2", "GRPC", "")
    return lp == pp


def listener_for(ref: LoadBalancerRef, port: Obj) -> Obj | None:
    """The listener on this Service port: by the CCM's name first, then by port and protocol."""
    proto = (port.get("protocol") or "TCP").upper()
    number = port.get("port")
    for name in (f"{proto}-{number}", f"TCP_AND_UDP-{number}", f"HTTP-{number}", f"GRPC-{number}"):
        if name in ref.listeners:
            return ref.listeners[name]
    for listener in ref.listeners.values():
        if listener.get("port") == number and _protocol_fits(listener.get("protocol", ""), proto):
            return listener
    return None


@per_target
def port_pairs(facts: Facts) -> list[PortPair]:
    ref = facts.load_balancer
    svc = facts.service
    if not ref or not svc:
        return []
    out = []
    for port in spec(svc).get("ports") or []:
        listener = listener_for(ref, port)
        name = listener.get("defaultBackendSetName") if listener else None
        if not listener and len(ref.backend_sets) == 1 and len(spec(svc).get("ports") or []) == 1:
            name = next(iter(ref.backend_sets))  # a hand-made LB with one backend set: that is it
        out.append(PortPair(port, listener, name, ref.backend_sets.get(name) if name else None))
    return out


def backends(backend_set: Obj | None) -> list[Obj]:
    return list((backend_set or {}).get("backends") or [])


def backend_name(backend: Obj) -> str:
    return backend.get("name") or f"{backend.get('ipAddress')}:{backend.get('port')}"


# ---- what the nodes serve ----------------------------------------------------------------------

@per_run
def served_ports(facts: Facts) -> dict[int, str]:
    """Ports something answers on every node: NodePorts, healthCheckNodePorts, kube-proxy's 10256,
    and host ports of pods. Values say who serves them, for the evidence."""
    out: dict[int, str] = {KUBE_PROXY_HEALTH_PORT: "kube-proxy /healthz"}
    for svc in facts.services:
        meta = svc.get("metadata") or {}
        who = f"{meta.get('namespace')}/{meta.get('name')}"
        for port in spec(svc).get("ports") or []:
            if port.get("nodePort"):
                out[int(port["nodePort"])] = f"NodePort of Service {who} (port {port.get('port')})"
        if spec(svc).get("healthCheckNodePort"):
            out[int(spec(svc)["healthCheckNodePort"])] = f"healthCheckNodePort of Service {who}"
    for pod in facts.objects("Pod"):
        pod_spec = pod.get("spec") or {}
        for c in pod_spec.get("containers") or []:
            for p in c.get("ports") or []:
                port = p.get("hostPort") or (p.get("containerPort") if pod_spec.get("hostNetwork") else None)
                if port:
                    out.setdefault(int(port), f"host port of pod {pod['metadata'].get('name')}")
    return out


# ---- nodes and backends -------------------------------------------------------------------------

@per_run
def node_ips(facts: Facts) -> dict[str, Obj]:
    return {ip: n for n in facts.nodes if (ip := facts.node_internal_ip(n))}


def _selector(svc: Obj, ref: LoadBalancerRef | None) -> dict[str, str]:
    key = NLB_SELECTOR if (ref.flavor if ref else wanted_flavor(svc)) == "nlb" else LB_SELECTOR
    raw = annotations(svc).get(key) or ""
    out = {}
    for term in raw.split(","):
        if "=" in term:
            k, v = term.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def exclusion_reason(node: Obj, svc: Obj, ref: LoadBalancerRef | None) -> str | None:
    """Why the CCM leaves this node out of the backends on purpose; None when it should be in."""
    return _excluded(node, _selector(svc, ref))


@shared_by(lambda selector: tuple(sorted(selector.items())))
def _exclusions(facts: Facts, selector: dict[str, str]) -> list[tuple[Obj, str | None]]:
    """(node, why it is left out or None) for every node: the same for each Service whose
    node-label-selector is the same (most have none), so a fleet looks at each node once."""
    return [(node, _excluded(node, selector)) for node in facts.nodes]


def _excluded(node: Obj, selector: dict[str, str]) -> str | None:
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    if meta.get("deletionTimestamp"):
        return "the node is being deleted"
    if EXCLUDE_LABEL in labels and labels[EXCLUDE_LABEL].lower() != "false":
        return f"label {EXCLUDE_LABEL}={labels[EXCLUDE_LABEL]}"
    if any(t.get("key") == TO_BE_DELETED_TAINT for t in (node.get("spec") or {}).get("taints") or []):
        return f"taint {TO_BE_DELETED_TAINT} (the cluster autoscaler is removing it)"
    if selector and any(labels.get(k) != v for k, v in selector.items()):
        return f"does not match the node-label-selector {selector}"
    return None


@per_target
def backend_workers(facts: Facts) -> list[Obj]:
    """The worker nodes the LB sends to: those whose InternalIP is a backend, else every node."""
    ref = facts.load_balancer
    by_ip = node_ips(facts)
    ips = {b.get("ipAddress") for p in port_pairs(facts) for b in backends(p.backend_set)}
    if ref:
        ips |= {b.get("ipAddress") for bs in ref.backend_sets.values() for b in backends(bs)}
    chosen = [by_ip[ip] for ip in sorted(i for i in ips if i in by_ip)]
    return chosen or [n for n in facts.nodes if facts.node_internal_ip(n)]


# ---- rule sets at both ends ---------------------------------------------------------------------

def lb_subnets(facts: Facts, ref: LoadBalancerRef) -> list[Obj]:
    return [s for sid in ref.subnet_ids if (s := facts.subnet(sid))]


def nsg_rulesets(facts: Facts, nsg_ids: list[str]) -> list[RuleSet] | None:
    """The NSGs as rule sets; None when some NSG or its rules were not read (cannot judge)."""
    out = []
    for nid in nsg_ids:
        body = facts.nsg(nid)
        rules = facts.nsg_rules(nid)
        if body is None or rules is None:
            return None
        out.append(RuleSet.from_nsg(body, rules))
    return out


def lb_rulesets(facts: Facts, ref: LoadBalancerRef) -> list[RuleSet] | None:
    subnets = lb_subnets(facts, ref)
    if not subnets:
        return None
    nsgs = nsg_rulesets(facts, ref.nsg_ids)
    if nsgs is None:
        return None
    lists = [RuleSet.from_security_list(sl, facts.etag(sl.get("id") or "")) for s in subnets
             for sl in facts.security_lists_of_subnet(s)]
    return lists + nsgs


def lb_peer(facts: Facts, ref: LoadBalancerRef) -> Peer | None:
    """The LB as the workers see it: its subnet's whole range (the LB may send from any address
    in it) and its NSGs."""
    subnets = lb_subnets(facts, ref)
    if not subnets:
        return None
    return Peer(subnets[0].get("cidrBlock", ""), frozenset(ref.nsg_ids))


@shared_per_object
def node_rulesets(facts: Facts, node: Obj) -> tuple[Obj, Obj, list[RuleSet]] | None:
    """(vnic, subnet, rule sets) of a worker; None when its network facts were not read."""
    vnic = facts.node_vnic(node)
    if not vnic:
        return None
    subnet = facts.subnet(vnic.get("subnetId", ""))
    if not subnet:
        return None
    nsgs = nsg_rulesets(facts, list(vnic.get("nsgIds") or []))
    if nsgs is None:
        return None
    lists = [RuleSet.from_security_list(sl, facts.etag(sl.get("id") or ""))
             for sl in facts.security_lists_of_subnet(subnet)]
    return vnic, subnet, lists + nsgs


def node_peer(facts: Facts, node: Obj) -> Peer | None:
    vnic = facts.node_vnic(node)
    ip = facts.node_internal_ip(node) or (vnic or {}).get("privateIp")
    if not ip:
        return None
    return Peer(ip, frozenset((vnic or {}).get("nsgIds") or ()))


@per_target
def traffic_ports(facts: Facts) -> list[tuple[str, int]]:
    """(what, port) pairs the LB must reach on every worker: each live NodePort and the port
    its health checker probes."""
    out: list[tuple[str, int]] = []
    for pair in port_pairs(facts):
        if pair.node_port:
            out.append((f"NodePort of {pair.label}", pair.node_port))
        hc = ((pair.backend_set or {}).get("healthChecker") or {}).get("port")
        if hc is None and facts.service and facts.load_balancer and facts.load_balancer.ccm_managed:
            hc = expected_health_port(facts.service)
        if hc and ("health-check port", int(hc)) not in out:
            out.append(("health-check port", int(hc)))
    return out


def rule_mode(svc: Obj | None, ref: LoadBalancerRef) -> str:
    """How the CCM manages security rules for this Service: "All", "Frontend", "NSG" or "None".

    The new annotation wins; otherwise the older per-type one, whose default is All for an
    L7 LB and None for an NLB (see the reference, section 4.1)."""
    ann = annotations(svc)
    value = ann.get(RULE_MODE)
    if value is not None:
        low = value.lower()
        return {"sl-all": "All", "sl-frontend": "Frontend", "nsg": "NSG"}.get(low, "None")
    if ref.flavor == "nlb":
        return ann.get("oci-network-load-balancer.oraclecloud.com/security-list-management-mode") or "None"
    legacy = ann.get("service.beta.kubernetes.io/oci-load-balancer-security-list-management-mode")
    return legacy if legacy in ("All", "Frontend", "None") else "All"


def ccm_annotation_fix(ref: LoadBalancerRef, svc: Obj | None = None, *, frontend: bool = False) -> str:
    """What the CCM would do about this rule: restore it (its mode covers it) or, if asked to by
    an annotation, write it. Empty for a hand-made LB."""
    if not ref.ccm_managed:
        return ""
    mode = rule_mode(svc, ref)
    has_backend_nsg = bool(annotations(svc).get("oci.oraclecloud.com/oci-backend-network-security-group"))
    covered = mode == "All" or (mode == "Frontend" and frontend) or (mode == "NSG" and (frontend or has_backend_nsg))
    if covered:
        return (f" The Service's rule-management mode ({mode}) makes the cloud controller manager write this rule: "
                "it was changed by hand and comes back on the controller's next sync of the Service.")
    return (f' Or let the cloud controller manager manage it: annotate the Service with '
            f'{RULE_MODE}: "SL-All" (security lists) or "NSG" (NSGs).')


# ---- commands that rewrite a backend set --------------------------------------------------------

def _json(value: Any) -> str:
    return shlex.quote(json.dumps(value, separators=(",", ":")))


def backend_details(ref: LoadBalancerRef, backend: Obj, port: int) -> Obj:
    """A BackendDetails body (the NLB's and the LB's field names differ), keeping every field the GET gave."""
    out = {"ipAddress": backend.get("ipAddress"), "port": port, "weight": backend.get("weight", 1)}
    if ref.flavor == "nlb":
        if backend.get("targetId"):
            out["targetId"] = backend["targetId"]
        flags = ("isBackup", "isDrain", "isOffline")
    else:
        if backend.get("maxConnections"):
            out["maxConnections"] = backend["maxConnections"]
        flags = ("backup", "drain", "offline")
    for key in flags:
        if backend.get(key):
            out[key] = True
    return out


_NLB_CHECKER = ("protocol", "port", "urlPath", "returnCode", "retries", "timeoutInMillis", "intervalInMillis",
                "responseBodyRegex", "requestData", "responseData", "dns")
_LB_CHECKER_FLAGS = (("protocol", "protocol"), ("port", "port"), ("urlPath", "url-path"),
                     ("returnCode", "return-code"), ("retries", "retries"), ("timeoutInMillis", "timeout-in-ms"),
                     ("intervalInMillis", "interval-in-ms"), ("responseBodyRegex", "response-body-regex"))
_LB_SSL_FLAGS = (("certificateName", "ssl-certificate-name", False), ("certificateIds", "ssl-certificate-ids", True),
                 ("verifyDepth", "ssl-verify-depth", False),
                 ("verifyPeerCertificate", "ssl-verify-peer-certificate", False),
                 ("protocols", "protocols", True), ("cipherSuiteName", "cipher-suite-name", False),
                 ("serverOrderPreference", "server-order-preference", False))


def node_backends(ref: LoadBalancerRef, facts: Facts, ips: list[str], port: int) -> list[Obj]:
    """Backend bodies for worker nodes (an NLB's name the node's instance as target, like the CCM's)."""
    out = []
    for ip in ips:
        body: Obj = {"ipAddress": ip, "port": port, "weight": 1}
        node = facts.node_by_ip(ip)
        target = ((node or {}).get("spec") or {}).get("providerID") or ""
        if ref.flavor == "nlb" and target.startswith("ocid1.instance"):
            body["targetId"] = target
        out.append(body)
    return out


def backend_set_update_command(
    ref: LoadBalancerRef,
    name: str,
    backend_set: Obj,
    *,
    backend_port: int | None = None,
    health_port: int | None = None,
    new_backends: list[Obj] | None = None,
) -> str:
    """The oci CLI command that rewrites one backend set with the given backend / health ports
    (None keeps what is there), or with `new_backends` as its whole list.

    Both CLIs replace the whole backend list with --backends, and the LB's update also resets
    every field it is not given: the command carries each one the GET returned."""
    hc = dict(backend_set.get("healthChecker") or {})
    if health_port:
        hc["port"] = health_port
    items = new_backends if new_backends is not None else \
        [backend_details(ref, b, backend_port or int(b.get("port") or 0)) for b in backends(backend_set)]
    before = [backend_details(ref, b, int(b.get("port") or 0)) for b in backends(backend_set)]
    if ref.flavor == "nlb":
        checker = {k: v for k, v in hc.items() if v is not None and k in _NLB_CHECKER}
        text = (f"oci nlb backend-set update --network-load-balancer-id {ref.id} --backend-set-name {name} "
                f"--backends {_json(items)} --health-checker {_json(checker)} --force")
        return actions.backend_set_update("nlb", ref.id, name, {"backends": items, "healthChecker": checker},
                                          before, text)
    text = " ".join([f"oci lb backend-set update --load-balancer-id {ref.id} --backend-set-name {name}",
                     f"--policy {backend_set.get('policy') or 'ROUND_ROBIN'}", f"--backends {_json(items)}",
                     *_lb_set_flags(backend_set, hc), "--force"])
    return actions.backend_set_update("lb", ref.id, name, _lb_details(backend_set, hc, items), before, text)


def _lb_details(backend_set: Obj, hc: Obj, items: list[Obj]) -> Obj:
    """The UpdateBackendSetDetails the classic LB command sends: every field the GET returned."""
    checker = {k: v for k, v in hc.items() if v not in (None, "") and k in dict(_LB_CHECKER_FLAGS)}
    checker.setdefault("protocol", "HTTP")
    out: Obj = {"policy": backend_set.get("policy") or "ROUND_ROBIN", "backends": items, "healthChecker": checker}
    for key in ("sslConfiguration", "sessionPersistenceConfiguration", "lbCookieSessionPersistenceConfiguration",
                "backendMaxConnections"):
        if backend_set.get(key):
            out[key] = backend_set[key]
    return out


def _lb_set_flags(backend_set: Obj, hc: Obj) -> list[str]:
    """The classic LB's flattened flags for the health checker, SSL, session persistence and limits."""
    parts = [f"--health-checker-protocol {hc.get('protocol') or 'HTTP'}"]
    parts += [f"--health-checker-{flag} {shlex.quote(str(hc[key]))}" for key, flag in _LB_CHECKER_FLAGS[1:]
              if hc.get(key) not in (None, "")]
    ssl = backend_set.get("sslConfiguration") or {}
    for key, flag, complex_ in _LB_SSL_FLAGS:
        if ssl.get(key) not in (None, "", []):
            value = _json(ssl[key]) if complex_ else shlex.quote(str(ssl[key]).lower()
                                                                 if isinstance(ssl[key], bool) else str(ssl[key]))
            parts.append(f"--{flag} {value}")
    sticky = backend_set.get("sessionPersistenceConfiguration") or {}
    if sticky.get("cookieName"):
        parts.append(f"--session-persistence-cookie-name {shlex.quote(sticky['cookieName'])}")
        if sticky.get("disableFallback") is not None:
            parts.append(f"--session-persistence-disable-fallback {str(sticky['disableFallback']).lower()}")
    if backend_set.get("lbCookieSessionPersistenceConfiguration"):
        parts.append(f"--lb-cookie-session-persistence-configuration "
                     f"{_json(backend_set['lbCookieSessionPersistenceConfiguration'])}")
    if backend_set.get("backendMaxConnections"):
        parts.append(f"--backend-max-connections {backend_set['backendMaxConnections']}")
    return parts


def health_port_of(backend_set: Obj) -> int | None:
    """The port the health checker probes; an NLB checker without a port probes each backend's port."""
    port = (backend_set.get("healthChecker") or {}).get("port")
    if port:
        return int(port)
    ports = {int(b["port"]) for b in backends(backend_set) if b.get("port")}
    return ports.pop() if len(ports) == 1 else None


def missing_nodes(facts: Facts, backend_set: Obj | None) -> list[tuple[Obj, str]]:
    """(node, why) for nodes the CCM should have made backends of this set and did not.

    Only meaningful for a CCM-made LB: a hand-made one may use any subset of nodes."""
    svc = facts.service
    ref = facts.load_balancer
    if not svc or not ref or not ref.ccm_managed:
        return []
    present = {b.get("ipAddress") for b in backends(backend_set)}
    candidates = _backend_candidates(facts, _selector(svc, ref))
    missing = sorted(entry for ip in candidates.keys() - present for entry in candidates[ip])
    return [(node, why) for _, node, why in missing]


@shared_by(lambda selector: tuple(sorted(selector.items())))
def _backend_candidates(facts: Facts, selector: dict[str, str]) -> dict[str | None, list[tuple[int, Obj, str]]]:
    """The nodes the CCM should make backends, by InternalIP: (their order, node, why it would be
    missing). Per run and selector, so each backend set costs its own backends, not the nodes'."""
    out: dict[str | None, list[tuple[int, Obj, str]]] = {}
    for index, (node, excluded) in enumerate(_exclusions(facts, selector)):
        if excluded:
            continue  # left out on purpose
        ip = facts.node_internal_ip(node)
        if not (node.get("spec") or {}).get("providerID"):
            why = "the node has no spec.providerID, and the cloud controller manager skips such nodes"
        elif not ip:
            why = "the node reports no InternalIP address"
        else:
            why = "not added by the cloud controller manager: see the Service's sync events"
        out.setdefault(ip, []).append((index, node, why))
    return out


def preserves_source(facts: Facts) -> bool:
    """NLB + externalTrafficPolicy Local + a backend set with isPreserveSource: clients' own
    addresses reach the NodePort, only the health checks come from the NLB subnet."""
    ref = facts.load_balancer
    return bool(ref and ref.flavor == "nlb" and is_local(facts.service)
                and any(bs.get("isPreserveSource") for bs in ref.backend_sets.values()))


def emptied_by_missing_provider_id(facts: Facts) -> list[str]:
    """The backend sets of a CCM-made LB that hold no backend because no qualifying node has a
    spec.providerID: the cloud controller manager skipped every node it should have added.

    Then the missing providerIDs are the root cause of an empty backend set (and of the dead
    address), not one node's lost capacity."""
    out = []
    for pair in port_pairs(facts):
        if pair.backend_set is None or backends(pair.backend_set) or not pair.backend_set_name:
            continue
        missing = missing_nodes(facts, pair.backend_set)
        if missing and all(not (n.get("spec") or {}).get("providerID") for n, _ in missing):
            out.append(pair.backend_set_name)
    return out
