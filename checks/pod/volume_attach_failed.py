"""OKD-POD-027: a pod stays in ContainerCreating because its Bound claim's volume fails to attach to the node."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import event_message, event_quote, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity

# What the attacher's error says, and what it means on OCI.
_HINTS = (
    ("Multi-Attach error", "multi-attach", "still attached to another node"),
    ("NotAuthorizedOrNotFound", "not-authorized-or-not-found",
     "OCI refused it: NotAuthorizedOrNotFound (no such volume in the region, or no policy to attach it)"),
    ("LimitExceeded", "limit", "the node reached its limit of block volume attachments"),
)


def _hint(message: str) -> tuple[str, str]:
    for needle, kind, text in _HINTS:
        if needle in message:
            return kind, text
    return "other", "see the attacher's error"


class VolumeAttachFailed(Check):
    """A pod stays in ContainerCreating because the block volume of its Bound claim fails to attach to the node.

    What it checks
        Scheduled pods of the Service that have not started and whose Bound
        PersistentVolumeClaim's volume has FailedAttachVolume events from the attach/detach
        controller. It names the claim, the volume (its OCID), the node, and quotes the latest
        event; it reads the error: a Multi-Attach error (the volume is still attached to another
        node), NotAuthorizedOrNotFound (OCI refused the attach), an attachment limit.

    Why it breaks
        The claim is Bound, so provisioning is not the problem: the volume exists but cannot be
        attached to the node the pod was scheduled on, the kubelet never mounts it and the
        container is never created. The pod is never Ready and never an endpoint.

    How to fix
        Multi-Attach: let the old pod go (Deployment strategy Recreate for a ReadWriteOnce
        volume) or delete the stale VolumeAttachment of a node that is gone.
        NotAuthorizedOrNotFound: check the volume OCID in the PersistentVolume (`volumeHandle`)
        exists in the cluster's region, and that a policy lets the cluster manage volumes and
        volume attachments in the volume's compartment.
    """

    code = "OKD-POD-027"
    name = "volume-attach-failed"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        severity = Severity.WARNING if _causes.service_serving(facts) else Severity.ERROR
        groups: dict[tuple[str, str], list[tuple[Obj, dict]]] = {}
        for pod in facts.pods:
            for hit in _causes.attach_failures(facts, pod):
                groups.setdefault((workload_ref(facts, pod), hit["volumeName"]), []).append((pod, hit))
        for (ref, _), hits in groups.items():
            yield self._finding(ref, hits, severity)

    def _finding(self, ref: str, hits: list[tuple[Obj, dict]], severity: Severity) -> Finding:
        pod, hit = hits[0]
        pvc, pv, volume = hit["claim"], hit["volume"], hit["volumeName"]
        ns, claim = pvc["metadata"].get("namespace", ""), pvc["metadata"]["name"]
        latest = max((e for _, h in hits for e in h["events"]),
                     key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        event = event_quote(latest)
        kind, meaning = _hint(event_message(latest))
        handle = (((pv or {}).get("spec") or {}).get("csi") or {}).get("volumeHandle")
        nodes = sorted({(p.get("spec") or {}).get("nodeName") for p, _ in hits} - {None})
        evidence: dict = {"pods": [p["metadata"]["name"] for p, _ in hits], "claim": claim,
                          "phase": (pvc.get("status") or {}).get("phase"), "volume": volume,
                          "volumeHandle": handle, "nodes": nodes, "error": kind, "event": event}
        commands = [f"kubectl get volumeattachments | grep {volume}",
                    f"kubectl -n {ns} describe pod {pod['metadata']['name']}"]
        if kind == "multi-attach":
            how = ("The volume is still attached to another node: make the workload release it before a new pod "
                   "starts (strategy Recreate for a ReadWriteOnce volume), or delete the VolumeAttachment left by "
                   "a node that is gone.")
            if ref.startswith("deployment/"):
                commands.append(f"kubectl -n {ns} patch {ref} -p "
                                "'{\"spec\": {\"strategy\": {\"type\": \"Recreate\", \"rollingUpdate\": null}}}'")
        elif kind == "not-authorized-or-not-found":
            how = ("Check the volume OCID in the PersistentVolume exists in the cluster's region and compartment, "
                   "and that a policy lets the cluster attach it (manage volume-family in the volume's "
                   "compartment); then the attach is retried by itself.")
            if handle:
                commands.insert(0, f"oci bv volume get --volume-id {handle} --query "
                                   "'data.{state:\"lifecycle-state\",ad:\"availability-domain\","
                                   "compartment:\"compartment-id\"}'")
        else:
            how = "Read the attacher's error (event) and fix what it names; the claim itself is Bound."
        return self.finding(
            f"Pods of {ref} stuck in ContainerCreating: volume {volume} of Bound claim {ns}/{claim} fails to "
            f"attach to {', '.join(nodes)}: {meaning}; {event['reason']} x{event['count']}, last {event['lastSeen']}",
            subject=f"persistentvolumeclaim/{ns}/{claim}",
            evidence=evidence,
            fix=Fix(how, tuple(commands)),
            severity=severity,
        )
