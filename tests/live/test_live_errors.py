"""Bad input and failing APIs: a one-line error or a skipped entry with what would allow it."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import yaml

from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli


def healthy():
    return load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")


def _one_line_error(run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert lines[0].startswith("okedoctor: ")
    return lines[0]


def test_unknown_context_names_the_contexts_there_are(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim")
    run = run_cli("diagnose", "svc/app", "--context", "oke-prod")
    assert run.code == 64
    line = _one_line_error(run)
    assert "'oke-prod'" in line and "oke-demo" in line


def test_expect_context_refuses_another_context(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    run = run_cli("diagnose", "svc/app", "--expect-context", "oke-prod")
    assert run.code == 64
    assert "oke-demo" in _one_line_error(run)
    assert sim.requests == []  # refused before a single request


def test_missing_service_names_context_cluster_and_other_contexts(sim_env, tmp_path, monkeypatch):
    sim = sim_env(healthy(), tmp_path / "sim")
    # A second context in the kubeconfig: the user may simply be pointed at the wrong cluster.
    cfg = yaml.safe_load(Path(sim.env["KUBECONFIG"]).read_text())
    cfg["contexts"].append({"name": "oke-prod", "context": dict(cfg["contexts"][0]["context"])})
    path = tmp_path / "kubeconfig-two"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("KUBECONFIG", str(path))
    run = run_cli("diagnose", "svc/web")
    assert run.code == 64
    line = _one_line_error(run)
    assert "default/web" in line and "'oke-demo'" in line
    assert "ocid1.cluster.oc1.ap-tokyo-1.aaaaaaaademocluster" in line
    assert "oke-prod" in line


def test_unreachable_api_server_is_one_line_exit_3(tmp_path, monkeypatch):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}",
                                               "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "gone", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("OCI_CLI_CONFIG_FILE", str(tmp_path / "no-oci-config"))
    run = run_cli("diagnose", "svc/app", "--timeout", "10")
    assert run.code == 3
    line = _one_line_error(run)
    assert f"127.0.0.1:{port}" in line and "'gone'" in line


def test_missing_kubeconfig_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nothing-here"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    run = run_cli("diagnose", "svc/app")
    assert run.code == 64
    assert "--kubeconfig" in _one_line_error(run)


def test_oci_denied_skips_the_oci_checks_with_the_iam_statement(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim", faults=[{"api": "oci", "path": ".*", "status": 404}])
    run = run_cli("diagnose", "svc/app", "-o", "json")
    assert run.code == 3, run.stderr
    assert "Traceback" not in run.stderr
    report = run.json
    assert report["verdict"] == "unknown"
    # Only cluster-hop findings (the context; the access-denied summary): no guess about the chain.
    assert {f["hop"] for f in report["findings"]} <= {"cluster"}
    denied = [s for s in report["skipped"] if s["kind"] == "denied"]
    assert denied, report["skipped"]
    assert all("Allow group <your-group> to read" in s["reason"] for s in denied)
    assert any("network-load-balancers" in s["reason"] for s in denied)
    assert all(r["method"] == "GET" for r in sim.requests if r["api"] == "oci")


def test_exec_forbidden_skips_the_probe_with_the_rbac_rule(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim", faults=[{"api": "kubernetes", "path": "/exec$", "status": 403}])
    run = run_cli("diagnose", "svc/app", "-o", "json")
    assert run.code == 3, run.stderr
    denied = [s for s in run.json["skipped"] if s["kind"] == "denied"]
    assert denied
    assert all("pods/exec" in s["reason"] and "create" in s["reason"] for s in denied)


def test_no_oci_config_leaves_the_lb_hop_unknown_and_says_why_once(sim_env, tmp_path, monkeypatch):
    sim = sim_env(healthy(), tmp_path / "sim")
    monkeypatch.delenv("OCI_CLI_CONFIG_FILE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.oci/config either
    run = run_cli("diagnose", "svc/app", "-o", "json")
    # Nothing read the load balancer or the security rules: that is not a green chain.
    assert run.code == 3, run.stderr
    assert run.json["hops"]["loadbalancer"] == "unknown" and run.json["hops"]["nodeport"] == "unknown"
    assert "oci setup config" in run.json["hopReasons"]["loadbalancer"]
    assert not [r for r in sim.requests if r["api"] == "oci"]
    disabled = [s for s in run.json["skipped"] if s["kind"] == "disabled"]
    assert disabled and all("oci setup config" in s["reason"] for s in disabled)
    (gap,) = [g for g in run.json["gaps"] if g["kind"] == "disabled"]
    assert len(gap["checks"]) == len(disabled)
    text = run_cli("diagnose", "svc/app")
    assert text.stdout.count("oci setup config") == 1, text.stdout


def test_deadline_cuts_slow_reads_and_diagnoses_the_rest(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim", faults=[{"api": "oci", "path": ".*", "delay_ms": 8000}])
    started = time.perf_counter()
    run = run_cli("diagnose", "svc/app", "-o", "json", "--timeout", "3")
    assert time.perf_counter() - started < 7
    assert run.code == 3, run.stderr
    gaps = [s for s in run.json["skipped"] if s["kind"] == "unavailable"]
    assert gaps and any("--timeout" in s["reason"] for s in gaps)
    assert "Traceback" not in run.stderr


def test_rejected_credentials_are_one_line(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim", faults=[{"api": "kubernetes", "path": ".*", "status": 401}])
    run = run_cli("diagnose", "svc/app")
    assert run.code == 3
    assert "401" in _one_line_error(run) and "generate-token" in run.stderr


def test_a_silent_exec_does_not_hold_the_process_past_the_deadline(sim_env, tmp_path):
    import os
    import subprocess
    import sys

    sim = sim_env(healthy(), tmp_path / "sim", faults=[{"api": "kubernetes", "path": "/exec$", "delay_ms": 30000}])
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "okedoctor", "diagnose", "svc/app", "--timeout", "3", "-o", "json"],
                          env={**os.environ, **sim.env}, capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - started < 12, "the process outlived its deadline"
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr


def test_compartment_from_the_instances_when_nodes_are_not_annotated(sim_env, tmp_path):
    snap = healthy()
    for obj in snap.kubernetes:
        if obj["kind"] == "Node":
            obj["metadata"]["annotations"].pop("oci.oraclecloud.com/compartment-id")
    sim = sim_env(snap, tmp_path / "sim")
    run = run_cli("diagnose", "svc/app", "-o", "json")
    assert run.code == 0, run.stderr
    assert run.json["context"]["compartmentId"] == snap.context["compartmentId"]
    oci = [r["path"] for r in sim.requests if r["api"] == "oci"]
    assert any(p.startswith("/20160918/instances/") for p in oci)
    assert oci.count("/20200501/networkLoadBalancers") == 1  # found by the CCM's name
    assert len([p for p in oci if p.startswith("/20160918/instances/")]) == 2  # each instance read once


def test_a_failing_detail_read_does_not_hide_the_rest(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim", faults=[{"api": "kubernetes", "path": "/storageclasses$", "status": 503}])
    run = run_cli("diagnose", "svc/app", "-o", "json")
    # StorageClasses are detail: the chain is still walked and every hop judged ...
    assert set(run.json["hops"].values()) == {"ok"}, run.stderr
    # ... but the run cannot vouch for what it did not read (issue #13 item 5: it said ok).
    assert run.code == 3 and run.json["verdict"] == "unknown"
    assert [g["checks"] for g in run.json["gaps"]] == [["read of kubernetes.storageclasses"]]
    assert "503" in run.json["gaps"][0]["reason"]
