"""The collection plan, run against a snapshot in memory through the read seam (no socket).

What was read is asserted path by path, and the snapshot the collectors assemble must diagnose
to the report the file gives: the collectors read every fact the checks use, and nothing more.
The simulator tests (tests/live, tests/sim) prove the same over the real wire protocols.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from okedoctor.diagnose import diagnose_snapshot
from okedoctor.live.collector import collect
from okedoctor.model import Target
from okedoctor.options import LiveOptions
from okedoctor.snapshot import Snapshot, load_snapshot
from tests.collect.memory_wires import Reads, memory_wires
from tests.conftest import SCENARIOS_DIR

NLB = "/networkLoadBalancers/ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaaappnlb"
HEALTHY_NLB_READS = {
    ("kubernetes", "/api/v1/namespaces/default/services/app"),
    ("kubernetes", "/api/v1/namespaces/default/endpoints/app"),
    ("kubernetes", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"),
    ("kubernetes", "/api/v1/namespaces/default/pods"),
    ("kubernetes", "/api/v1/nodes"),
    ("kubernetes", "/api/v1/namespaces/default/events"),
    ("kubernetes", "/apis/apps/v1/namespaces/default/replicasets"),
    ("kubernetes", "/apis/apps/v1/namespaces/default/deployments"),
    ("kubernetes", "/api/v1/namespaces/default/persistentvolumeclaims"),
    ("kubernetes", "/apis/storage.k8s.io/v1/storageclasses"),
    ("kubernetes", "/api/v1/namespaces/default"),
    ("oci", "/clusters/ocid1.cluster.oc1.ap-tokyo-1.aaaaaaaademocluster"),
    ("oci", "/networkLoadBalancers"),
    ("oci", NLB),
    ("oci", NLB + "/backendSets/TCP-80/health"),
}


def kubeconfig(snap: Snapshot, path) -> str:
    """A kubeconfig naming the file's context, server and cluster (nothing connects to it)."""
    ctx = snap.context
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": ctx["kubeContext"],
           "clusters": [{"name": ctx["cluster"], "cluster": {"server": ctx["server"]}}],
           "users": [{"name": "u", "user": {"token": "t"}}],
           "contexts": [{"name": ctx["kubeContext"], "context": {"cluster": ctx["cluster"], "user": "u"}}]}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


def run(name: str, tmp_path, registry) -> tuple[dict[str, Any], dict[str, Any], Reads, dict[str, Any]]:
    """(file report, in-memory live report, the reads, the live run's stats)."""
    snap = load_snapshot(SCENARIOS_DIR / f"{name}.yaml")
    target = Target(snap.target.get("namespace") or "default", snap.target["service"])
    reads = Reads()
    opts = LiveOptions(kubeconfig=kubeconfig(snap, tmp_path / "kubeconfig"), namespace=target.namespace,
                       lb_ocid=snap.target.get("lbOcid"), timeout=30)
    result = collect(target, opts, wires=memory_wires(snap, reads))
    live = diagnose_snapshot(result.snapshot, result.target, registry).to_dict()
    want = diagnose_snapshot(snap, target, registry).to_dict()
    return comparable(want), comparable(live), reads, result.stats


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    report.pop("stats", None)
    text = json.dumps(report, sort_keys=True)
    return json.loads(text, object_hook=lambda d: {k: v for k, v in d.items() if k != "elapsedMs"})


def test_healthy_nlb_reads_what_the_plan_says_and_diagnoses_as_the_file(tmp_path, builtin_registry):
    want, got, reads, stats = run("healthy-nlb", tmp_path, builtin_registry)
    assert got == want
    plain = {r for r in reads.paths if r[0] not in ("exec", "internet")}
    workers = {r for r in plain if r[1].startswith(("/instances", "/vnic", "/subnets", "/securityLists",
                                                     "/networkSecurityGroups", "/routeTables"))}
    assert plain - workers == HEALTHY_NLB_READS
    assert {p.split("/")[1] for _, p in workers} == {"instances", "vnicAttachments", "vnics", "subnets",
                                                      "securityLists", "routeTables"}
    assert {api for api, _ in reads.paths} == {"kubernetes", "exec", "oci", "internet"}
    # Every read is counted, and none but the execs (one per tool and port) is made twice.
    assert sum(stats["api_requests"].values()) == len(reads.seen)
    once = [r for r in reads.seen if r[0] != "exec"]
    assert len(once) == len(set(once))


@pytest.mark.parametrize("name", ["missing-nodeport-rule", "no-oci-config", "node-pool-other-compartment",
                                  "etp-local-stale-health-checker"])
def test_other_plans_diagnose_as_the_file(name, tmp_path, builtin_registry):
    want, got, _, _ = run(name, tmp_path, builtin_registry)
    assert got == want


def test_failing_init_container_logs_are_read_and_never_exec_probed(tmp_path, builtin_registry):
    want, got, reads, _ = run("init-chown-root-squash", tmp_path, builtin_registry)
    assert got == want
    init_logs = [(path, dict(json.loads(q))) for api, path, q in reads.seen
                 if api == "kubernetes" and path.endswith("/log") and "fix-permissions" in q]
    assert {(p.split("/")[-2], q.get("previous") in (True, "true")) for p, q in init_logs} == {
        (pod, prev) for pod in ("app-7d9f8b6c5d-k2x8p", "app-7d9f8b6c5d-q7w4n") for prev in (False, True)}
    assert not [r for r in reads.seen if r[0] == "exec"]  # pods waiting on an init container: nothing to exec


def test_bound_volumes_are_read_by_name_and_diagnose_as_the_file(tmp_path, builtin_registry):
    want, got, reads, _ = run("volume-other-ad", tmp_path, builtin_registry)
    assert got == want
    assert ("kubernetes", "/api/v1/persistentvolumes/csi-5d2e8f61-0b7a-4c3e-9a15-2f6b8c4d7e90") in reads.paths
    assert any(f["code"] == "OKD-POD-025" for f in got["findings"])


def test_a_claim_naming_a_missing_class_brings_every_class_and_diagnoses_as_the_file(tmp_path, builtin_registry):
    want, got, _, _ = run("storage-class-missing", tmp_path, builtin_registry)
    assert got == want
    [f] = [f for f in got["findings"] if f["code"] == "OKD-POD-026"]
    assert f["evidence"]["existingClasses"] == {"oci": "oracle.com/oci", "oci-fss": "fss.csi.oraclecloud.com"}


SERVICE_SCENARIOS = sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml")
                           if "url" not in (load_snapshot(p).target or {}))


@pytest.mark.parametrize("name", SERVICE_SCENARIOS)
def test_every_service_diagnosis_chains_at_most_five_dependent_requests(name, tmp_path, builtin_registry):
    """Issue #15: at 50 ms a request, five round trips are a quarter of a second. The in-pod probe
    finds its tool and answers in one exec, so a refused port's log and the ports it names fit too."""
    _, _, _, stats = run(name, tmp_path, builtin_registry)
    assert stats["longest_chain"] <= 5
