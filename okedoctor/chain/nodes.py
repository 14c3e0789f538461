"""Node facts the node-hop checks share: LB exclusion, taints, backends, the Service's pods per node."""

from __future__ import annotations

from okedoctor.facts import Facts, Obj, per_run, per_target
from okedoctor.kube import condition, name_of, node_ready, pod_ready

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
TO_BE_DELETED = "ToBeDeletedByClusterAutoscaler"

NODE_EXCLUDED = "OKD-NODE-004"
NODE_DELETING = "OKD-NODE-005"
NODE_NO_PROVIDER = "OKD-NODE-006"


def excluded_by_label(node: Obj) -> bool:
    """The service controller drops the node from LB backends unless the label's value parses as false."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    return EXCLUDE_LABEL in labels and str(labels[EXCLUDE_LABEL]).strip().lower() not in ("false", "0", "f")


def taint(node: Obj, key: str) -> Obj | None:
    return next((t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") == key), None)


def being_deleted(node: Obj) -> bool:
    return taint(node, TO_BE_DELETED) is not None


def lacks_provider_id(node: Obj) -> bool:
    return not (node.get("spec") or {}).get("providerID")


def why_not_backend(node: Obj) -> str | None:
    """The code of the node check that explains why the CCM leaves this node out of the LB backends."""
    if excluded_by_label(node):
        return NODE_EXCLUDED
    if being_deleted(node):
        return NODE_DELETING
    if lacks_provider_id(node):
        return NODE_NO_PROVIDER
    return None


# The node checks run once per Service; which nodes are cordoned, labelled out, being deleted or
# lack a providerID does not depend on the Service, so a fleet run scans the nodes once for each.
@per_run
def cordoned_nodes(facts: Facts) -> list[Obj]:
    return [n for n in facts.nodes if (n.get("spec") or {}).get("unschedulable")]


@per_run
def nodes_excluded_by_label(facts: Facts) -> list[Obj]:
    return [n for n in facts.nodes if excluded_by_label(n)]


@per_run
def nodes_being_deleted(facts: Facts) -> list[tuple[Obj, Obj]]:
    """(node, its ToBeDeletedByClusterAutoscaler taint) for each node that has one."""
    return [(n, t) for n in facts.nodes if (t := taint(n, TO_BE_DELETED)) is not None]


@per_run
def nodes_without_provider_id(facts: Facts) -> list[Obj]:
    return [n for n in facts.nodes if lacks_provider_id(n)]


def service_pods_on(facts: Facts, node: Obj) -> list[Obj]:
    return _service_pods_by_node(facts).get(name_of(node), [])


@per_target
def _service_pods_by_node(facts: Facts) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = {}
    for p in facts.pods:
        out.setdefault((p.get("spec") or {}).get("nodeName"), []).append(p)
    return out


def ready_service_pods_on(facts: Facts, node: Obj) -> list[Obj]:
    return [p for p in service_pods_on(facts, node) if pod_ready(p)]


@per_target
def backend_ips(facts: Facts) -> set[str] | None:
    """IPs of every backend of the Service's LB/NLB, or None when the LB was not read."""
    if facts.unavailable("oci") or not facts.load_balancer:
        return None
    return {b.get("ipAddress", "") for bs in facts.load_balancer.backend_sets.values()
            for b in bs.get("backends") or []}


def etp_local(facts: Facts) -> bool:
    return ((facts.service or {}).get("spec") or {}).get("externalTrafficPolicy") == "Local"


def uses_lb(facts: Facts) -> bool:
    return ((facts.service or {}).get("spec") or {}).get("type") == "LoadBalancer"


def node_pool_id(facts: Facts) -> str | None:
    """The node pool of the workers, from their instances' OKE metadata (`oke-pool-id`), when they share one."""
    pools = {((facts.oci_resource((n.get("spec") or {}).get("providerID") or "") or {}).get("metadata") or {})
             .get("oke-pool-id") for n in facts.nodes}
    return pools.pop() if len(pools) == 1 and None not in pools else None


PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")


@per_run
def pressured_nodes(facts: Facts) -> list[tuple[Obj, str, Obj]]:
    """(node, pressure, its condition) for each pressure a node reports True, in node order:
    the same for every Service of a run, so a fleet looks at each node once."""
    return [(node, ctype, c) for node in facts.nodes for ctype in PRESSURES
            if (c := condition(node, ctype)) and c.get("status") == "True"]


@per_run
def not_ready_nodes(facts: Facts) -> list[Obj]:
    return [n for n in facts.nodes if not node_ready(n)]


@per_run
def kubelet_versions(facts: Facts) -> list[str]:
    return sorted({((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
                   for n in facts.nodes} - {""})
