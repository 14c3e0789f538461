"""Finding a load balancer made by hand: by where it sends traffic.

The cloud controller manager's LB/NLB is found by its display name. One made by hand
(Terraform, the console) has any name; what gives it away is its backends: this cluster's
nodes (by InternalIP, or by instance OCID for an NLB), on a port that is one of the Service's
NodePorts, or on a NodePort that no Service uses any more (the Service was recreated and got a
new one). This module is pure: the live collector and `Facts` run the same function over the
same LB bodies, so a run from a snapshot finds what the live run found.

Attribution, per load balancer:
- a backend on a NodePort a Service uses explains the LB by that Service ("nodeport");
- an LB whose node backends are only on stale NodePorts (30000-32767, used by no Service of the
  cluster, NodePort or healthCheckNodePort) is attributed to a Service only when nothing else
  explains it: among the Services with a NodePort and no LB sending to them, the one whose
  port matches a listener port, else the only one ("stale-nodeport"). Otherwise it is left
  unattributed and named in the hint.
- when neither ties an LB to the target: an LB whose backends are all in the workers' subnets
  but none a node any more, on one of the target's NodePorts, is taken for one whose nodes were
  replaced ("former-nodes"; a node-pool upgrade with a hand-made LB). The workers' subnets are
  read for the diagnosis anyway; a subnet shared with another cluster that happens to use the
  same NodePort would be mistaken for this one, so the evidence says how it was matched.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from okedoctor.oci_catalog import FLAVORS, LB, NLB

Obj = dict[str, Any]

NODEPORT_MIN, NODEPORT_MAX = 30000, 32767
NODEPORT_TYPES = ("NodePort", "LoadBalancer")


@dataclass(frozen=True)
class BackendMatch:
    """One LB/NLB whose backends are this cluster's nodes, and why it is attributed."""

    flavor: str  # "nlb" or "lb"
    body: Obj
    how: str  # "nodeport" | "stale-nodeport" | "former-nodes"
    backend_sets: tuple[str, ...]
    ports: tuple[int, ...]
    note: str

    @property
    def id(self) -> str:
        return self.body.get("id", "")


@dataclass(frozen=True)
class BackendSearch:
    """The target's matches (best first) and the cluster's LBs nobody could be tied to."""

    matches: tuple[BackendMatch, ...] = ()
    unattributed: tuple[BackendMatch, ...] = ()
    cluster_lbs: tuple[str, ...] = field(default=())  # ids of the LBs/NLBs the search decided from


def _key(svc: Obj) -> tuple[str, str]:
    meta = svc.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def _name(svc: Obj) -> str:
    ns, name = _key(svc)
    return f"{ns}/{name}"


def node_ports(svc: Obj) -> set[int]:
    spec = svc.get("spec") or {}
    if spec.get("type") not in NODEPORT_TYPES:
        return set()
    return {int(p["nodePort"]) for p in spec.get("ports") or [] if p.get("nodePort")}


def used_node_ports(services: list[Obj]) -> dict[int, Obj]:
    """Every port of the NodePort range a Service holds (NodePorts and healthCheckNodePorts)."""
    out: dict[int, Obj] = {}
    for svc in sorted(services, key=_key):
        for port in node_ports(svc):
            out.setdefault(port, svc)
        hc = (svc.get("spec") or {}).get("healthCheckNodePort")
        if hc:
            out.setdefault(int(hc), svc)
    return out


def node_identities(nodes: list[Obj]) -> tuple[set[str], set[str]]:
    """(addresses, instance OCIDs) of the cluster's nodes."""
    ips: set[str] = set()
    instances: set[str] = set()
    for node in nodes:
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") in ("InternalIP", "ExternalIP") and addr.get("address"):
                ips.add(addr["address"])
        provider = ((node.get("spec") or {}).get("providerID") or "").removeprefix("oci://")
        if provider.startswith("ocid1."):
            instances.add(provider)
    return ips, instances


def node_backend_ports(body: Obj, ips: set[str], instances: set[str]) -> dict[str, set[int]]:
    """backend set name -> the ports of its backends that are cluster nodes."""
    out: dict[str, set[int]] = {}
    for name, bs in sorted((body.get("backendSets") or {}).items()):
        for b in bs.get("backends") or []:
            if (b.get("ipAddress") in ips or b.get("targetId") in instances) and b.get("port"):
                out.setdefault(name, set()).add(int(b["port"]))
    return out


def _named_for(flavor: str, body: Obj, services: list[Obj]) -> Obj | None:
    """The Service whose cloud controller manager name the LB bears (NLB `ns/name/uid`, LB `...uid`)."""
    name = body.get("displayName") or ""
    for svc in services:
        meta = svc.get("metadata") or {}
        if FLAVORS[flavor].ccm_name_matches(name, meta.get("namespace", ""), meta.get("name", ""), meta.get("uid")):
            return svc
    return None


