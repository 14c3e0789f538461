"""What `okedoctor snapshot` writes: only the fields the checks read, each string redacted.

A snapshot is attached to tickets, so it is shaped by an allow-list per kind, not a deny-list:
a field nobody listed here (instance `metadata.user_data`, `extendedMetadata`, free-form and
defined tags, a container's literal env values, annotations the checks do not read) never reaches
the file, whatever new place a cluster finds to keep a secret in. The lists below name what
okedoctor/facts.py, okedoctor/chain/ and checks/ read (found by recording every key they look up
while diagnosing each shipped scenario), plus what the simulator needs to serve the file back
(uids, pod IPs). Then every string left goes through the one redactor (okedoctor.redact),
argument lists pairwise (`--db-password X`).

tests/test_ticket.py diagnoses every scenario both whole and cut down to these fields and
requires the same report, so a check that starts reading a new field fails there until the field
is listed here.
"""

from __future__ import annotations

import re
from typing import Any

from okedoctor.redact import MASK, redact
from okedoctor.snapshot import Snapshot

# A spec is: True (keep the whole value), a dict of key -> spec (keep those keys only; the key "*"
# applies to every key), or ANNOTATIONS. A spec applies to each element of a list.
Spec = Any
ALL = True
ANNOTATIONS = "annotations"

# The annotations the checks read (the CCM's, the Deployment revision, the default StorageClass,
# flanneld's on nodes, which tell the CNI, an ingress controller's); kubectl's last-applied copy
# and every tool's own notes are left out.
_ANNOTATION_KEYS = re.compile(
    r"(?:service\.beta\.kubernetes\.io/|oci\.oraclecloud\.com/|oci-network-load-balancer\.oraclecloud\.com/"
    r"|flannel\.alpha\.coreos\.com/"
    r"|deployment\.kubernetes\.io/revision$|storageclass\.kubernetes\.io/is-default-class$"
    r"|storageclass\.beta\.kubernetes\.io/is-default-class$|volume\.kubernetes\.io/selected-node$"
    r"|ingressclass\.kubernetes\.io/is-default-class$|kubernetes\.io/ingress\.class$"
    r"|oci-native-ingress\.oraclecloud\.com/"
    # an ingress controller's own (OKD-ING-006/007/008: the one it refuses, a snippet breaking its reload)
    r"|nginx\.ingress\.kubernetes\.io/|traefik\.ingress\.kubernetes\.io/)")

_REF = {"apiVersion": ALL, "kind": ALL, "name": ALL, "uid": ALL, "controller": ALL}
META = {"name": ALL, "namespace": ALL, "uid": ALL, "labels": ALL, "annotations": ANNOTATIONS,
        "ownerReferences": _REF, "creationTimestamp": ALL, "deletionTimestamp": ALL, "generation": ALL,
        "resourceVersion": ALL}
_ENV = {"name": ALL, "valueFrom": ALL}  # a literal `value` is never kept
CONTAINER = {"name": ALL, "image": ALL, "imagePullPolicy": ALL, "ports": ALL, "command": ALL, "args": ALL,
             "readinessProbe": ALL, "livenessProbe": ALL, "startupProbe": ALL, "resources": ALL,
             "volumeMounts": ALL, "env": _ENV, "envFrom": ALL, "restartPolicy": ALL, "securityContext": ALL}
POD_SPEC = {"containers": CONTAINER, "initContainers": CONTAINER, "volumes": ALL, "nodeName": ALL,
            "nodeSelector": ALL, "affinity": ALL, "tolerations": ALL, "hostNetwork": ALL, "imagePullSecrets": ALL,
            "readinessGates": ALL, "overhead": ALL, "priorityClassName": ALL, "schedulerName": ALL,
            "serviceAccountName": ALL, "securityContext": ALL, "restartPolicy": ALL,
            "topologySpreadConstraints": ALL, "runtimeClassName": ALL}
