"""Storage: a pod Pending because its block volume lives in an availability domain with no node."""

from __future__ import annotations

import copy

from okedoctor_checks.pod.container_config_error import ContainerConfigError
from okedoctor_checks.pod.endpoints_not_ready import EndpointsNotReady
from okedoctor_checks.pod.pod_unschedulable import PodUnschedulable
from okedoctor_checks.pod.storage_class_missing import StorageClassMissing
from okedoctor_checks.pod.volume_attach_failed import VolumeAttachFailed
from okedoctor_checks.pod.volume_node_affinity_conflict import VolumeNodeAffinityConflict

from okedoctor.chain.scheduling import parse_reasons
from okedoctor.facts import Facts
from okedoctor.kube import event_quote
from okedoctor.model import Severity
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR

OTHER_AD = load_snapshot(SCENARIOS_DIR / "volume-other-ad.yaml")
NO_CLASS = load_snapshot(SCENARIOS_DIR / "storage-class-missing.yaml")
NO_SECRET = load_snapshot(SCENARIOS_DIR / "secret-volume-missing.yaml")
NO_ATTACH = load_snapshot(SCENARIOS_DIR / "volume-attach-failed.yaml")
CONFLICT = ("0/2 nodes are available: 2 node(s) had volume node affinity conflict. preemption: 0/2 nodes are "
            "available: 2 Preemption is not helpful for scheduling.")


def snap(base=OTHER_AD):
    return copy.deepcopy(base)


def objs(s, kind):
    return [o for o in s.kubernetes if o["kind"] == kind]


def run(check, s):
    return list(check().run(Facts(s)))


def test_names_the_volume_ad_the_node_ads_and_quotes_the_event():
    [f] = run(VolumeNodeAffinityConflict, snap())
    assert f.code == "OKD-POD-025" and f.severity is Severity.ERROR
    assert f.subject == "persistentvolumeclaim/default/app-data"
    assert "AP-TOKYO-1-AD-3" in f.title and "AP-TOKYO-1-AD-1, AP-TOKYO-1-AD-2" in f.title
    assert f.evidence["nodeAvailabilityDomains"] == {"10.0.10.5": "AP-TOKYO-1-AD-1", "10.0.10.6": "AP-TOKYO-1-AD-2"}
    ev = f.evidence["event"]
    assert ev["reason"] == "FailedScheduling" and ev["count"] == 12 and ev["lastSeen"] == "2026-11-20T03:11:30Z"
    assert ev["object"].startswith("pod/default/app-7d9f8b6c5d-") and "volume node affinity conflict" in ev["message"]
    assert "WaitForFirstConsumer" in f.fix.patch and "Uocm:AP-TOKYO-1-AD-3" in " ".join(f.fix.commands)


def test_a_node_in_the_volume_ad_or_an_unzoned_volume_is_no_conflict():
    s = snap()
    objs(s, "Node")[1]["metadata"]["labels"]["topology.kubernetes.io/zone"] = "AP-TOKYO-1-AD-3"
    assert run(VolumeNodeAffinityConflict, s) == []
    s = snap()
    objs(s, "PersistentVolume")[0]["spec"].pop("nodeAffinity")
    assert run(VolumeNodeAffinityConflict, s) == []


def test_a_cordoned_node_in_the_volume_ad_does_not_count():
    s = snap()
    node = objs(s, "Node")[1]
    node["metadata"]["labels"]["topology.kubernetes.io/zone"] = "AP-TOKYO-1-AD-3"
    node["spec"]["unschedulable"] = True
    [f] = run(VolumeNodeAffinityConflict, s)
    assert f.evidence["volumeAvailabilityDomain"] == ["AP-TOKYO-1-AD-3"]


def test_the_pending_finding_does_not_call_a_bound_claim_unprovisionable():
    assert parse_reasons(CONFLICT) == [{"kind": "volume-zone", "nodes": 2}]
    [f] = run(PodUnschedulable, snap())
    assert "cannot be provisioned or bound" not in f.title and "availability domain" in f.title
    assert f.caused_by == "OKD-POD-025"


def test_quoted_event_messages_are_redacted():
    ev = {"involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"}, "reason": "FailedMount",
          "message": "MountVolume.SetUp failed: password=hunter2 rejected", "count": 3,
          "lastTimestamp": "2026-11-20T03:00:00Z"}
    q = event_quote(ev)
    assert q["object"] == "pod/default/p" and q["count"] == 3 and "hunter2" not in q["message"]


def test_missing_class_names_the_classes_that_exist_and_the_default():
    s = snap(NO_CLASS)
    s.kubernetes.append({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                         "metadata": {"name": "oci-fss"}, "provisioner": "fss.csi.oraclecloud.com"})
    [f] = run(StorageClassMissing, s)
    assert f.code == "OKD-POD-026" and f.severity is Severity.ERROR
    assert "StorageClass oci-bv, which does not exist (classes: oci (default), oci-fss)" in f.title
    assert f.evidence["defaultClass"] == "oci"
    assert f.evidence["event"]["reason"] == "ProvisioningFailed" and f.evidence["event"]["count"] == 86
    assert f.evidence["event"]["object"] == "persistentvolumeclaim/default/app-data"
    assert "storageClassName: oci\n" in f.fix.patch and "provisioner: blockvolume.csi.oraclecloud.com" in f.fix.patch
    [pending] = run(PodUnschedulable, s)
    assert pending.caused_by == "OKD-POD-026"