def _listener_ports(body: Obj) -> set[int]:
    return {int(li["port"]) for li in (body.get("listeners") or {}).values() if li.get("port")}


def _in(ip: str | None, networks: list) -> bool:
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(addr in net for net in networks)


def _former_nodes(target: Obj, bodies: tuple[tuple[str, Obj], ...], ips: frozenset[str],
                  instances: frozenset[str], worker_cidrs: list[str]) -> list[BackendMatch]:
    """LBs every backend of which sits in a worker subnet, on the target's NodePort, and none is a node."""
    networks = []
    for cidr in worker_cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    if not networks:
        return []
    wanted = node_ports(target)
    out = []
    for flavor, body in bodies:
        sets, ports = [], set()
        for name, bs in sorted((body.get("backendSets") or {}).items()):
            backs = bs.get("backends") or []
            if not backs or any(b.get("ipAddress") in ips or b.get("targetId") in instances for b in backs):
                continue
            if all(_in(b.get("ipAddress"), networks) and int(b.get("port") or 0) in wanted for b in backs):
                sets.append(name)
                ports |= {int(b["port"]) for b in backs}
        if sets:
            addrs = sorted({b.get("ipAddress", "") for n in sets for b in body["backendSets"][n].get("backends") or []})
            out.append(BackendMatch(
                flavor, body, "former-nodes", tuple(sets), tuple(sorted(ports)),
                f"its backends {', '.join(addrs)} are in the workers' subnets ({', '.join(worker_cidrs)}) on NodePort "
                f"{', '.join(map(str, sorted(ports)))} of Service {_name(target)}, but none is a node any more "
                "(replaced nodes?)"))
    return out


@dataclass(frozen=True)
class BackendIndex:
    """What the backends of every LB/NLB say, whatever the target: built once per run.

    A fleet report searches for hundreds of Services over the same LBs; walking every backend
    of every LB per Service grew as Services x LBs (issue #15)."""

    ips: frozenset[str]
    instances: frozenset[str]
    bodies: tuple[tuple[str, Obj], ...]  # (flavor, body) sorted by id
    explained: dict[tuple[str, str], list[BackendMatch]]
    stale: tuple[tuple[str, Obj, dict[str, set[int]]], ...]
    cluster_lbs: tuple[str, ...]
    # Services with a NodePort that no LB is explained by, sorted: the candidates for a stale LB.
    orphans: tuple[Obj, ...]


def index_backends(services: list[Obj], nodes: list[Obj], nlbs: list[Obj], lbs: list[Obj]) -> BackendIndex:
    """Attribute every LB/NLB with node backends to the Service whose NodePort it sends to."""
    ips, instances = node_identities(nodes)
    used = used_node_ports(services)
    explained: dict[tuple[str, str], list[BackendMatch]] = {}
    stale: list[tuple[str, Obj, dict[str, set[int]]]] = []
    cluster_lbs: list[str] = []
    bodies = sorted([(NLB.key, b) for b in nlbs] + [(LB.key, b) for b in lbs],
                    key=lambda fb: (fb[1].get("id") or "", fb[0]))
    for flavor, body in bodies:
        per_set = node_backend_ports(body, ips, instances)
        if not per_set:
            continue
        cluster_lbs.append(body.get("id", ""))
        ports = set().union(*per_set.values())
        live = sorted(p for p in ports if p in used)
        for port in live:
            owner = used[port]
            sets = tuple(n for n, ps in per_set.items() if port in ps)
            explained.setdefault(_key(owner), []).append(BackendMatch(
                flavor, body, "nodeport", sets, (port,),
                f"its backends are this cluster's nodes on NodePort {port} of Service {_name(owner)}"))
        if live:
            continue
        named = _named_for(flavor, body, services)
        if named is not None:
            # The cloud controller manager's LB of another Service (its name says whose), mid-update.
            explained.setdefault(_key(named), [])
            continue
        if any(NODEPORT_MIN <= p <= NODEPORT_MAX for p in ports):
            stale.append((flavor, body, per_set))
    orphans = tuple(s for s in sorted(services, key=_key) if node_ports(s) and _key(s) not in explained)
    return BackendIndex(frozenset(ips), frozenset(instances), tuple(bodies), explained, tuple(stale),
                        tuple(cluster_lbs), orphans)


