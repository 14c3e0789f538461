"""OKD-POD-026: a PersistentVolumeClaim stays Pending because its StorageClass does not exist."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.manifests import oci_bv_class_yaml, pvc_yaml
from okedoctor.check import Check, CheckSkipped
from okedoctor.facts import Facts, Obj
from okedoctor.kube import event_quote, events_with_reason
from okedoctor.model import Finding, Fix, Hop, Severity

DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"




class StorageClassMissing(Check):
    """A PersistentVolumeClaim stays Pending because the StorageClass it names does not exist.

    What it checks
        Pending claims used by the Service's pods (and any claim in the namespace) whose
        storageClassName names no StorageClass of the cluster. It names the classes that do
        exist and which one is the default, and quotes the claim's ProvisioningFailed event.

    Why it breaks
        Nothing provisions a volume for a class that does not exist: the claim stays Pending, and
        every pod that mounts it stays Pending ("pod has unbound immediate
        PersistentVolumeClaims"), so the Service has no endpoint. The name often comes from
        another cluster or a guide: older OKE clusters only have `oci` (FlexVolume), newer ones
        `oci-bv` (CSI block volumes), and a hand-made class may have been deleted.

    How to fix
        Recreate the claim with a class that exists (storageClassName cannot be changed in
        place), or create the missing class (for `oci-bv`: provisioner
        `blockvolume.csi.oraclecloud.com`, `WaitForFirstConsumer`).
    """

    code = "OKD-POD-026"
    name = "storage-class-missing"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        unread = facts.unavailable("kubernetes.storageclasses")
        for pvc, cls, mine, severity in _causes.claims_where(facts, _causes.unlisted_class):
            if unread:  # the classes were not read: "not found" would be a guess
                raise CheckSkipped(f"claim {pvc['metadata']['name']} names class {cls}: {unread.reason}")
            yield self._finding(facts, pvc, cls, mine, severity)

    def _finding(self, facts: Facts, pvc: Obj, cls: str, mine: bool, severity: Severity) -> Finding:
        ns, name = pvc["metadata"].get("namespace", ""), pvc["metadata"]["name"]
        spec = pvc.get("spec") or {}
        classes = sorted(facts.objects("StorageClass"), key=lambda c: c["metadata"]["name"])
        default = [c["metadata"]["name"] for c in classes
                   if (c["metadata"].get("annotations") or {}).get(DEFAULT_ANNOTATION) == "true"]
        shown = {c["metadata"]["name"]: c.get("provisioner") for c in classes}
        listed = ", ".join(n + (" (default)" if n in default else "") for n in shown) or "none"
        evidence: dict = {"claim": name, "storageClassName": cls, "phase": (pvc.get("status") or {}).get("phase"),
                          "existingClasses": shown, "defaultClass": default[0] if default else None,
                          "usedByServicePods": mine}
        failed = events_with_reason(facts.events_for(pvc), "ProvisioningFailed")
        event = event_quote(failed[-1]) if failed else None
        if event:
            evidence["event"] = event
        quoted = f"; {event['reason']} x{event['count']}, last {event['lastSeen']}" if event else ""
        target = default[0] if default else next(iter(shown), "<existing-class>")
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "50Gi")
        modes = spec.get("accessModes") or ["ReadWriteOnce"]
        snippet = f"# {name}-pvc.yaml\n" + pvc_yaml(name, ns, modes, target, size)
        commands = ["kubectl get storageclass", f"kubectl -n {ns} delete pvc {name}",
                    f"kubectl -n {ns} apply -f {name}-pvc.yaml"]
        how = f"Recreate the claim with an existing class ({target})"
        if cls == "oci-bv" or cls.startswith("oci-bv"):
            snippet += f"---\n# or create the class instead: {cls}-storageclass.yaml\n" + oci_bv_class_yaml(cls)
            how += f", or create class {cls} for the OCI Block Volume CSI driver"
        return self.finding(
            f"PVC {ns}/{name} names StorageClass {cls}, which does not exist (classes: {listed}): it stays "
            f"Pending{quoted}",
            subject=f"persistentvolumeclaim/{ns}/{name}",
            evidence=evidence,
            fix=Fix(how + "; storageClassName cannot be changed in place.", tuple(commands), snippet),
            severity=severity,
        )
