"""Kubernetes-side checks on small changes to the healthy scenario: the cases the scenarios do not cover."""

from __future__ import annotations

import copy

import pytest
from okedoctor_checks.cluster.access_denied import AccessDenied
from okedoctor_checks.node.etp_local_endpoint_nodes import EtpLocalEndpointNodes
from okedoctor_checks.node.node_excluded_from_lb import NodeExcludedFromLB
from okedoctor_checks.pod.endpoints_not_ready import EndpointsNotReady
from okedoctor_checks.pod.env_key_ref_missing import EnvKeyRefMissing
from okedoctor_checks.pod.pod_unschedulable import PodUnschedulable
from okedoctor_checks.pod.port_target_port_swapped import PortTargetPortSwapped
from okedoctor_checks.pod.readiness_probe_port_mismatch import ReadinessProbePortMismatch
from okedoctor_checks.pod.rollout_no_room_for_surge import RolloutNoRoomForSurge
from okedoctor_checks.pod.secret_env_file_shape import SecretEnvFileShape
from okedoctor_checks.pod.service_selects_no_pod import ServiceSelectsNoPod
from okedoctor_checks.pod.target_port_not_exposed import TargetPortNotExposed

from okedoctor.chain.scheduling import parse_reasons
from okedoctor.check import CheckSkipped
from okedoctor.facts import Facts
from okedoctor.model import Severity
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR

HEALTHY = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")


def snap():
    return copy.deepcopy(HEALTHY)


def objs(s, kind):
    return [o for o in s.kubernetes if o["kind"] == kind]


def containers(s):
    out = []
    for o in s.kubernetes:
        if o["kind"] == "Pod":
            out += o["spec"]["containers"]
        elif o["kind"] in ("Deployment", "ReplicaSet"):
            out += o["spec"]["template"]["spec"]["containers"]
    return out


def run(check, s):
    return list(check().run(Facts(s)))


@pytest.mark.parametrize("check", [ServiceSelectsNoPod, EndpointsNotReady, TargetPortNotExposed,
                                   PortTargetPortSwapped, ReadinessProbePortMismatch, SecretEnvFileShape,
                                   EnvKeyRefMissing, PodUnschedulable, RolloutNoRoomForSurge, NodeExcludedFromLB,
                                   EtpLocalEndpointNodes, AccessDenied])
def test_healthy_gives_nothing(check):
    assert run(check, snap()) == []


def test_named_target_port_missing():
    s = snap()
    objs(s, "Service")[0]["spec"]["ports"][0]["targetPort"] = "web-http"
    [f] = run(TargetPortNotExposed, s)
    assert "named targetPort 'web-http'" in f.title and f.severity is Severity.ERROR
    assert "8080" in f.fix.commands[-1]  # the only declared port is proposed


