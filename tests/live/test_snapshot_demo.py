"""`okedoctor snapshot` round-trips and redacts; `okedoctor demo` diagnoses a scenario live."""

from __future__ import annotations

import base64

from okedoctor.demo import default_scenario, scenario_files
from okedoctor.snapshot import load_snapshot
from okedoctor.ticket import OCI, keep, keep_object
from tests.conftest import SCENARIOS_DIR, scenario_paths
from tests.live.conftest import finding_keys, run_cli

POD = "app-7d9f8b6c5d-k2x8p"
SECRET_VALUE = "hunter2-db-password"


def _with_secrets():
    """healthy-nlb with a Secret the pods use, a credential in a crashing container's log and env."""
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    snap.kubernetes.append({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "db", "namespace": "default", "uid": "5e1c2d3b-0a9f-4e8d-b7c6-a5f4e3d2c1b0",
                     "resourceVersion": "1", "creationTimestamp": "2026-11-01T09:00:00Z"},
        "data": {"password": base64.b64encode(SECRET_VALUE.encode()).decode()}})
    for obj in snap.kubernetes:
        if obj["kind"] == "Pod":
            c = obj["spec"]["containers"][0]
            c["env"] = [*c.get("env", []), {"name": "DB_PASSWORD", "value": SECRET_VALUE},
                        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
        if obj["kind"] == "Pod" and obj["metadata"]["name"] == POD:
            st = obj["status"]["containerStatuses"][0]
            st["restartCount"] = 2
            st["ready"] = False
    live = snap.live["containers"][f"default/{POD}/web"]
    live["logs"] = f"connecting to postgres://app:{SECRET_VALUE}@db:5432/app\nAuthorization: Bearer abcdefghijklmnop\n"
    live["previousLogs"] = f"password={SECRET_VALUE}\n"
    return snap


def test_snapshot_round_trips_to_the_same_findings(sim_env, tmp_path):
    path = next(p for p in scenario_paths() if p.stem == "crashloop-missing-env")
    snap = load_snapshot(path)
    sim_env(snap, tmp_path / "sim")
    out = tmp_path / "snap.yaml"
    written = run_cli("snapshot", "svc/app", "-f", str(out))
    assert written.code == 0, written.stderr
    assert "wrote" in written.stderr and "oke-demo" in written.stderr
    live = run_cli("diagnose", "svc/app", "-o", "json")
    again = run_cli("diagnose", "--from", str(out), "-o", "json")
    assert again.code == live.code == 2
    assert finding_keys(again.json) == finding_keys(live.json)
    saved = load_snapshot(out)
    assert saved.context["kubeContext"] == "oke-demo"
    assert saved.context["cluster"] == snap.context["cluster"]
    assert saved.oci["networkLoadBalancers"][0]["displayName"].startswith("default/app/")  # camelCase bodies


def test_snapshot_holds_no_secret_value(sim_env, tmp_path):
    sim_env(_with_secrets(), tmp_path / "sim")
    out = tmp_path / "snap.yaml"
    assert run_cli("snapshot", "svc/app", "-f", str(out)).code == 0
    text = out.read_text()
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    assert SECRET_VALUE not in text and encoded not in text and "abcdefghijklmnop" not in text
    saved = load_snapshot(out)
    secret = next(o for o in saved.kubernetes if o["kind"] == "Secret")
    assert secret["data"] == {"password": "<redacted>"}  # the key names survive
    logs = saved.live["containers"][f"default/{POD}/web"]
    assert "postgres://app:<redacted>@db" in logs["logs"]
    assert "password=<redacted>" in logs["previousLogs"]


def test_demo_diagnoses_the_default_scenario_with_its_expected_exit_code():
    name = default_scenario(scenario_files())
    expect = load_snapshot(scenario_files()[name]).expect
    run = run_cli("demo", "-o", "json")
    want = {"ok": 0, "warning": 1, "failure": 2, "unknown": 3}[expect["verdict"]]
    assert run.code == want, run.stderr
    assert run.json["verdict"] == expect["verdict"]
    codes = {f["code"] for f in run.json["findings"]}
    assert {f["code"] for f in expect.get("findings") or []} <= codes
    assert f"scenario {name}" in run.stderr


def test_demo_list_names_every_scenario():
    run = run_cli("demo", "--list")
    assert run.code == 0
    names = [line.split()[0] for line in run.stdout.splitlines()]
    assert names == [p.stem for p in scenario_paths()]


def test_demo_unknown_scenario_is_a_usage_error():
    run = run_cli("demo", "no-such-incident")
    assert run.code == 64 and "okedoctor demo --list" in run.stderr


def test_demo_scenario_copy_is_untouched():
    # The demo must not modify the shipped files it serves.
    before = {p: p.read_bytes() for p in scenario_paths()}
    run_cli("demo", "healthy-nlb", "-o", "json")
    assert before == {p: p.read_bytes() for p in scenario_paths()}


def test_collected_bodies_are_the_api_json_unchanged(sim_env, tmp_path):
    """OCI bodies stay camelCase (not the SDK's snake_case models) and Kubernetes objects as the
    API server sent them, cut down to the fields the checks read (okedoctor/ticket.py)."""
    path = next(p for p in scenario_paths() if p.stem == "healthy-nlb")
    snap = load_snapshot(path)
    sim_env(snap, tmp_path / "sim")
    out = tmp_path / "snap.json"
    assert run_cli("snapshot", "svc/app", "-f", str(out)).code == 0
    got = load_snapshot(out)
    for section in ("networkLoadBalancers", "subnets", "securityLists", "instances", "vnicAttachments", "vnics"):
        want = {b["id"]: keep(b, OCI[section]) for b in snap.oci[section]}
        have = {b["id"]: b for b in got.oci[section]}
        assert have == want, section
        # of instance metadata only OKE's node pool OCID is kept (the fixes name the pool)
        assert all("freeformTags" not in b and set(b.get("metadata") or {}) <= {"oke-pool-id"} for b in have.values())
    assert got.oci["backendSetHealth"] == snap.oci["backendSetHealth"]
    by_key = {(o["kind"], o["metadata"]["name"]): o for o in got.kubernetes}
    for obj in snap.kubernetes:
        if obj["kind"] in ("Service", "Pod", "Node", "Endpoints", "EndpointSlice", "Deployment", "ReplicaSet"):
            assert by_key[(obj["kind"], obj["metadata"]["name"])] == keep_object(obj), obj["kind"]


def test_every_service_port_is_probed_with_the_tool_found_first(sim_env, tmp_path):
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    svc = next(o for o in snap.kubernetes if o["kind"] == "Service")
    svc["spec"]["ports"].append({"name": "admin", "protocol": "TCP", "port": 9000, "targetPort": 9090,
                                 "nodePort": 31990})
    for live in snap.live["containers"].values():
        live["tools"] = ["sh", "python3"]  # no curl, no wget: python3 is found third
        live["localhost"]["9090"] = {"error": "refused"}
    sim = sim_env(snap, tmp_path / "sim")
    out = tmp_path / "snap.yaml"
    assert run_cli("snapshot", "svc/app", "-f", str(out), "--timeout", "20").code == 0
    got = load_snapshot(out).live["containers"]
    for key in snap.live["containers"]:
        assert got[key]["localhost"]["8080"]["status"] == 200
        assert got[key]["localhost"]["9090"]["error"] == "refused"
        assert got[key]["tools"] == ["python3"] and got[key]["toolsMissing"] == ["curl", "wget"]
    execs = [r for r in sim.requests if r["path"].endswith("/exec")]
    assert len(execs) == 2 * 2  # per pod: one sh script finds python3 and probes, then python3 for the second port


def test_an_image_without_sh_gets_each_tool_alone_side_by_side(sim_env, tmp_path):
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    for live in snap.live["containers"].values():
        live["tools"] = ["python3"]  # distroless python: no sh, so no script
    sim = sim_env(snap, tmp_path / "sim")
    out = tmp_path / "snap.yaml"
    assert run_cli("snapshot", "svc/app", "-f", str(out), "--timeout", "20").code == 0
    got = load_snapshot(out).live["containers"]
    for key in snap.live["containers"]:
        assert got[key]["localhost"]["8080"]["status"] == 200
        assert got[key]["tools"] == ["python3"] and got[key]["toolsMissing"] == ["curl", "wget"]
    execs = [r for r in sim.requests if r["path"].endswith("/exec")]
    assert len(execs) == 2 * 5  # per pod: sh (missing), then curl, wget, python3 and bash at once


def test_internet_probe_speaks_tls_on_443(sim_env, tmp_path):
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    svc = next(o for o in snap.kubernetes if o["kind"] == "Service")
    svc["spec"]["ports"].append({"name": "https", "protocol": "TCP", "port": 443, "targetPort": 8080,
                                 "nodePort": 31443})
    snap.live["internet"]["203.0.113.10:443"] = {"status": 200, "body": "secure ok"}
    sim_env(snap, tmp_path / "sim")
    out = tmp_path / "snap.yaml"
    assert run_cli("snapshot", "svc/app", "-f", str(out), "--no-exec").code == 0
    internet = load_snapshot(out).live["internet"]
    assert internet["203.0.113.10:443"]["status"] == 200 and internet["203.0.113.10:443"]["tls"] is True
    assert internet["203.0.113.10:80"]["status"] == 200 and "tls" not in internet["203.0.113.10:80"]
