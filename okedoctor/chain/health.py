"""The load balancer's own view of its backends, read the way it has to be read.

Shared by the LB checks that judge it and by the internet checks that tie a dead address to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from okedoctor.chain.lb import (
    PortPair,
    backend_name,
    backends,
    expected_health_port,
    health_port_of,
    is_local,
    node_ips,
    port_pairs,
    served_ports,
)
from okedoctor.facts import Facts, per_target
from okedoctor.kube import ready_endpoint_nodes

# The checks whose findings others follow from (their classes live in checks/loadbalancer/).
HEALTH_PORT_NOT_SERVED = "OKD-LB-009"
BACKENDS_UNHEALTHY = "OKD-LB-011"

# What each per-check result says about the path to the health port.
MEANING = {
    "TIMED_OUT": "no answer: a security rule drops the probe (LB egress or worker ingress) or the node is down",
    "CONNECT_FAILED": "refused: nothing listens on the health-check port on that node",
    "INVALID_STATUS_CODE": "answered with a non-200 status (kube-proxy: no ready local endpoint, or unhealthy)",
    "IO_ERROR": "the connection broke during the check",
    "REGEX_MISMATCH": "the body did not match the configured regex",
    "HEALTH_PAYLOAD_MISMATCH": "the answer did not match the expected payload",
    "OFFLINE": "the backend is marked offline",
}


def results(health: dict[str, Any] | None) -> list[str]:
    return [r.get("healthCheckStatus", "UNKNOWN") for r in (health or {}).get("healthCheckResults") or []]


@dataclass
class Assessment:
    """One backend set whose health is not OK, sorted into what is expected and what is not."""

    pair: PortPair
    set_health: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[tuple[str, list[str]]] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    healthy: int = 0

    @property
    def loud(self) -> bool:
        """A warning or error (not the by-design ETP Local 503s)."""
        return bool(self.unexpected)


@per_target
def assess(facts: Facts) -> list[Assessment]:
    """The backend sets that do not read OK, each backend tied to its node."""
    ref = facts.load_balancer
    if not ref or not facts.service:
        return []
    by_ip = node_ips(facts)
    ready_nodes = set(ready_endpoint_nodes(facts, facts.service))
    local = is_local(facts.service)
    out = []
    for pair in port_pairs(facts):
        if not pair.backend_set or not pair.backend_set_name:
            continue
        set_health = facts.backend_set_health(ref.id, pair.backend_set_name)
        if not set_health or set_health.get("status") == "OK":
            continue
        a = Assessment(pair, set_health)
        for b in backends(pair.backend_set):
            name = backend_name(b)
            health = facts.backend_health(ref.id, pair.backend_set_name, name)
            status = (health or {}).get("status", "UNKNOWN")
            node = by_ip.get(b.get("ipAddress", ""))
            node_name = node["metadata"]["name"] if node else None
            got = results(health)
            a.rows.append({"backend": name, "node": node_name, "status": status, "results": got,
                           "readyEndpointOnNode": node_name in ready_nodes if local else None})
            if status == "OK":
                a.healthy += 1
            elif node is None:
                continue  # a backend that is no node: OKD-LB-007 explains it
            elif local and node_name not in ready_nodes and set(got) <= {"INVALID_STATUS_CODE"}:
                a.expected.append(name)
            else:
                a.unexpected.append((name, got))
        out.append(a)
    return out


def unserved_health_port(facts: Facts, pair: PortPair) -> int | None:
    """The health-check port of this pair's backend set when no Service or kube-proxy serves it.

    A diagnosis reads the target's Service, not every Service of the cluster, so a port may be
    served by one we did not read: when the LB itself says the checks pass, believe it."""
    if not pair.backend_set:
        return None
    port = health_port_of(pair.backend_set)
    if not port or port in served_ports(facts):
        return None
    ref = facts.load_balancer
    health = facts.backend_set_health(ref.id, pair.backend_set_name or "") if ref else None
    if health and health.get("status") == "OK":
        return None
    return port


def replacement_health_port(facts: Facts, pair: PortPair) -> int | None:
    """What the checker should probe instead: the live NodePort when it was following the
    backends' (old) NodePort, else what the CCM would use (healthCheckNodePort or 10256)."""
    old = health_port_of(pair.backend_set or {})
    backend_ports = {int(b.get("port") or 0) for b in backends(pair.backend_set)}
    if old in backend_ports and pair.node_port:
        return pair.node_port
    return expected_health_port(facts.service) if facts.service else None


@per_target
def backend_health_summary(facts: Facts) -> dict[str, str]:
    """Backend-set name -> the LB's own health status, for the evidence."""
    ref = facts.load_balancer
    if not ref:
        return {}
    out = {}
    for name in ref.backend_sets:
        health = facts.backend_set_health(ref.id, name)
        if health:
            out[name] = health.get("status", "UNKNOWN")
    return out