def test_named_target_port_found_in_a_sidecar_is_fine():
    s = snap()
    objs(s, "Service")[0]["spec"]["ports"][0]["targetPort"] = "metrics"
    for pod in objs(s, "Pod"):
        pod["spec"]["containers"].append({"name": "exporter", "image": "x", "ports": [
            {"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]})
    assert run(TargetPortNotExposed, s) == []


def test_undeclared_ports_are_not_judged():
    s = snap()
    for c in containers(s):
        c.pop("ports")
    objs(s, "Service")[0]["spec"]["ports"][0]["targetPort"] = 9999
    assert run(TargetPortNotExposed, s) == []


def test_swapped_is_reported_once_by_the_swap_check():
    s = snap()
    objs(s, "Service")[0]["spec"]["ports"][0].update(port=8080, targetPort=80)
    assert run(TargetPortNotExposed, s) == []
    [f] = run(PortTargetPortSwapped, s)
    assert '"value": 80}' in f.fix.commands[0] and '"value": 8080}' in f.fix.commands[0]


def test_readiness_probe_on_named_port_of_same_number_is_fine():
    s = snap()
    for c in containers(s):
        if "readinessProbe" in c:
            c["readinessProbe"]["httpGet"]["port"] = "http"
    assert run(ReadinessProbePortMismatch, s) == []


def test_near_miss_names_the_differing_label():
    s = snap()
    objs(s, "Service")[0]["spec"]["selector"] = {"app": "web", "tier": "frontend"}
    [f] = run(ServiceSelectsNoPod, s)
    assert "tier missing (want frontend)" in f.title
    assert "tier" not in f.fix.patch  # the proposed selector is one the pods satisfy


def test_env_file_secret_mounted_where_a_file_is_expected():
    s = snap()
    s.kubernetes.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                         "metadata": {"name": "app-env", "namespace": "default"},
                         "data": {"DATABASE_URL": "<redacted>", "API_KEY": "<redacted>"}})
    for pod in objs(s, "Pod"):
        pod["spec"]["volumes"].append({"name": "env", "secret": {"secretName": "app-env"}})
        pod["spec"]["containers"][0]["volumeMounts"].append(
            {"name": "env", "mountPath": "/app/.env", "subPath": ".env"})
    [f] = run(SecretEnvFileShape, s)
    assert f.evidence["expectsFile"] == ".env" and f.evidence["keys"] == ["API_KEY", "DATABASE_URL"]
    assert "--from-file=.env=.env" in f.fix.commands[0]
    assert "<redacted>" not in str(f.to_dict())  # key names only, values never


def test_env_file_secret_mount_found_through_the_log():
    s = snap()
    s.kubernetes.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cfg", "namespace": "default"},
                         "data": {"DB_HOST": "<redacted>", "DB_USER": "<redacted>"}})
    for pod in objs(s, "Pod"):
        pod["spec"]["volumes"].append({"name": "cfg", "secret": {"secretName": "cfg"}})
        pod["spec"]["containers"][0]["volumeMounts"].append({"name": "cfg", "mountPath": "/etc/app"})
        s.live["containers"][f"default/{pod['metadata']['name']}/web"]["logs"] = (
            "Error: ENOENT: no such file or directory, open '/etc/app/app.env'\n")
    [f] = run(SecretEnvFileShape, s)
    assert f.evidence["expectsFile"] == "app.env"


def test_key_ref_optional_or_present_is_fine_missing_is_latent():
    s = snap()
    s.kubernetes.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "default"},
                         "data": {"USER": "<redacted>"}})
    for c in containers(s):
        c["env"] = [{"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "db", "key": "USER"}}},
                    {"name": "DB_OPT", "valueFrom": {"secretKeyRef": {"name": "db", "key": "OPT", "optional": True}}},
                    {"name": "DB_PASS", "valueFrom": {"secretKeyRef": {"name": "db", "key": "PASS"}}}]
    [f] = run(EnvKeyRefMissing, s)
    assert f.evidence["key"] == "PASS" and f.evidence["keysPresent"] == ["USER"]
    assert f.severity is Severity.WARNING


def test_scheduler_message_reasons():
    msg = ("0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint "
           "{dedicated: gpu}, 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
           "available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found.")
    assert parse_reasons(msg) == [
        {"kind": "insufficient", "nodes": 1, "resource": "memory"},
        {"kind": "taint", "nodes": 1, "taint": "dedicated: gpu"},
        {"kind": "selector", "nodes": 1},
    ]


def test_pending_pod_with_taint_gets_a_toleration():
    s = snap()
    pod = objs(s, "Pod")[0]
    pod["spec"].pop("nodeName")
    msg = "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: batch}. preemption: ..."
    pod["status"] = {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg}]}
    [f] = run(PodUnschedulable, s)
    assert f.severity is Severity.WARNING  # the other pod still serves
    assert "key: dedicated" in f.fix.patch and f.caused_by is None


def test_first_rollout_is_not_a_stuck_surge():
    s = snap()
    pod = objs(s, "Pod")[0]
    pod["spec"].pop("nodeName")
    pod["status"] = {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "message": "0/2 nodes are available: 2 Insufficient cpu."}]}
    assert run(RolloutNoRoomForSurge, s) == []  # a single ReplicaSet: nothing to surge past