def test_an_existing_or_bound_class_is_not_missing():
    s = snap(NO_CLASS)
    next(o for o in s.kubernetes if o["kind"] == "StorageClass")["metadata"]["name"] = "oci-bv"
    assert run(StorageClassMissing, s) == []
    s = snap(NO_CLASS)
    pvc = next(o for o in s.kubernetes if o["kind"] == "PersistentVolumeClaim")
    pvc["spec"]["volumeName"] = "pv-static"
    pvc["status"]["phase"] = "Bound"
    assert run(StorageClassMissing, s) == []


def test_missing_secret_volume_quotes_failed_mount_and_names_the_mount():
    [f] = run(ContainerConfigError, snap(NO_SECRET))
    assert "ContainerCreating" in f.title and "Secret default/app-tls (volume certs) does not exist" in f.title
    assert f.evidence["mountedAt"] == [{"container": "web", "mountPath": "/etc/tls"}]
    assert f.evidence["event"]["reason"] == "FailedMount" and f.evidence["event"]["count"] == 19
    assert "kubectl -n default create secret tls app-tls --cert=./tls.crt --key=./tls.key" in f.fix.commands


def test_missing_configmap_volume_in_the_older_plural_wording():
    s = snap(NO_SECRET)
    for o in s.kubernetes:
        if o["kind"] == "Pod":
            vol = next(v for v in o["spec"]["volumes"] if v["name"] == "certs")
            vol.pop("secret")
            vol["configMap"] = {"name": "web-config"}
        if o["kind"] == "Event" and o["reason"] == "FailedMount":
            o["message"] = 'MountVolume.SetUp failed for volume "certs" : configmaps "web-config" not found'
    [f] = run(ContainerConfigError, s)
    assert "ConfigMap default/web-config (volume certs)" in f.title
    assert 'kubectl -n default create configmap web-config --from-file="$FILE"' in f.fix.commands


def test_optional_or_since_created_volume_source_is_not_blamed():
    s = snap(NO_SECRET)
    for o in s.kubernetes:
        if o["kind"] == "Pod":
            next(v for v in o["spec"]["volumes"] if v["name"] == "certs")["secret"]["optional"] = True
    assert run(ContainerConfigError, s) == []
    s = snap(NO_SECRET)
    s.kubernetes.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "data": {"tls.crt": ""},
                         "metadata": {"name": "app-tls", "namespace": "default"}})
    assert run(ContainerConfigError, s) == []


def test_endpoints_not_ready_names_the_missing_volume_as_cause():
    [f] = run(EndpointsNotReady, snap(NO_SECRET))
    assert f.caused_by == "OKD-POD-008"


def attach_events(s):
    return [o for o in s.kubernetes if o["kind"] == "Event" and o["reason"] == "FailedAttachVolume"]


def test_attach_failure_of_a_bound_claim_names_volume_node_and_oci_error():
    [f] = run(VolumeAttachFailed, snap(NO_ATTACH))
    assert f.code == "OKD-POD-027" and f.subject == "persistentvolumeclaim/default/app-data"
    assert "Bound claim default/app-data" in f.title and "NotAuthorizedOrNotFound" in f.title
    assert "cannot be provisioned" not in f.title
    assert f.evidence["volumeHandle"] == "ocid1.volume.oc1.ap-tokyo-1.abxhiljrsharedappdata"
    assert f.evidence["event"]["reason"] == "FailedAttachVolume" and f.evidence["event"]["count"] == 17
    assert f.fix.commands[0].startswith("oci bv volume get --volume-id " + f.evidence["volumeHandle"])
    [ep] = run(EndpointsNotReady, snap(NO_ATTACH))
    assert ep.caused_by == "OKD-POD-027"


def test_multi_attach_asks_for_recreate():
    s = snap(NO_ATTACH)
    for ev in attach_events(s):
        ev["message"] = ('Multi-Attach error for volume "app-data-pv" Volume is already exclusively attached to one '
                         "node and can't be attached to another")
    [f] = run(VolumeAttachFailed, s)
    assert f.evidence["error"] == "multi-attach" and "still attached to another node" in f.title
    assert any('"type": "Recreate"' in c for c in f.fix.commands)


def test_attach_events_of_another_volume_or_a_started_pod_are_not_blamed():
    s = snap(NO_ATTACH)
    for ev in attach_events(s):
        ev["message"] = ev["message"].replace("app-data-pv", "other-pv")
    assert run(VolumeAttachFailed, s) == []
    s = snap(NO_ATTACH)
    for o in s.kubernetes:
        if o["kind"] == "Pod":
            o["status"]["phase"] = "Running"
    assert run(VolumeAttachFailed, s) == []


def test_a_bound_rwx_claim_is_not_called_unprovisionable():
    from okedoctor_checks.pod.pvc_rwx_on_block_volume import PvcRwxOnBlockVolume
    s = copy.deepcopy(load_snapshot(SCENARIOS_DIR / "rwx-pvc-oci-bv.yaml"))
    assert len(run(PvcRwxOnBlockVolume, s)) == 1
    pvc = next(o for o in s.kubernetes if o["kind"] == "PersistentVolumeClaim")
    pvc["spec"]["volumeName"] = "csi-raw-block"
    pvc["status"]["phase"] = "Bound"
    assert run(PvcRwxOnBlockVolume, s) == []


def test_unread_classes_skip_the_check_and_blame_no_class():
    from okedoctor.check import CheckSkipped
    s = snap(NO_CLASS)
    s.kubernetes = [o for o in s.kubernetes if o["kind"] != "StorageClass"]
    s.collection = {**(s.collection or {}), "kubernetes.storageclasses": {"kind": "denied", "reason": "forbidden"}}
    try:
        run(StorageClassMissing, s)
        raise AssertionError("expected a skip")
    except CheckSkipped as skip:
        assert "app-data" in str(skip) and "forbidden" in str(skip)
    [pending] = run(PodUnschedulable, s)
    assert pending.caused_by is None