def search_by_backends(target: Obj | None, services: list[Obj], nodes: list[Obj],
                       nlbs: list[Obj], lbs: list[Obj], worker_cidrs: list[str] | None = None,
                       index: BackendIndex | None = None) -> BackendSearch:
    """The LBs/NLBs that send to `target`, judged from their backends alone (see the module doc).

    `index` is `index_backends` of the same services, nodes and LBs, when the caller keeps one."""
    index = index or index_backends(services, nodes, nlbs, lbs)
    cluster_lbs = list(index.cluster_lbs)
    if target is None or not node_ports(target):
        return BackendSearch(cluster_lbs=tuple(cluster_lbs))
    mine = _merge(index.explained.get(_key(target), []))
    orphans = index.orphans
    attributed: list[BackendMatch] = []
    unattributed: list[BackendMatch] = []
    for flavor, body, per_set in index.stale:
        ports = tuple(sorted({p for ps in per_set.values() for p in ps if NODEPORT_MIN <= p <= NODEPORT_MAX}))
        sets = tuple(n for n, ps in per_set.items() if ps & set(ports))
        listen = _listener_ports(body)
        by_listener = [s for s in orphans if listen & {int(p.get("port") or 0) for p in
                                                       (s.get("spec") or {}).get("ports") or []}]
        chosen = by_listener or orphans
        stale_text = ", ".join(map(str, ports))
        if len(chosen) == 1 and _key(chosen[0]) == _key(target) and not mine:
            why = ("the only Service with a NodePort and no load balancer sending to it"
                   + (f" whose port matches its listener ({', '.join(map(str, sorted(listen)))})"
                      if by_listener else ""))
            attributed.append(BackendMatch(
                flavor, body, "stale-nodeport", sets, ports,
                f"its backends are this cluster's nodes on NodePort {stale_text}, which no Service uses any more; "
                f"attributed to {_name(target)} as {why}"))
        elif any(_key(s) == _key(target) for s in chosen):
            others = ", ".join(_name(s) for s in chosen if _key(s) != _key(target))
            unattributed.append(BackendMatch(
                flavor, body, "stale-nodeport", sets, ports,
                f"its backends are this cluster's nodes on NodePort {stale_text}, which no Service uses any more; "
                f"it may be this Service's, or {others}'s"))
    matches = mine + attributed
    if not matches:
        # Not attributable, but what an engineer would suspect: an LB with no backend at all that
        # listens on one of the Service's ports (a Terraform run that emptied the backend set).
        wanted = {int(p.get("port") or 0) for p in (target.get("spec") or {}).get("ports") or []}
        for flavor, body in index.bodies:
            sets = body.get("backendSets") or {}
            if sets and not any(bs.get("backends") for bs in sets.values()) and _listener_ports(body) & wanted:
                port = ", ".join(map(str, sorted(_listener_ports(body) & wanted)))
                unattributed.append(BackendMatch(
                    flavor, body, "empty", tuple(sorted(sets)), (),
                    f"it has no backend at all and listens on port {port}, like this Service"))
                cluster_lbs.append(body.get("id", ""))
    if not matches and worker_cidrs:
        former = _former_nodes(target, index.bodies, index.ips, index.instances, worker_cidrs)
        matches = former
        cluster_lbs += [m.id for m in former if m.id not in cluster_lbs]
    return BackendSearch(matches=tuple(matches), unattributed=tuple(unattributed),
                         cluster_lbs=tuple(cluster_lbs))


def needs_worker_subnets(target: Obj | None, nodes: list[Obj], nlbs: list[Obj], lbs: list[Obj]) -> bool:
    """Whether an LB has a backend on the target's NodePort that is no node: only then does the
    search need the workers' subnets (see _former_nodes)."""
    if target is None:
        return False
    ips, instances = node_identities(nodes)
    wanted = node_ports(target)
    return any(int(b.get("port") or 0) in wanted and b.get("ipAddress") not in ips
               and b.get("targetId") not in instances
               for body in [*nlbs, *lbs] for bs in (body.get("backendSets") or {}).values()
               for b in bs.get("backends") or [])


def _merge(matches: list[BackendMatch]) -> list[BackendMatch]:
    """One entry per LB (a Service with two ports has two matching ports on the same LB)."""
    out: dict[str, BackendMatch] = {}
    for m in matches:
        prev = out.get(m.id)
        if prev is None:
            out[m.id] = m
            continue
        ports = tuple(sorted(set(prev.ports) | set(m.ports)))
        sets = tuple(sorted(set(prev.backend_sets) | set(m.backend_sets)))
        note = prev.note.replace(f"NodePort {prev.ports[0]}", "NodePorts " + ", ".join(map(str, ports)), 1)
        out[m.id] = BackendMatch(prev.flavor, prev.body, prev.how, sets, ports, note)
    return list(out.values())


def describe(flavor: str, body: Obj) -> str:
    return f"{FLAVORS[flavor].short_name} {body.get('displayName') or '?'} ({body.get('id', '')})"