def etp_local(s):
    svc = objs(s, "Service")[0]
    svc["spec"]["externalTrafficPolicy"] = "Local"
    svc["spec"]["healthCheckNodePort"] = 32145
    return s


def test_excluded_node_matters_only_with_etp_local():
    s = snap()
    objs(s, "Node")[1]["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"] = "true"
    [f] = run(NodeExcludedFromLB, s)
    assert f.severity is Severity.INFO
    [f] = run(NodeExcludedFromLB, etp_local(s))
    assert f.severity is Severity.WARNING  # the other node still holds a ready pod


def test_exclusion_label_false_does_not_exclude():
    s = etp_local(snap())
    objs(s, "Node")[1]["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"] = "false"
    assert run(NodeExcludedFromLB, s) == []


def test_etp_local_lists_nodes_with_and_without_endpoints():
    s = etp_local(snap())
    es = objs(s, "EndpointSlice")[0]
    es["endpoints"][1]["conditions"]["ready"] = False
    [f] = run(EtpLocalEndpointNodes, s)
    assert f.severity is Severity.INFO
    assert f.evidence["nodesWithReadyEndpoints"] == {"10.0.10.5": 1} and f.evidence["nodesWithout"] == ["10.0.10.6"]


def test_iam_denials_quote_the_statement():
    s = snap()
    s.collection = {"oci": {"kind": "denied", "reason": "OCI answered 404 NotAuthorizedOrNotFound reading "
                            "network-load-balancers: needs the IAM policy statement `Allow group ops to read "
                            "network-load-balancers in compartment id ocid1.compartment.oc1..x`"},
                    "live.containers": {"kind": "unavailable", "reason": "timeout"}}
    [f] = run(AccessDenied, s)
    assert f.subject == "iam/okedoctor"
    assert f.evidence["statementsToAdd"] == [
        "Allow group ops to read network-load-balancers in compartment id ocid1.compartment.oc1..x"]


def test_raw_forbidden_message_becomes_a_cluster_rule():
    s = snap()
    s.collection = {"kubernetes": {"kind": "denied", "reason": 'nodes is forbidden: User "system:serviceaccount:ci:'
                                   'reader" cannot list resource "nodes" in API group "" at the cluster scope'}}
    [f] = run(AccessDenied, s)
    assert "kind: ClusterRole" in f.fix.patch and "resources: [nodes]" in f.fix.patch


def test_localhost_checks_skip_when_not_observed():
    from okedoctor_checks.pod.app_5xx_on_localhost import App5xxOnLocalhost

    s = snap()
    s.live = {}
    with pytest.raises(CheckSkipped):
        run(App5xxOnLocalhost, s)


def test_endpoints_all_not_ready_without_a_visible_cause_stay_a_root_cause():
    s = snap()
    for ep in objs(s, "EndpointSlice")[0]["endpoints"]:
        ep["conditions"]["ready"] = False  # pods Ready, slices stale: nothing at the pod explains it
    [f] = run(EndpointsNotReady, s)
    assert f.root_cause and f.caused_by is None and f.severity is Severity.ERROR


def test_endpoints_not_ready_names_the_crash_as_cause():
    s = snap()
    for pod in objs(s, "Pod"):
        st = pod["status"]["containerStatuses"][0]
        st.update(ready=False, restartCount=4, state={"waiting": {"reason": "CrashLoopBackOff"}},
                  lastState={"terminated": {"exitCode": 2, "reason": "Error"}})
    for ep in objs(s, "EndpointSlice")[0]["endpoints"]:
        ep["conditions"]["ready"] = False
    [f] = run(EndpointsNotReady, s)
    assert f.caused_by == "OKD-POD-006" and not f.root_cause


