"""Which pod-hop check explains a pod that is not serving: shared so ONE broken pod gives ONE root cause.

Each predicate here is the very test the named check uses to report, so when a consequence
(Endpoints all not-ready, a Pending surge pod, a crash caused by a mis-shaped Secret) names a
cause by code, that cause is sure to be in the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from okedoctor.chain.secrets import mismatches
from okedoctor.facts import Facts, Obj, iter_containers, iter_init_containers, per_target
from okedoctor.kube import (
    condition,
    endpoint_addresses,
    event_message,
    events_with_reason,
    is_true,
    last_terminated,
    log_hints,
    pod_ready,
    waiting_reason,
)
from okedoctor.model import Severity

SELECTS_NO_POD = "OKD-POD-001"
TARGET_PORT = "OKD-POD-003"
SWAPPED = "OKD-POD-004"
CRASHLOOP = "OKD-POD-006"
IMAGE_PULL = "OKD-POD-007"
CONFIG_ERROR = "OKD-POD-008"
OOM = "OKD-POD-009"
UNSCHEDULABLE = "OKD-POD-010"
READINESS = "OKD-POD-011"
LOOPBACK = "OKD-POD-012"
ENV_FILE = "OKD-POD-016"
ROLLOUT = "OKD-POD-018"
RWX_BLOCK = "OKD-POD-019"
READINESS_GATE = "OKD-POD-020"
NO_PODS = "OKD-POD-021"
INIT_FAILING = "OKD-POD-024"
VOLUME_ZONE = "OKD-POD-025"
CLASS_MISSING = "OKD-POD-026"
ATTACH = "OKD-POD-027"
NODE_NOT_READY = "OKD-NODE-001"

IMAGE_PULL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
CONFIG_REASONS = ("CreateContainerConfigError", "CreateContainerError")
BLOCK_PROVISIONERS = ("blockvolume.csi.oraclecloud.com", "oracle.com/oci")
# The node labels a zonal volume's node affinity names its availability domain with (OKE nodes carry the first).
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone",
             "topology.blockvolume.csi.oraclecloud.com/availability-domain")


def is_image_pull(status: Obj | None) -> bool:
    return waiting_reason(status) in IMAGE_PULL_REASONS


def is_config_error(status: Obj | None) -> bool:
    return waiting_reason(status) in CONFIG_REASONS


def is_oom(status: Obj | None) -> bool:
    return last_terminated(status).get("reason") == "OOMKilled"


def is_crashloop(status: Obj | None) -> bool:
    """Restarting after non-zero exits (CrashLoopBackOff, or caught between two restarts)."""
    if not status or is_oom(status):
        return False
    if waiting_reason(status) == "CrashLoopBackOff":
        return True
    term = last_terminated(status)
    return int(status.get("restartCount") or 0) > 0 and int(term.get("exitCode") or 0) != 0 \
        and not status.get("ready")


def is_unschedulable(pod: Obj) -> bool:
    cond = condition(pod, "PodScheduled")
    return (pod.get("status") or {}).get("phase") == "Pending" and bool(cond) and cond.get("status") == "False"


@per_target  # asked by a dozen checks per Service, each a walk of its endpoints
def service_serving(facts: Facts) -> bool:
    """At least one ready backend for the target Service (endpoints when collected, else pod readiness)."""
    if facts.service is None:
        return False
    if facts.endpoints() is not None or facts.endpoint_slices():
        return any(a.ready for a in endpoint_addresses(facts, facts.service))
    return any(pod_ready(p) for p in facts.pods)


# ---- volumes ----------------------------------------------------------------------------------

def pvc_claims(pod: Obj) -> list[str]:
    return [v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or []
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def pod_pvcs(facts: Facts, pod: Obj) -> list[tuple[str, Obj | None]]:
    """(claim name, the claim or None when it was not read) for each claim the pod mounts."""
    ns = pod["metadata"].get("namespace", "")
    return [(name, facts.pvc(ns, name)) for name in pvc_claims(pod)]


def claims_where(facts: Facts, test: Callable[[Facts, Obj], Any]) -> Iterator[tuple[Obj, Any, bool, Severity]]:
    """The target namespace's claims `test` finds a fault in: (claim, what it found, whether the Service's
    pods mount it, severity). An error when the Service's own pods need it and none serves; otherwise a
    warning (another workload's claim, or the Service still answers)."""
    used = {name for p in facts.pods for name in pvc_claims(p)}
    serving = service_serving(facts)
    for pvc in facts.objects("PersistentVolumeClaim", facts.target.namespace):
        found = test(facts, pvc)
        if found:
            mine = pvc["metadata"]["name"] in used
            yield pvc, found, mine, Severity.ERROR if mine and not serving else Severity.WARNING


def rwx_on_block(facts: Facts, pvc: Obj) -> Obj | None:
    """The block-volume StorageClass a ReadWriteMany claim asks for, or None."""
    spec = pvc.get("spec") or {}
    if "ReadWriteMany" not in (spec.get("accessModes") or []) or (pvc.get("status") or {}).get("phase") == "Bound":
        return None  # a Bound claim was provisioned: whatever keeps its pods back, it is not the access mode
    sc = facts.storage_class(spec.get("storageClassName"))
    if sc and sc.get("provisioner") in BLOCK_PROVISIONERS:
        return sc
    if not sc and spec.get("storageClassName") in ("oci-bv", "oci"):
        return {"metadata": {"name": spec["storageClassName"]}, "provisioner": "blockvolume.csi.oraclecloud.com"}
    return None


def bound_volume(facts: Facts, pvc: Obj) -> Obj | None:
    """The PersistentVolume a claim is bound to, when collected."""
    name = (pvc.get("spec") or {}).get("volumeName")
    return facts.get("PersistentVolume", "", name) if name else None


def ad_key(zone: str) -> str:
    """An availability domain compared across spellings: `Uocm:AP-TOKYO-1-AD-1` and `ap-tokyo-1-ad-1` match."""
    return zone.rsplit(":", 1)[-1].upper()


def volume_zones(pv: Obj) -> list[str]:
    """The availability domains a volume's required node affinity allows (empty: not zonal)."""
    terms = ((((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {})
             .get("nodeSelectorTerms") or [])
    return sorted({v for t in terms for e in t.get("matchExpressions") or []
                   if e.get("key") in ZONE_KEYS and e.get("operator") == "In" for v in e.get("values") or []})


def node_zone(node: Obj) -> str:
    labels = node["metadata"].get("labels") or {}
    return next((labels[k] for k in ZONE_KEYS if labels.get(k)), "")


def volume_zone_conflicts(facts: Facts, pod: Obj) -> list[dict]:
    """The Pending pod's bound volumes that live in an AD where no schedulable node is (see OKD-POD-025)."""
    if not is_unschedulable(pod):
        return []
    nodes = {n["metadata"]["name"]: node_zone(n) for n in facts.nodes
             if not (n.get("spec") or {}).get("unschedulable")}
    node_ads = {ad_key(z) for z in nodes.values() if z}
    if not node_ads:
        return []
    out = []
    for _, pvc in pod_pvcs(facts, pod):
        pv = bound_volume(facts, pvc) if pvc else None
        zones = volume_zones(pv) if pv else []
        if zones and not {ad_key(z) for z in zones} & node_ads:
            out.append({"claim": pvc, "volume": pv, "zones": zones, "nodes": nodes})
    return out


def unlisted_class(facts: Facts, pvc: Obj) -> str | None:
    """The StorageClass a Pending claim names that is not among the classes in the facts."""
    name = (pvc.get("spec") or {}).get("storageClassName")
    if not name or (pvc.get("status") or {}).get("phase", "Pending") != "Pending":
        return None
    if (pvc.get("spec") or {}).get("volumeName") or facts.storage_class(name) is not None:
        return None
    return name


def missing_class(facts: Facts, pvc: Obj) -> str | None:
    """The StorageClass a Pending claim names that does not exist in the cluster (see OKD-POD-026);
    None when the classes could not be read."""
    return None if facts.unavailable("kubernetes.storageclasses") else unlisted_class(facts, pvc)


def pod_missing_class_pvcs(facts: Facts, pod: Obj) -> list[Obj]:
    return [pvc for _, pvc in pod_pvcs(facts, pod) if pvc and missing_class(facts, pvc)]


_MOUNT_MISSING = re.compile(
    r'MountVolume\.SetUp failed for volume "([^"]+)" : (secrets?|configmaps?) "([^"]+)" not found', re.I)


def volume_source(pod: Obj, volume: str) -> tuple[str, str, bool] | None:
    """(kind, name, optional) of a pod's Secret or ConfigMap volume."""
    for v in (pod.get("spec") or {}).get("volumes") or []:
        if v.get("name") != volume:
            continue
        if v.get("secret"):
            return "Secret", v["secret"].get("secretName", ""), bool(v["secret"].get("optional"))
        if v.get("configMap"):
            return "ConfigMap", v["configMap"].get("name", ""), bool(v["configMap"].get("optional"))
    return None


def missing_volume_sources(facts: Facts, pod: Obj) -> list[dict]:
    """Secret/ConfigMap volumes the kubelet cannot mount because the object does not exist (see OKD-POD-008).

    The kubelet's FailedMount event names them; one that exists by now (created since) is left out.
    """
    if (pod.get("status") or {}).get("phase") != "Pending" or not (pod.get("spec") or {}).get("nodeName"):
        return []
    ns = pod["metadata"].get("namespace", "")
    out: dict[str, dict] = {}
    for ev in events_with_reason(facts.events_for(pod), "FailedMount"):
        m = _MOUNT_MISSING.search(event_message(ev))
        src = volume_source(pod, m.group(1)) if m else None
        if not m or not src or src[2] or src[1] != m.group(3):
            continue
        kind, name, _ = src
        if (facts.secret(ns, name) if kind == "Secret" else facts.configmap(ns, name)) is not None:
            continue
        out[m.group(1)] = {"volume": m.group(1), "kind": kind, "name": name, "event": ev}
    return list(out.values())


def attach_failures(facts: Facts, pod: Obj) -> list[dict]:
    """The scheduled, not started pod's Bound claims whose volume fails to attach (FailedAttachVolume, OKD-POD-027)."""
    if (pod.get("status") or {}).get("phase") != "Pending" or not (pod.get("spec") or {}).get("nodeName"):
        return []
    events = events_with_reason(facts.events_for(pod), "FailedAttachVolume")
    if not events:
        return []
    out = []
    for _, pvc in pod_pvcs(facts, pod):
        volume = ((pvc or {}).get("spec") or {}).get("volumeName")
        hits = [e for e in events if volume and f'volume "{volume}"' in event_message(e)]
        if hits:
            out.append({"claim": pvc, "volume": bound_volume(facts, pvc), "volumeName": volume, "events": hits})
    return out


def pod_rwx_block_pvcs(facts: Facts, pod: Obj) -> list[Obj]:
    return [pvc for _, pvc in pod_pvcs(facts, pod) if pvc and rwx_on_block(facts, pvc)]


# ---- secrets shaped for the wrong use ---------------------------------------------------------

def env_file_mismatches(facts: Facts, pod: Obj) -> list[dict]:
    """Secrets whose shape does not fit how the pod uses them (see OKD-POD-016)."""
    return mismatches(facts, pod)


def unmet_gates(pod: Obj) -> list[str]:
    """Readiness gates holding back a pod whose containers are all ready (see OKD-POD-020)."""
    if pod_ready(pod) or not all((s or {}).get("ready") for _, s in iter_containers(pod)):
        return []
    gates = [g.get("conditionType", "") for g in (pod.get("spec") or {}).get("readinessGates") or []]
    return [g for g in gates if (condition(pod, g) or {}).get("status") != "True"]


# ---- init containers --------------------------------------------------------------------------

def init_failed(status: Obj | None) -> bool:
    """An init container that exited non-zero and has not since finished (Init:Error, Init:CrashLoopBackOff)."""
    if not status:
        return False
    state = status.get("state") or {}
    if "terminated" in state:
        return int(state["terminated"].get("exitCode") or 0) != 0
    if waiting_reason(status) == "CrashLoopBackOff":
        return True
    return int(last_terminated(status).get("exitCode") or 0) != 0


def init_stuck(pod: Obj, status: Obj | None) -> bool:
    """An init container still running while the pod waits on it (Init:0/1) and the pod is not initialised."""
    return bool(status and "running" in (status.get("state") or {})) and \
        (condition(pod, "Initialized") or {}).get("status") == "False"


def blocking_init(pod: Obj) -> tuple[Obj, Obj, str] | None:
    """The init container holding the pod back: (spec, status, "failed" | "running"), or None (see OKD-POD-024).
    A pod that is ready, finished (Failed, Succeeded) or being deleted is held back by nothing."""
    phase = (pod.get("status") or {}).get("phase")
    if pod_ready(pod) or phase in ("Failed", "Succeeded") or pod["metadata"].get("deletionTimestamp"):
        return None
    for c, status in iter_init_containers(pod):
        if init_failed(status):
            return c, status or {}, "failed"
        if init_stuck(pod, status):
            return c, status or {}, "running"
        if not status or int(((status.get("state") or {}).get("terminated") or {}).get("exitCode", -1)) != 0:
            return None  # waiting to start (image pull...) or not reported: another check's concern
    return None


def not_ready_cause(facts: Facts, pod: Obj) -> str | None:
    """The code of the pod-hop check that explains why this pod is not ready, if one does."""
    if env_file_mismatches(facts, pod):
        return ENV_FILE
    if blocking_init(pod):
        return INIT_FAILING
    for _, status in [*iter_init_containers(pod), *iter_containers(pod)]:
        if is_image_pull(status):
            return IMAGE_PULL
        if is_config_error(status):
            return CONFIG_ERROR
    for _, status in iter_containers(pod):
        if is_oom(status) and not (status or {}).get("ready"):
            return OOM
        if is_crashloop(status):
            return CRASHLOOP
    if missing_volume_sources(facts, pod):
        return CONFIG_ERROR
    if attach_failures(facts, pod):
        return ATTACH
    if is_unschedulable(pod):
        if pod_rwx_block_pvcs(facts, pod):
            return RWX_BLOCK
        if volume_zone_conflicts(facts, pod):
            return VOLUME_ZONE
        if pod_missing_class_pvcs(facts, pod):
            return CLASS_MISSING
        return UNSCHEDULABLE
    node = facts.node((pod.get("spec") or {}).get("nodeName"))
    if node is not None and not is_true(node, "Ready") and not pod_ready(pod):
        return NODE_NOT_READY
    if unmet_gates(pod):
        return READINESS_GATE
    if not pod_ready(pod) and (pod.get("status") or {}).get("phase") == "Running":
        for c, _ in iter_containers(pod):
            live = facts.container_live(pod["metadata"].get("namespace", ""), pod["metadata"]["name"], c["name"])
            if any(h.kind == "loopback" for h in log_hints((live or {}).get("logs"))):
                return LOOPBACK
        return READINESS
    return None
