"""Init containers (OKD-POD-024): a pod held in Init:* is explained by its init container, and named as the
reason the Service has no ready endpoint."""

from __future__ import annotations

import copy
import json

from okedoctor_checks.pod.endpoints_not_ready import EndpointsNotReady
from okedoctor_checks.pod.init_container_failing import InitContainerFailing

from okedoctor.chain.causes import INIT_FAILING, not_ready_cause
from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.facts import Facts
from okedoctor.model import Severity
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR

CHOWN = load_snapshot(SCENARIOS_DIR / "init-chown-root-squash.yaml")


def snap():
    return copy.deepcopy(CHOWN)


def pods(s):
    return [o for o in s.kubernetes if o["kind"] == "Pod"]


def run(s):
    return list(InitContainerFailing().run(Facts(s)))


def test_chown_refused_on_file_storage_is_explained_with_the_options():
    [f] = run(snap())
    assert f.severity is Severity.ERROR
    assert f.evidence["initContainer"] == "fix-permissions" and f.evidence["lastExitCode"] == 1
    assert f.evidence["restartCount"] == 9 and f.evidence["state"] == "CrashLoopBackOff"
    assert f.evidence["logTail"] == ["chown: changing ownership of '/data/uploads': Operation not permitted"]
    assert f.evidence["volume"]["provisioner"] == "fss.csi.oraclecloud.com" and f.evidence["volume"]["fileStorage"]
    assert "root squash" in f.title
    cmds = "\n".join(f.fix.commands)
    assert "logs app-7d9f8b6c5d-k2x8p -c fix-permissions --previous" in cmds
    assert 'oci fs export update --export-id "$EXPORT_ID"' in cmds and '"identitySquash": "NONE"' in cmds
    assert "fsGroup: 1000" in f.fix.patch


def test_one_finding_for_two_replicas_and_the_pod_cause_names_it():
    s = snap()
    facts = Facts(s)
    assert [not_ready_cause(facts, p) for p in facts.pods] == [INIT_FAILING, INIT_FAILING]
    [ep] = list(EndpointsNotReady().run(facts))
    assert ep.caused_by == INIT_FAILING and ep.evidence["explainedBy"] == INIT_FAILING


def test_report_ties_the_missing_endpoints_and_the_internet_symptom_to_the_init_container(builtin_registry):
    report = diagnose_snapshot(CHOWN, resolve_target(CHOWN, None, None, None), builtin_registry)
    by_code = {f.code: f for f in report.findings}
    assert by_code["OKD-POD-024"].root_cause
    assert not by_code["OKD-POD-002"].root_cause and by_code["OKD-POD-002"].caused_by == INIT_FAILING
    assert by_code["OKD-INET-001"].caused_by == INIT_FAILING


def test_init_log_quotes_are_redacted():
    s = snap()
    for key in [k for k in s.live["containers"] if k.endswith("/fix-permissions")]:
        s.live["containers"][key]["previousLogs"] = (
            "fetching postgres://app:hunter2pw@db:5432/app\nDB_PASSWORD=hunter2pw\nexit 1\n")
    [f] = run(s)
    assert "hunter2pw" not in json.dumps(f.to_dict())


def test_init_container_that_finished_or_a_ready_pod_is_not_reported():
    s = snap()
    for pod in pods(s):
        st = pod["status"]["initContainerStatuses"][0]
        st.update(state={"terminated": {"exitCode": 0, "reason": "Completed"}}, lastState={})
    assert run(s) == []
    assert all(not_ready_cause(Facts(s), p) != INIT_FAILING for p in pods(s))


def test_stuck_init_container_is_reported_as_not_finished():
    s = snap()
    for pod in pods(s):
        st = pod["status"]["initContainerStatuses"][0]
        st.update(restartCount=0, state={"running": {"startedAt": "2026-11-20T03:00:05Z"}}, lastState={})
    for key in [k for k in s.live["containers"] if k.endswith("/fix-permissions")]:
        s.live["containers"][key] = {"logs": "waiting for db:5432...\n"}
    [f] = run(s)
    assert "has not finished" in f.title and f.evidence["runningSince"] == "2026-11-20T03:00:05Z"
    assert "logs app-7d9f8b6c5d-k2x8p -c fix-permissions" in "\n".join(f.fix.commands)


def test_native_sidecar_init_container_is_left_out():
    s = snap()
    for pod in pods(s):
        pod["spec"]["initContainers"][0]["restartPolicy"] = "Always"
    assert run(s) == []


def test_a_pod_being_deleted_is_neither_reported_nor_named_as_cause():
    s = snap()
    for pod in pods(s):
        pod["metadata"]["deletionTimestamp"] = "2026-11-20T03:12:00Z"
    assert run(s) == []
    assert all(not_ready_cause(Facts(s), p) != INIT_FAILING for p in pods(s))


def test_an_init_container_whose_image_cannot_be_pulled_is_the_image_pull_root_cause(builtin_registry):
    s = snap()
    for pod in pods(s):
        for st in pod["status"]["initContainerStatuses"]:
            st.update(state={"waiting": {"reason": "ImagePullBackOff",
                                         "message": 'Back-off pulling image "busybox:1.36-nope"'}},
                      lastState={}, restartCount=0)
    report = diagnose_snapshot(s, resolve_target(s, None, None, "x"), builtin_registry)
    roots = [f for f in report.root_causes if f.hop.value == "pod"]
    assert [f.code for f in roots] == ["OKD-POD-007"]
    assert any(f.code == "OKD-POD-002" and f.caused_by == "OKD-POD-007" for f in report.findings)
    assert not [f for f in report.findings if f.code == "OKD-POD-024"]