def test_quota_failed_create_is_named():
    from okedoctor_checks.pod.workload_has_no_pods import WorkloadHasNoPods

    s = snap()
    s.kubernetes = [o for o in s.kubernetes if o["kind"] != "Pod"]
    rs = objs(s, "ReplicaSet")[0]
    s.kubernetes.append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "default"},
                         "involvedObject": {"kind": "ReplicaSet", "namespace": "default",
                                            "name": rs["metadata"]["name"]},
                         "reason": "FailedCreate", "type": "Warning", "lastTimestamp": "2026-11-20T03:00:00Z",
                         "message": 'Error creating: pods "app-7d9f8b6c5d-abcde" is forbidden: exceeded quota: '
                                    "compute, requested: requests.cpu=250m, used: requests.cpu=2, limited: "
                                    "requests.cpu=2"})
    [f] = run(WorkloadHasNoPods, s)
    assert "ResourceQuota compute" in f.title and f.evidence["kind"] == "quota"
    assert run(ServiceSelectsNoPod, s) == []  # the selector is right: no blame on it


def test_undeclared_target_port_that_answers_is_not_reported():
    s = snap()
    for c in containers(s):
        c["ports"] = [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]
        c.pop("readinessProbe", None)
    assert run(TargetPortNotExposed, s) == []  # the in-pod probe got 200 on 8080
    for live in s.live["containers"].values():
        live["localhost"] = {"8080": {"error": "refused"}}
    [f] = run(TargetPortNotExposed, s)
    assert f.evidence["inPodProbe"] and f.severity is Severity.ERROR


def test_quoted_logs_and_bodies_never_carry_credentials():
    import json

    from okedoctor_checks.pod.app_5xx_on_localhost import App5xxOnLocalhost
    from okedoctor_checks.pod.pod_crashloop import PodCrashLoop

    s = snap()
    for pod in objs(s, "Pod"):
        st = pod["status"]["containerStatuses"][0]
        st.update(ready=False, restartCount=3, state={"waiting": {"reason": "CrashLoopBackOff"}},
                  lastState={"terminated": {"exitCode": 1, "reason": "Error"}})
        s.live["containers"][f"default/{pod['metadata']['name']}/web"]["previousLogs"] = (
            "connecting to postgres://app:hunter2pw@db:5432/app\nDB_PASSWORD=hunter2pw\n"
            "FATAL: connect ECONNREFUSED 10.96.1.2:5432\n")
    [f] = run(PodCrashLoop, s)
    assert "hunter2pw" not in json.dumps(f.to_dict())
    assert "10.96.1.2:5432" in f.title  # the dependency is still named

    s = snap()
    for live in s.live["containers"].values():
        live["localhost"] = {"8080": {"status": 500, "body": "error: token=abcd1234secret not accepted"}}
    [f] = run(App5xxOnLocalhost, s)
    assert "abcd1234secret" not in json.dumps(f.to_dict()) and f.evidence["status"] == 500


# A body as an app writes it when it fails: a connection string, an env dump, a shell line.
LEAKY_BODY = 'Traceback: connect(dsn="host=db user=app password=BODYPW1 dbname=x") DB_PASS=BODYPW2 pwd BODYPW3'


def test_probe_bodies_quoted_at_the_pod_hop_are_redacted():
    import json

    from okedoctor_checks.pod.app_5xx_on_localhost import App5xxOnLocalhost

    s = snap()
    for live in s.live["containers"].values():
        live["localhost"] = {"8080": {"status": 500, "body": LEAKY_BODY}}
    [f] = run(App5xxOnLocalhost, s)
    text = json.dumps(f.to_dict())
    assert not any(pw in text for pw in ("BODYPW1", "BODYPW2", "BODYPW3"))
    assert f.evidence["bodyPrefix"].startswith("Traceback: connect(dsn=")  # what failed is still said


