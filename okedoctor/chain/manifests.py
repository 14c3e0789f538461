"""Manifests the storage fixes print: one template each, however many checks suggest them."""

from __future__ import annotations

_PVC = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
  namespace: {ns}
spec:
  accessModes: [{modes}]
  storageClassName: {cls}
  resources:
    requests:
      storage: {size}
"""

_OCI_BV_CLASS = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {name}
provisioner: blockvolume.csi.oraclecloud.com
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer{note}
allowVolumeExpansion: true
"""


def pvc_yaml(name: str, namespace: str, modes: list[str], storage_class: str, size: str) -> str:
    return _PVC.format(name=name, ns=namespace, modes=", ".join(modes), cls=storage_class, size=size)


def oci_bv_class_yaml(name: str, note: str = "") -> str:
    """A block-volume StorageClass; `note` is a comment put after its binding mode."""
    return _OCI_BV_CLASS.format(name=name, note=f"   # {note}" if note else "")
