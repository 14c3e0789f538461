"""`report --state` from files: a finding is resolved only when this run verified it gone."""

from __future__ import annotations

import json

import jsonschema
import yaml

from tests.fleet.test_report_offline import SCHEMA_DIR, _schema_registry, checks_dir, fleet_file, run  # noqa: F401


def _json(argv, capsys):
    code, out, err = run([*argv, "-o", "json"], capsys)
    doc = json.loads(out)
    schema = json.loads((SCHEMA_DIR / "fleet-v1.json").read_text())
    jsonschema.Draft202012Validator(schema, registry=_schema_registry()).validate(doc)
    return code, doc, err


def _retype(path, name: str, svc_type: str):
    doc = yaml.safe_load(path.read_text())
    svc = next(o for o in doc["kubernetes"] if o["kind"] == "Service" and o["metadata"]["name"] == name)
    svc["spec"]["type"] = svc_type
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_check_that_did_not_run_leaves_its_finding_unverified(tmp_path, checks_dir, capsys):  # noqa: F811
    state = tmp_path / "s.json"
    broken = str(fleet_file(tmp_path, {"app1"}))
    run(["report", "--from", broken, "--state", str(state), "--checks-dir", checks_dir], capsys)
    # The plugin is not loaded this time: its check ran on nothing, so it verified nothing.
    code, doc, _ = _json(["report", "--from", broken, "--state", str(state)], capsys)
    assert doc["changes"]["resolved"] == {}
    (entry,) = doc["changes"]["unverified"]["default/app1"]
    assert entry["code"] == "TEST-POD-200" and entry["why"] == "check-not-run"
    # Loaded again, still broken: persisting, not new.
    code, doc, _ = _json(["report", "--from", broken, "--state", str(state), "--checks-dir", checks_dir], capsys)
    assert doc["changes"]["new"] == {} and doc["changes"]["persisting"] == {
        "default/app1": ["TEST-POD-200:service/default/app1"]}
    # Fixed and checked: now it is resolved.
    fixed = str(fleet_file(tmp_path, set()))
    code, doc, _ = _json(["report", "--from", fixed, "--state", str(state), "--checks-dir", checks_dir], capsys)
    assert [e["code"] for e in doc["changes"]["resolved"]["default/app1"]] == ["TEST-POD-200"]
    assert doc["changes"]["unverified"] == {}


def test_a_nodeport_service_not_covered_is_unverified_and_one_no_longer_exposed_is_resolved(
        tmp_path, checks_dir, capsys):  # noqa: F811
    state = tmp_path / "s.json"
    path = _retype(fleet_file(tmp_path, {"app1"}), "app1", "NodePort")
    run(["report", "--from", str(path), "--include-nodeport", "--state", str(state), "--checks-dir", checks_dir],
        capsys)
    _, doc, _ = _json(["report", "--from", str(path), "--state", str(state), "--checks-dir", checks_dir], capsys)
    assert doc["changes"]["resolved"] == {}
    assert [e["why"] for e in doc["changes"]["unverified"]["default/app1"]] == ["not-covered"]
    _retype(path, "app1", "ClusterIP")
    code, out, _ = run(["report", "--from", str(path), "--state", str(state), "--checks-dir", checks_dir], capsys)
    assert "RESOLVED  default/app1  TEST-POD-200 labelled broken (Service no longer exposed (type ClusterIP))" in out


