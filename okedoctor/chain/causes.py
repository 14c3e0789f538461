"""Which pod-hop check explains a pod that is not serving: shared so ONE broken pod gives ONE root cause.

Each predicate here is the very test the named check uses to report, so when a consequence
(Endpoints all not-ready, a Pending surge pod, a crash caused by a mis-shaped Secret) names a
cause by code, that cause is sure to be in the report.
"""

from __future__ import annotations

from okedoctor.chain.secrets import mismatches
from okedoctor.facts import Facts, Obj, iter_containers, iter_init_containers
from okedoctor.kube import (
    condition,
    endpoint_addresses,
    is_true,
    last_terminated,
    log_hints,
    pod_ready,
    waiting_reason,
)

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
NODE_NOT_READY = "OKD-NODE-001"

IMAGE_PULL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
CONFIG_REASONS = ("CreateContainerConfigError", "CreateContainerError")
BLOCK_PROVISIONERS = ("blockvolume.csi.oraclecloud.com", "oracle.com/oci")


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


def rwx_on_block(facts: Facts, pvc: Obj) -> Obj | None:
    """The block-volume StorageClass a ReadWriteMany claim asks for, or None."""
    spec = pvc.get("spec") or {}
    if "ReadWriteMany" not in (spec.get("accessModes") or []):
        return None
    sc = facts.storage_class(spec.get("storageClassName"))
    if sc and sc.get("provisioner") in BLOCK_PROVISIONERS:
        return sc
    if not sc and spec.get("storageClassName") in ("oci-bv", "oci"):
        return {"metadata": {"name": spec["storageClassName"]}, "provisioner": "blockvolume.csi.oraclecloud.com"}
    return None


def pod_rwx_block_pvcs(facts: Facts, pod: Obj) -> list[Obj]:
    ns = pod["metadata"].get("namespace", "")
    return [pvc for name in pvc_claims(pod) if (pvc := facts.pvc(ns, name)) and rwx_on_block(facts, pvc)]


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
    for _, status in iter_containers(pod):
        if is_image_pull(status):
            return IMAGE_PULL
        if is_config_error(status):
            return CONFIG_ERROR
        if is_oom(status) and not (status or {}).get("ready"):
            return OOM
        if is_crashloop(status):
            return CRASHLOOP
    if is_unschedulable(pod):
        if pod_rwx_block_pvcs(facts, pod):
            return RWX_BLOCK
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
