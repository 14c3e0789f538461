"""OKD-POD-025: a pod stays Pending because its block volume lives in an AD where no node is."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.manifests import oci_bv_class_yaml
from okedoctor.chain.nodes import node_pool_id
from okedoctor.chain.scheduling import scheduling_message
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import event_quote, events_with_reason, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity

RESTORE = """apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: {claim}-move
  namespace: {ns}
spec:
  volumeSnapshotClassName: <block-volume-snapshot-class>
  source:
    persistentVolumeClaimName: {claim}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {claim}-{ad_short}
  namespace: {ns}
spec:
  storageClassName: {cls}
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: {size}
  dataSource:
    apiGroup: snapshot.storage.k8s.io
    kind: VolumeSnapshot
    name: {claim}-move
"""


WFFC_NOTE = "the volume is created in the AD of the node the pod is scheduled on"


class VolumeNodeAffinityConflict(Check):
    """A pod stays Pending with "volume node affinity conflict": its block volume is in an AD with no schedulable node.

    What it checks
        Pending pods of the Service whose PersistentVolumeClaim is bound to a volume whose
        required node affinity names availability domains (`topology.kubernetes.io/zone`, or the
        older `failure-domain.beta.kubernetes.io/zone`) that none of the schedulable nodes carries
        in its own zone label. It names the volume's AD, each node's AD, and quotes the
        scheduler's FailedScheduling event.

    Why it breaks
        An OCI Block Volume attaches only to an instance in its own availability domain, so the
        CSI driver pins the PersistentVolume to that AD. When the nodes are elsewhere (the node
        pool was moved or shrunk, the volume was restored from a backup into another AD, or an
        `Immediate` class created it before the pod was placed), the scheduler rejects every node
        and the pod is never scheduled: no endpoint.

    How to fix
        Run a node in the volume's AD (add that AD to the node pool's placement), or move the
        data to a volume in an AD that has nodes (restore a snapshot or backup into a new claim;
        a block volume cannot change AD). Give the block-volume StorageClass
        `volumeBindingMode: WaitForFirstConsumer` so that new volumes are created where the pod
        is scheduled.
    """

    code = "OKD-POD-025"
    name = "volume-node-affinity-conflict"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        serving = _causes.service_serving(facts)
        by_claim: dict[str, tuple[dict, list[Obj]]] = {}
        for pod in facts.pods:
            for hit in _causes.volume_zone_conflicts(facts, pod):
                name = hit["claim"]["metadata"]["name"]
                by_claim.setdefault(name, (hit, []))[1].append(pod)
        for hit, pods in by_claim.values():
            yield self._finding(facts, hit, pods, Severity.WARNING if serving else Severity.ERROR)

    def _finding(self, facts: Facts, hit: dict, pods: list[Obj], severity: Severity) -> Finding:
        pvc, pv, zones, nodes = hit["claim"], hit["volume"], hit["zones"], hit["nodes"]
        ns, claim = pvc["metadata"].get("namespace", ""), pvc["metadata"]["name"]
        spec = pvc.get("spec") or {}
        cls_name = spec.get("storageClassName") or ""
        sc = facts.storage_class(cls_name or None)
        ad = zones[0]
        node_ads = sorted({z for z in nodes.values() if z})
        evidence: dict = {
            "claim": claim, "phase": (pvc.get("status") or {}).get("phase"), "volume": pv["metadata"]["name"],
            "volumeHandle": ((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle"),
            "volumeAvailabilityDomain": zones, "nodeAvailabilityDomains": nodes,
            "pods": [p["metadata"]["name"] for p in pods],
        }
        if sc is not None:
            evidence["storageClass"] = {"name": sc["metadata"]["name"],
                                        "volumeBindingMode": sc.get("volumeBindingMode") or "Immediate"}
        event = _scheduling_event(facts, pods)
        if event:
            evidence["event"] = event
        else:
            evidence["scheduler"] = scheduling_message(facts, pods[0])
        ref = workload_ref(facts, pods[0])
        quoted = f"; {event['reason']} x{event['count']}, last {event['lastSeen']}" if event else ""
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "50Gi")
        wffc = (sc or {}).get("volumeBindingMode") == "WaitForFirstConsumer"
        cls = cls_name or "oci-bv"
        snippet = f"# {claim}-restore.yaml\n" + RESTORE.format(
            claim=claim, ns=ns, cls=cls if wffc else f"{cls}-wffc", size=size,
            ad_short="-".join(node_ads[0].split("-")[-2:]).lower() if node_ads else "new")
        if not wffc:
            snippet = f"# {cls}-wffc.yaml\n" + oci_bv_class_yaml(f"{cls}-wffc", WFFC_NOTE) + "---\n" + snippet
        return self.finding(
            f"{len(pods)} pod(s) of {ref} Pending: volume {pv['metadata']['name']} of claim {ns}/{claim} is in "
            f"{', '.join(zones)}, the schedulable nodes are in {', '.join(node_ads)} (volume node affinity "
            f"conflict){quoted}",
            subject=f"persistentvolumeclaim/{ns}/{claim}",
            evidence=evidence,
            fix=Fix(f"A block volume attaches only in its own AD: run a node in {ad} (add it to the node pool's "
                    f"placement), or restore the data into a new claim in {' or '.join(node_ads)} and point the "
                    "workload at it"
                    + ("" if wffc else f"; give class {cls_name or '(default)'} volumeBindingMode "
                       "WaitForFirstConsumer so new volumes follow the pod") + ".",
                    (*_placement_commands(facts, ad),
                     f"kubectl -n {ns} get pvc {claim} -o jsonpath='{{.spec.volumeName}}'",
                     f"kubectl get pv {pv['metadata']['name']} -o jsonpath='{{.spec.nodeAffinity}}'"),
                    snippet),
            severity=severity,
        )


def _scheduling_event(facts: Facts, pods: list[Obj]) -> dict | None:
    """The latest FailedScheduling event of these pods that names the conflict (else the latest one)."""
    evs = sorted((e for p in pods for e in events_with_reason(facts.events_for(p), "FailedScheduling")),
                 key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    hits = [e for e in evs if "volume node affinity conflict" in (e.get("message") or e.get("note") or "")]
    last = (hits or evs or [None])[-1]
    return event_quote(last) if last else None


def _oci_ad(facts: Facts, zone: str) -> str:
    """The AD as OCI spells it (`Uocm:AP-TOKYO-1-AD-3`), from the workers' instances when collected."""
    for inst in facts.oci.get("instances") or []:
        full = inst.get("availabilityDomain") or ""
        if ":" in full:
            return f"{full.split(':', 1)[0]}:{_causes.ad_key(zone)}"
    return _causes.ad_key(zone)  # without the tenancy prefix: `oci iam availability-domain list` shows it


def _placement_commands(facts: Facts, zone: str) -> tuple[str, ...]:
    """Read the pool's placement, then replace it with PLACEMENT (the current entries plus the AD's).

    `--placement-configs` replaces the whole list, so the new entry alone would drop the others.
    """
    pool = node_pool_id(facts) or '"$NODE_POOL_ID"'
    subnets = facts.worker_subnets if facts.oci else []
    entry = json.dumps({"availabilityDomain": _oci_ad(facts, zone),
                        "subnetId": subnets[0]["id"] if subnets else "WORKER_SUBNET_OCID"})
    read = (f"oci ce node-pool get --node-pool-id {pool} --query "
            "'data.\"node-config-details\".\"placement-configs\"'")
    program = ('[.[] | {availabilityDomain: ."availability-domain", subnetId: ."subnet-id"}] + ['
               + entry + "]")
    add = f"PLACEMENT=$({read} | jq -c {shlex.quote(program)})"
    return (read, add, f'oci ce node-pool update --node-pool-id {pool} --placement-configs "$PLACEMENT"')