_TEMPLATE = {"metadata": {"labels": ALL, "annotations": ANNOTATIONS}, "spec": POD_SPEC}
_WORKLOAD = {"spec": {"replicas": ALL, "selector": ALL, "strategy": ALL, "minReadySeconds": ALL,
                      "template": _TEMPLATE},
             "status": ALL}
_CONTAINER_STATUS = {"name": ALL, "ready": ALL, "started": ALL, "restartCount": ALL, "image": ALL,
                     "state": ALL, "lastState": ALL}

KUBERNETES: dict[str, dict[str, Spec]] = {
    "Namespace": {"status": {"phase": ALL}},
    "Service": {"spec": ALL, "status": ALL},
    "Endpoints": {"subsets": ALL},
    "EndpointSlice": {"addressType": ALL, "endpoints": ALL, "ports": ALL},
    "Deployment": _WORKLOAD,
    "ReplicaSet": _WORKLOAD,
    "StatefulSet": _WORKLOAD,
    "DaemonSet": _WORKLOAD,
    "Pod": {"spec": POD_SPEC,
            "status": {"phase": ALL, "conditions": ALL, "containerStatuses": _CONTAINER_STATUS,
                       "initContainerStatuses": _CONTAINER_STATUS, "podIP": ALL, "podIPs": ALL, "hostIP": ALL,
                       "startTime": ALL, "reason": ALL, "message": ALL, "nominatedNodeName": ALL, "qosClass": ALL}},
    "Node": {"spec": {"providerID": ALL, "taints": ALL, "unschedulable": ALL, "podCIDR": ALL, "podCIDRs": ALL},
             "status": {"addresses": ALL, "allocatable": ALL, "capacity": ALL, "conditions": ALL,
                        "nodeInfo": {"kubeletVersion": ALL, "architecture": ALL, "operatingSystem": ALL,
                                     "osImage": ALL, "kernelVersion": ALL, "containerRuntimeVersion": ALL}}},
    "PersistentVolumeClaim": {"spec": ALL, "status": ALL},
    "PersistentVolume": {"spec": ALL, "status": ALL},
    "StorageClass": {"provisioner": ALL, "parameters": ALL, "volumeBindingMode": ALL, "reclaimPolicy": ALL,
                     "allowVolumeExpansion": ALL},
    "Event": {"involvedObject": ALL, "reason": ALL, "message": ALL, "type": ALL, "count": ALL,
              "firstTimestamp": ALL, "lastTimestamp": ALL, "eventTime": ALL, "series": ALL, "source": ALL,
              "reportingComponent": ALL, "reportingController": ALL, "action": ALL},
    # Collected with their values already masked: the key names are what the checks compare.
    "Secret": {"type": ALL, "data": ALL, "stringData": ALL, "immutable": ALL},
    "ConfigMap": {"data": ALL, "binaryData": ALL, "immutable": ALL},
    # A URL's walk (okedoctor/chain/route.py): the rules, classes and routes that pick its backend.
    "Ingress": {"spec": {"ingressClassName": ALL, "defaultBackend": ALL, "rules": ALL, "tls": ALL},
                "status": ALL},
    "IngressClass": {"spec": {"controller": ALL, "parameters": ALL}},
    # The OCI Native Ingress Controller's class settings: OCIDs, a name, sizes (no credential).
    "IngressClassParameters": {"spec": ALL},
    "CustomResourceDefinition": {"spec": {"group": ALL, "names": ALL, "scope": ALL, "versions": {"name": ALL,
                                                                                                  "served": ALL}}},
    # What the Gateway API controller said of them (status conditions: OKD-ING-009..011).
    "HTTPRoute": {"spec": {"hostnames": ALL, "rules": ALL, "parentRefs": ALL}, "status": ALL},
    "Gateway": {"spec": {"gatewayClassName": ALL, "listeners": ALL, "addresses": ALL}, "status": ALL},
}

