"""The Table cells the API server computes for kubectl get (what an engineer reads first)."""

from __future__ import annotations

from okedoctor.sim.tables import human_duration, to_table


def cells(kind: str, obj: dict) -> list:
    return to_table(kind, [obj], "", {})["rows"][0]["cells"]


def cs(name: str = "web", **kw) -> dict:
    return {"name": name, "ready": False, "restartCount": 0, "state": {}, **kw}


def pod(statuses: list, init: list | None = None, **meta) -> dict:
    spec = {"containers": [{"name": s["name"]} for s in statuses]}
    status: dict = {"phase": "Running", "containerStatuses": statuses}
    if init is not None:
        spec["initContainers"] = [{"name": s["name"]} for s in init]
        status["initContainerStatuses"] = init
    return {"metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z", **meta}, "spec": spec,
            "status": status}


def test_pod_status_column():
    crash = cs(restartCount=5, state={"waiting": {"reason": "CrashLoopBackOff"}},
               lastState={"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:00:00Z"}})
    row = cells("Pod", pod([crash]))
    assert row[1:3] == ["0/1", "CrashLoopBackOff"] and row[3].startswith("5 (") and row[3].endswith(" ago)")
    assert cells("Pod", pod([cs(ready=True, state={"running": {}})]))[1:4] == ["1/1", "Running", "0"]
    oom = cs(state={"terminated": {"reason": "OOMKilled", "exitCode": 137}})
    assert cells("Pod", pod([oom]))[2] == "OOMKilled"
    assert cells("Pod", pod([cs(state={"terminated": {"exitCode": 2}})]))[2] == "ExitCode:2"
    waiting_init = cs("init", state={"waiting": {"reason": "PodInitializing"}})
    assert cells("Pod", pod([cs()], init=[waiting_init]))[2] == "Init:0/1"
    assert cells("Pod", pod([cs()], init=[cs("init", state={"waiting": {"reason": "ErrImagePull"}})]))[2] == \
        "Init:ErrImagePull"
    assert cells("Pod", pod([cs(ready=True, state={"running": {}})],
                            deletionTimestamp="2026-01-01T00:00:00Z"))[2] == "Terminating"


def test_service_endpoints_and_node_columns():
    svc = {"metadata": {"name": "app"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.9",
                                                 "ports": [{"port": 443, "nodePort": 30443, "protocol": "TCP"}]}}
    assert cells("Service", svc)[1:5] == ["LoadBalancer", "10.96.0.9", "<pending>", "443:30443/TCP"]
    eps = {"metadata": {"name": "app"}, "subsets": [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(5)],
                                                     "ports": [{"port": 80}]}]}
    assert cells("Endpoints", eps)[1] == "10.0.0.0:80,10.0.0.1:80,10.0.0.2:80 + 2 more..."
    assert cells("Endpoints", {"metadata": {"name": "app"}})[1] == "<none>"
    node = {"metadata": {"name": "n", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": True}, "status": {"conditions": [{"type": "Ready", "status": "False"}],
                                                         "nodeInfo": {"kubeletVersion": "v1.31.1"}}}
    assert cells("Node", node)[1:3] == ["NotReady,SchedulingDisabled", "control-plane"]


def test_storage_columns():
    sc = {"metadata": {"name": "oci-bv", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
          "provisioner": "blockvolume.csi.oraclecloud.com", "volumeBindingMode": "WaitForFirstConsumer",
          "allowVolumeExpansion": True}
    assert cells("StorageClass", sc)[:5] == ["oci-bv (default)", "blockvolume.csi.oraclecloud.com", "Delete",
                                             "WaitForFirstConsumer", "true"]
    pvc = {"metadata": {"name": "data"}, "spec": {"volumeName": "pv-1", "storageClassName": "oci-bv"},
           "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "50Gi"}}}
    assert cells("PersistentVolumeClaim", pvc)[1:6] == ["Bound", "pv-1", "50Gi", "RWO", "oci-bv"]


def test_human_duration_matches_the_api_servers():
    cases = {0: "0s", 119: "119s", 125: "2m5s", 600: "10m", 3 * 3600 + 60: "3h1m", 30 * 3600: "30h",
             3 * 86400 + 3600: "3d1h", 30 * 86400: "30d", 800 * 86400: "2y70d", -5: "<invalid>"}
    assert {s: human_duration(s) for s in cases} == cases


def test_table_rows_carry_partial_metadata_unless_asked():
    obj = {"metadata": {"name": "x", "namespace": "ns"}, "data": {"a": "1"}}
    assert to_table("ConfigMap", [obj], "", {})["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert to_table("ConfigMap", [obj], "Object", {})["rows"][0]["object"] is obj
    assert "object" not in to_table("ConfigMap", [obj], "None", {})["rows"][0]