def test_a_state_file_of_the_previous_format_is_read_and_keeps_first_seen(tmp_path, checks_dir, capsys):  # noqa: F811
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"version": 1, "lastRun": "2026-11-30T00:00:00+00:00", "verdict": "failure",
                                 "services": {"default/app1": {"TEST-POD-200:service/default/app1": {
                                     "code": "TEST-POD-200", "severity": "error", "hop": "pod",
                                     "title": "labelled broken", "subject": "service/default/app1",
                                     "firstSeen": "2026-11-29T00:00:00+00:00"}}, "default/app0": {}}}))
    broken = str(fleet_file(tmp_path, {"app1"}))
    _, doc, _ = _json(["report", "--from", broken, "--state", str(state)], capsys)
    (entry,) = doc["changes"]["unverified"]["default/app1"]
    assert entry["lastSeen"] == "2026-11-30T00:00:00+00:00" and entry["firstSeen"] == "2026-11-29T00:00:00+00:00"
    saved = json.loads(state.read_text())["services"]["default/app1"]["TEST-POD-200:service/default/app1"]
    assert saved["firstSeen"] == "2026-11-29T00:00:00+00:00"
    run(["report", "--from", broken, "--state", str(state), "--checks-dir", checks_dir], capsys)
    saved = json.loads(state.read_text())["services"]["default/app1"]["TEST-POD-200:service/default/app1"]
    assert saved["firstSeen"] == "2026-11-29T00:00:00+00:00" and saved["check"] == "test-broken-label"


def test_prometheus_counts_unverified_findings_only_with_state(tmp_path, checks_dir, capsys):  # noqa: F811
    state, prom = tmp_path / "s.json", tmp_path / "o.prom"
    broken = str(fleet_file(tmp_path, {"app1", "app2"}))
    run(["report", "--from", broken, "--state", str(state), "--checks-dir", checks_dir], capsys)
    run(["report", "--from", broken, "--state", str(state), "--prometheus-file", str(prom)], capsys)
    assert 'okedoctor_unverified_findings{severity="error",hop="pod",why="check-not-run"} 2' in prom.read_text()
    run(["report", "--from", broken, "--prometheus-file", str(prom)], capsys)
    assert "okedoctor_unverified_findings" not in prom.read_text()


def test_from_a_file_a_missing_namespace_is_a_usage_error(tmp_path, capsys):
    code, out, err = run(["report", "--from", str(fleet_file(tmp_path, set())), "-n", "nosuchns"], capsys)
    assert code == 64 and out == ""
    assert err.strip().splitlines() == [f"okedoctor: namespace nosuchns not found in {tmp_path / 'fleet.yaml'}; "
                                        "namespaces: default"]


def test_from_a_file_with_no_exposed_service(tmp_path, capsys):
    path = _retype(fleet_file(tmp_path, set(), n=0), "app", "ClusterIP")
    code, doc, _ = _json(["report", "--from", str(path)], capsys)
    assert code == 0 and doc["verdict"] == "ok" and doc["services"] == []
    assert doc["nothingToCheck"] == ("no Service of type LoadBalancer in any namespace "
                                     "(1 Service of other types: 1 ClusterIP)")
    code, out, _ = run(["report", "--from", str(path), "-o", "markdown"], capsys)
    assert code == 0 and "No Service of type LoadBalancer in any namespace" in out


def test_the_service_table_shows_what_is_unverified(tmp_path, checks_dir, capsys):  # noqa: F811
    state = tmp_path / "s.json"
    broken = str(fleet_file(tmp_path, {"app1"}))
    run(["report", "--from", broken, "--state", str(state), "--checks-dir", checks_dir], capsys)
    code, out, _ = run(["report", "--from", broken, "--state", str(state)], capsys)
    header = next(line for line in out.splitlines() if "SERVICE" in line)
    assert "UNVERIFIED" in header
    row = next(line for line in out.splitlines() if "default/app1" in line and "RESOLVED" not in line)
    assert "TEST-POD-200" in row and "RESOLVED" not in out
    code, out, _ = run(["report", "--from", broken, "--state", str(state), "-o", "markdown"], capsys)
    assert "| service | verdict | hop | root cause | unverified |" in out
    assert any(line.startswith("| `default/app1` |") and line.endswith("| TEST-POD-200 |") for line in out.splitlines())


def test_a_state_file_with_malformed_services_is_a_usage_error(tmp_path, capsys):
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"version": 1, "services": {"default/app1": ["TEST-POD-200"]}}))
    code, _, err = run(["report", "--from", str(fleet_file(tmp_path, set())), "--state", str(state)], capsys)
    assert code == 64 and "malformed" in err and len(err.strip().splitlines()) == 1