_RULE = {"protocol": ALL, "source": ALL, "sourceType": ALL, "destination": ALL, "destinationType": ALL,
         "isStateless": ALL, "tcpOptions": ALL, "udpOptions": ALL, "icmpOptions": ALL, "direction": ALL,
         "isValid": ALL, "id": ALL, "description": ALL}  # the fix re-states every rule, descriptions too
_LB_COMMON = {"id": ALL, "displayName": ALL, "compartmentId": ALL, "lifecycleState": ALL, "ipAddresses": ALL,
              "isPrivate": ALL, "networkSecurityGroupIds": ALL, "listeners": ALL, "backendSets": ALL,
              "timeCreated": ALL}

OCI: dict[str, Spec] = {
    "networkLoadBalancers": {**_LB_COMMON, "lifecycleDetails": ALL, "subnetId": ALL, "timeUpdated": ALL,
                             "isPreserveSourceDestination": ALL, "nlbIpVersion": ALL},
    # The certificate bundles' public halves (the LB API never returns a private key): the TLS checks
    # judge the listener's certificate from them.
    "loadBalancers": {**_LB_COMMON, "shapeName": ALL, "shapeDetails": ALL, "subnetIds": ALL,
                      "certificates": {"*": {"certificateName": ALL, "publicCertificate": ALL,
                                             "caCertificate": ALL}}},
    "subnets": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "vcnId": ALL, "cidrBlock": ALL,
                "ipv4CidrBlocks": ALL, "ipv6CidrBlock": ALL, "ipv6CidrBlocks": ALL, "routeTableId": ALL,
                "securityListIds": ALL, "prohibitPublicIpOnVnic": ALL, "prohibitInternetIngress": ALL,
                "availabilityDomain": ALL, "lifecycleState": ALL, "virtualRouterIp": ALL},
    "securityLists": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "vcnId": ALL, "lifecycleState": ALL,
                      "timeCreated": ALL, "ingressSecurityRules": _RULE, "egressSecurityRules": _RULE},
    "networkSecurityGroups": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "vcnId": ALL,
                              "lifecycleState": ALL},
    "networkSecurityGroupRules": _RULE,
    "instances": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "availabilityDomain": ALL,
                  "faultDomain": ALL, "lifecycleState": ALL, "region": ALL, "shape": ALL, "shapeConfig": ALL,
                  "timeCreated": ALL,
                  # OKE's node pool OCID (the fixes name the pool); never user_data or the rest
                  "metadata": {"oke-pool-id": ALL}},
    "vnicAttachments": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "availabilityDomain": ALL,
                        "instanceId": ALL, "vnicId": ALL, "subnetId": ALL, "lifecycleState": ALL, "nicIndex": ALL},
    "vnics": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "availabilityDomain": ALL, "privateIp": ALL,
              "publicIp": ALL, "subnetId": ALL, "nsgIds": ALL, "isPrimary": ALL, "lifecycleState": ALL,
              "skipSourceDestCheck": ALL},
    "routeTables": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "vcnId": ALL, "lifecycleState": ALL,
                    "routeRules": {"destination": ALL, "destinationType": ALL, "networkEntityId": ALL,
                                   "routeType": ALL, "cidrBlock": ALL, "description": ALL}},
    "backendSetHealth": ALL,
    "etags": ALL,  # the ETag of each security list as read: the fix's --if-match
    "backendHealth": ALL,
    "clusters": {"id": ALL, "name": ALL, "compartmentId": ALL, "vcnId": ALL, "kubernetesVersion": ALL,
                 "lifecycleState": ALL, "endpointConfig": ALL, "options": {"serviceLbSubnetIds": ALL}},
    # OCI Certificates bodies (GetCertificate: metadata, never the certificate's key or bundle).
    "certificates": {"id": ALL, "name": ALL, "compartmentId": ALL, "lifecycleState": ALL, "configType": ALL,
                     "issuerCertificateAuthorityId": ALL, "subject": ALL,
                     "currentVersion": {"validity": ALL, "subjectAlternativeNames": ALL, "versionNumber": ALL,
                                        "stages": ALL, "serialNumber": ALL}},
    "vcns": {"id": ALL, "displayName": ALL, "compartmentId": ALL, "cidrBlock": ALL, "cidrBlocks": ALL,
             "lifecycleState": ALL},
    "nodePools": {"id": ALL, "name": ALL, "compartmentId": ALL, "clusterId": ALL, "kubernetesVersion": ALL,
                  "nodeShape": ALL, "nodeConfigDetails": {"size": ALL, "placementConfigs": ALL,
                                                          "nsgIds": ALL}, "lifecycleState": ALL},
}