def test_internet_bodies_quoted_by_the_5xx_check_are_redacted():
    import json

    from okedoctor_checks.internet.listener_returns_server_error import ListenerReturnsServerError

    s = snap()
    [address] = list(s.live["internet"])
    s.live["internet"][address] = {"status": 500, "body": LEAKY_BODY}
    [f] = run(ListenerReturnsServerError, s)
    text = json.dumps(f.to_dict())
    assert not any(pw in text for pw in ("BODYPW1", "BODYPW2", "BODYPW3"))
    assert f.evidence["status"] == 500 and f.evidence["bodyPrefix"].startswith("Traceback")


def test_rollout_room_numbers_only_when_other_pods_were_collected():
    s = load_snapshot(SCENARIOS_DIR / "rollout-stuck-no-room.yaml")
    [f] = run(RolloutNoRoomForSurge, s)
    assert "330m" in f.title and any("--requests=cpu=330m" in c for c in f.fix.commands)
    # A live collection reads only the Service's pods: the reports pods are unknown, so is the room.
    s.kubernetes = [o for o in s.kubernetes if not (o["kind"] == "Pod" and o["metadata"]["name"].startswith("reports"))]
    [f] = run(RolloutNoRoomForSurge, s)
    assert "830m" not in f.title and "upper bound" in f.evidence["requestedIs"]
    assert any("Allocated resources" in c for c in f.fix.commands)


def test_distroless_images_make_the_probe_checks_say_why_they_skipped():
    from okedoctor_checks.pod.nothing_listens_on_target_port import NothingListensOnTargetPort

    s = snap()
    for live in s.live["containers"].values():
        live.pop("localhost")
        live["tools"] = []
    with pytest.raises(CheckSkipped, match="kubectl debug"):
        run(NothingListensOnTargetPort, s)


def test_evicted_pods_are_not_crash_loops():
    from okedoctor_checks.pod.pod_crashloop import PodCrashLoop

    s = snap()
    pod = copy.deepcopy(objs(s, "Pod")[0])
    pod["metadata"]["name"] = "app-7d9f8b6c5d-evict"
    pod["status"].update(phase="Failed", reason="Evicted",
                         message="The node was low on resource: ephemeral-storage.")
    pod["status"]["containerStatuses"][0].update(
        ready=False, restartCount=2, state={"terminated": {"exitCode": 137, "reason": "Error"}})
    s.kubernetes.append(pod)
    assert run(PodCrashLoop, s) == []


def _mgmt_port_report(registry, edit):
    from okedoctor.diagnose import diagnose_snapshot, resolve_target

    snap = load_snapshot(SCENARIOS_DIR / "readiness-probe-management-port.yaml")
    edit(snap)
    report = diagnose_snapshot(snap, resolve_target(snap, None, None, "x"), registry)
    return next(f for f in report.findings if f.code == "OKD-POD-005"), report


def test_a_declared_health_port_is_information_not_a_warning(builtin_registry):
    finding, report = _mgmt_port_report(builtin_registry, lambda snap: None)
    assert finding.severity.value == "info" and report.verdict.value == "ok"


def test_a_health_port_that_misleads_is_a_warning(builtin_registry):
    def serving_port_refuses(snap):
        for live in snap.live["containers"].values():
            live["localhost"]["8080"] = {"error": "refused", "path": "/"}

    finding, _ = _mgmt_port_report(builtin_registry, serving_port_refuses)
    assert finding.severity.value == "warning" and "misleads" in finding.evidence["assessment"]


def test_a_probe_on_a_port_nothing_serves_is_a_warning(builtin_registry):
    def probe_elsewhere(snap):
        for obj in snap.kubernetes:
            for c in ((obj.get("spec") or {}).get("template", {}).get("spec", {}).get("containers") or
                      (obj.get("spec") or {}).get("containers") or []) if obj["kind"] in ("Pod", "Deployment",
                                                                                        "ReplicaSet") else []:
                if c.get("readinessProbe"):
                    c["readinessProbe"]["httpGet"]["port"] = 9999
        for live in snap.live["containers"].values():
            live["localhost"].pop("8081", None)

    finding, _ = _mgmt_port_report(builtin_registry, probe_elsewhere)
    assert finding.severity.value == "warning" and "9999" in finding.evidence["assessment"]
