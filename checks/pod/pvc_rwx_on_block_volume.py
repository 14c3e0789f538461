"""OKD-POD-019: a PersistentVolumeClaim asks ReadWriteMany of an OCI Block Volume class."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.manifests import pvc_yaml
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import event_message
from okedoctor.model import Finding, Fix, Hop, Severity

FSS_CLASS = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: oci-fss
provisioner: fss.csi.oraclecloud.com
parameters:
  availabilityDomain: {ad}
  mountTargetSubnetOcid: {subnet}
  # compartmentOcid: <compartment-ocid>   # defaults to the cluster's compartment
  encryptInTransit: "false"
reclaimPolicy: Delete
volumeBindingMode: Immediate
"""



class PvcRwxOnBlockVolume(Check):
    """A PersistentVolumeClaim asks ReadWriteMany of an OCI Block Volume storage class, which only gives ReadWriteOnce.

    What it checks
        Claims used by the Service's pods (and any claim in the namespace) whose accessModes
        include ReadWriteMany while their StorageClass provisions OCI Block Volumes
        (`blockvolume.csi.oraclecloud.com`, or the legacy `oracle.com/oci` of class `oci`). It
        quotes the provisioner's ProvisioningFailed event when there is one.

    Why it breaks
        A block volume attaches to one node at a time (ReadWriteOnce): the CSI driver refuses to
        provision a multi-writer volume, the claim stays Pending, and every pod that mounts it
        stays Pending too. Shared read-write storage on OCI is the File Storage service (FSS),
        an NFS export that any number of nodes mount.

    How to fix
        Create a File Storage StorageClass (provisioner `fss.csi.oraclecloud.com`, a mount
        target subnet that the workers can reach on TCP/UDP 111 and 2048-2050) and recreate the
        claim with it (storageClassName cannot be changed in place). Or, if one pod is enough,
        ask ReadWriteOnce of the block class.
    """

    code = "OKD-POD-019"
    name = "pvc-rwx-on-block-volume"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        for pvc, sc, mine, severity in _causes.claims_where(facts, _causes.rwx_on_block):
            yield self._finding(facts, pvc, sc, mine, severity)

    def _finding(self, facts: Facts, pvc: Obj, sc: Obj, mine: bool, severity: Severity) -> Finding:
        ns, name = pvc["metadata"].get("namespace", ""), pvc["metadata"]["name"]
        spec = pvc.get("spec") or {}
        failed = [event_message(e) for e in facts.events_for(pvc) if e.get("reason") == "ProvisioningFailed"]
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "50Gi")
        ad, subnet = _placement(facts)
        evidence = {
            "claim": name, "accessModes": spec.get("accessModes"),
            "storageClass": sc["metadata"]["name"], "provisioner": sc.get("provisioner"),
            "phase": (pvc.get("status") or {}).get("phase"), "usedByServicePods": mine,
        }
        if failed:
            evidence["event"] = failed[-1]
        return self.finding(
            f"PVC {ns}/{name} asks ReadWriteMany of block-volume class {sc['metadata']['name']} (ReadWriteOnce "
            f"only): it stays {(pvc.get('status') or {}).get('phase') or 'Pending'}",
            subject=f"persistentvolumeclaim/{ns}/{name}",
            evidence=evidence,
            fix=Fix("Use OCI File Storage (FSS) for ReadWriteMany: create the FSS StorageClass, then recreate the "
                    "claim with it (workers need TCP/UDP 111, 2048-2050 to the mount target subnet).",
                    ("kubectl apply -f oci-fss-storageclass.yaml",
                     f"kubectl -n {ns} delete pvc {name}",
                     f"kubectl -n {ns} apply -f {name}-pvc.yaml"),
                    "# oci-fss-storageclass.yaml\n" + FSS_CLASS.format(ad=ad, subnet=subnet) + "---\n# "
                    f"{name}-pvc.yaml\n" + pvc_yaml(name, ns, ["ReadWriteMany"], "oci-fss", size)),
            severity=severity,
        )


def _placement(facts: Facts) -> tuple[str, str]:
    """The AD name as OCI spells it (from a worker instance) and a subnet the workers reach (theirs)."""
    ads = sorted({i.get("availabilityDomain") for i in facts.oci.get("instances") or []} - {None})
    zones = sorted({(n["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone", "")
                    for n in facts.nodes} - {""})
    ad = ads[0] if ads else (f"<availability-domain, e.g. {zones[0]}>" if zones else "<availability-domain>")
    subnets = facts.worker_subnets if facts.oci else []
    subnet = f"{subnets[0]['id']}  # the workers' subnet; any subnet they reach works" if subnets \
        else "<mount-target-subnet-ocid>"
    return ad, subnet