# Argument words that take the credential in the next word: `--db-password X`, `-p X` after a login.
# (?<![\w-]): a search starts only where a run of word characters starts (tests/test_regex_linear.py).
_SECRET_FLAG = re.compile(r"(?i)(?<![\w-])-{1,2}[\w-]*(?:password|passwd|pwd|pass|token|secret|api-?key|credential)"
                          r"[\w-]*")


def keep(value: Any, spec: Spec) -> Any:
    """`value` cut down to `spec`."""
    if spec is ALL:
        return value
    if isinstance(value, list):
        return [keep(v, spec) for v in value]
    if not isinstance(value, dict):
        return value
    if spec == ANNOTATIONS:
        return {k: v for k, v in value.items() if isinstance(k, str) and _ANNOTATION_KEYS.match(k)}
    every = spec.get("*")
    return {k: keep(v, spec.get(k, every)) for k, v in value.items() if k in spec or every is not None}


def keep_object(obj: dict[str, Any]) -> dict[str, Any]:
    """A Kubernetes object with its kind's fields only (an unknown kind keeps its identity alone)."""
    out = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
           "metadata": keep(obj.get("metadata") or {}, META)}
    out.update(keep({k: v for k, v in obj.items() if k not in out}, KUBERNETES.get(str(obj.get("kind")), {})))
    return out


def keep_oci(oci: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, bodies in oci.items():
        spec = OCI.get(section)
        if spec is None:
            continue  # a section this okedoctor does not read
        out[section] = ({k: keep(v, spec) for k, v in bodies.items()} if isinstance(bodies, dict)
                        else keep(bodies, spec))
    return out


def redact_argv(words: list[Any]) -> list[Any]:
    """An argument list redacted word by word, and the word after a credential flag masked."""
    out: list[Any] = []
    for i, word in enumerate(words):
        prev = words[i - 1] if i else None
        flag = isinstance(prev, str) and "=" not in prev and _SECRET_FLAG.fullmatch(prev)
        out.append(MASK if flag and isinstance(word, str) else redact_all(word))
    return out


# A string that is nothing but PEM certificates (an LB bundle's publicCertificate/caCertificate) is
# public and kept whole: the redactor would mask a base64 line that happens to read like `...key=`,
# and a mangled certificate would be judged unreadable. A private key is never such a string.
_PUBLIC_PEM = re.compile(r"(?:-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]++-----END CERTIFICATE-----\s*+)++")


def redact_all(value: Any, key: str = "") -> Any:
    """Every string in `value` redacted (but public certificates); `command` and `args` lists pairwise."""
    if isinstance(value, str):
        return value if _PUBLIC_PEM.fullmatch(value.strip()) else redact(value)
    if isinstance(value, list):
        return redact_argv(value) if key in ("command", "args") else [redact_all(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_all(v, k) for k, v in value.items()}
    return value


def for_ticket(snap: Snapshot) -> Snapshot:
    """The snapshot as `okedoctor snapshot` writes it: allow-listed fields, every string redacted."""
    return Snapshot(
        kind=snap.kind, metadata=redact_all(snap.metadata), context=redact_all(snap.context),
        target=redact_all(snap.target),
        kubernetes=[redact_all(keep_object(o)) for o in snap.kubernetes],
        oci=redact_all(keep_oci(snap.oci)) if snap.oci is not None else None,
        live=redact_all(snap.live), collection=redact_all(snap.collection))
