"""`.okedoctor.yaml` / `--config` / `--exclude` / `--disable`, as an on-call user meets them:
silenced findings leave the verdict but stay counted, expired silences show again, mistakes
are one line and exit 64."""

from __future__ import annotations

import json

import pytest
import yaml

from okedoctor.config import load_policy
from tests.conftest import ROOT, SCENARIOS_DIR
from tests.conftest import run_main as run
from tests.fleet.test_report_offline import checks_dir, fleet_file  # noqa: F401 - a fixture

STALE = str(SCENARIOS_DIR / "stale-healthcheck-port.yaml")
# OKD-LB-009 is its root cause; OKD-LB-006, OKD-LB-011 and OKD-INET-001 follow from it.


def config(tmp_path, doc) -> str:
    path = tmp_path / "okedoctor.yaml"
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return str(path)


def diagnose_json(argv, capsys):
    code, out, _ = run(["diagnose", "--from", STALE, "-o", "json", *argv], capsys)
    return code, json.loads(out)


def test_a_silence_takes_the_finding_out_of_the_verdict_but_lists_it(tmp_path, capsys):
    cfg = config(tmp_path, {"silences": [
        {"code": "OKD-LB-009", "reason": "hand-made NLB, CHG-1234", "expires": "2999-12-31"}]})
    code, doc = diagnose_json(["--config", cfg], capsys)
    assert "OKD-LB-009" not in [f["code"] for f in doc["findings"]]
    assert doc["silenced"] == [{
        "code": "OKD-LB-009", "check": "health-check-port-not-served", "hop": "loadbalancer", "severity": "error",
        "title": doc["silenced"][0]["title"], "subject": doc["silenced"][0]["subject"],
        "reason": "hand-made NLB, CHG-1234", "source": f"{cfg} silences[0]", "expires": "2999-12-31"}]
    # The backends are still Critical: silencing one finding does not hide the others.
    assert code == 2 and "OKD-LB-011" in [f["code"] for f in doc["findings"] if f["rootCause"]]
    code, out, _ = run(["diagnose", "--from", STALE, "--config", cfg], capsys)
    assert "Silenced: 1 finding(s)" in out and "OKD-LB-009 x1: hand-made NLB, CHG-1234" in out
    assert "until 2999-12-31" in out


def test_an_expired_silence_shows_the_finding_again_and_says_so(tmp_path, capsys):
    cfg = config(tmp_path, {"silences": [{"code": "OKD-LB-009", "reason": "old ticket", "expires": "2001-02-03"}]})
    code, doc = diagnose_json(["--config", cfg], capsys)
    root = next(f for f in doc["findings"] if f["code"] == "OKD-LB-009")
    assert code == 2 and doc["silenced"] == [] and root["rootCause"]
    assert root["silenceExpired"] == {"reason": "old ticket", "source": f"{cfg} silences[0]", "expires": "2001-02-03"}
    _, out, _ = run(["diagnose", "--from", STALE, "--config", cfg], capsys)
    assert "shown again: the silence in" in out and "expired on 2001-02-03 (old ticket)" in out


def test_silencing_every_error_turns_the_verdict_and_exit_code(capsys):
    code, doc = diagnose_json(["--exclude", "OKD-LB-*", "--exclude", "okd-inet-001"], capsys)
    assert code == 0 and doc["verdict"] == "ok"
    assert sorted(s["code"] for s in doc["silenced"]) == ["OKD-INET-001", "OKD-LB-006", "OKD-LB-009", "OKD-LB-011"]
    assert {s["source"] for s in doc["silenced"]} == {"--exclude"}


def test_an_override_changes_the_severity(tmp_path, capsys):
    cfg = config(tmp_path, {"overrides": [{"check": "health-check-port-not-served", "severity": "warning"}]})
    _, doc = diagnose_json(["--config", cfg], capsys)
    assert next(f for f in doc["findings"] if f["code"] == "OKD-LB-009")["severity"] == "warning"


def test_disable_does_not_run_the_check_and_says_so(capsys):
    code, doc = diagnose_json(["--disable", "health-check-port-not-served"], capsys)
    assert "OKD-LB-009" not in [f["code"] for f in doc["findings"]]
    assert doc["disabledChecks"] == ["OKD-LB-009"] and code == 2
    _, out, _ = run(["diagnose", "--from", STALE, "--disable", "OKD-LB-009"], capsys)
    assert "not run (--disable / config): OKD-LB-009" in out


def test_dot_okedoctor_yaml_in_the_working_directory_is_read(tmp_path, monkeypatch, capsys):
    (tmp_path / ".okedoctor.yaml").write_text("silences:\n  - {code: OKD-INET-001, reason: probe from office}\n")
    monkeypatch.chdir(tmp_path)
    _, doc = diagnose_json([], capsys)
    assert [s["code"] for s in doc["silenced"]] == ["OKD-INET-001"]
    assert doc["silenced"][0]["source"] == ".okedoctor.yaml silences[0]"


def test_scope_keys_must_all_match(tmp_path, capsys):
    other_ns = config(tmp_path, {"silences": [{"code": "OKD-LB-009", "namespace": "batch", "reason": "r"}]})
    _, doc = diagnose_json(["--config", other_ns], capsys)
    assert doc["silenced"] == []
    obj = config(tmp_path, {"silences": [{"object": "address/203.0.113.10:*", "service": "app", "reason": "r"}]})
    _, doc = diagnose_json(["--config", obj], capsys)
    assert [s["code"] for s in doc["silenced"]] == ["OKD-INET-001"]


def test_a_label_selector_silences_only_the_services_it_selects(tmp_path, checks_dir, capsys):  # noqa: F811
    fleet = fleet_file(tmp_path, {"app1", "app2"})
    doc = yaml.safe_load(fleet.read_text())
    svc = next(o for o in doc["kubernetes"] if o["kind"] == "Service" and o["metadata"]["name"] == "app2")
    svc["metadata"]["labels"]["team"] = "batch"
    fleet.write_text(yaml.safe_dump(doc))
    cfg = config(tmp_path, {"silences": [{"selector": "team=batch,broken", "reason": "batch owns it"}]})
    prom = tmp_path / "okedoctor.prom"
    code, out, _ = run(["report", "--from", str(fleet), "--checks-dir", checks_dir, "--config", cfg, "-o", "json",
                        "--prometheus-file", str(prom)], capsys)
    verdicts = {s["target"]["service"]: s["verdict"] for s in json.loads(out)["services"]}
    assert verdicts["app1"] == "failure" and verdicts["app2"] == "ok"
    assert json.loads(out)["silencedFindings"] == 1
    assert 'okedoctor_silenced_findings{namespace="default",service="app2",code="TEST-POD-200"} 1' in prom.read_text()
    code, out, _ = run(["report", "--from", str(fleet), "--checks-dir", checks_dir, "--config", cfg], capsys)
    assert "1 finding(s) silenced" in out.splitlines()[-1]


def test_a_finding_silenced_after_it_was_seen_is_not_announced_resolved(tmp_path, checks_dir, capsys):  # noqa: F811
    fleet, state = fleet_file(tmp_path, {"app1"}), tmp_path / "state.json"
    base = ["report", "--from", str(fleet), "--checks-dir", checks_dir, "--state", str(state), "-o", "json"]
    run(base, capsys)
    _, out, _ = run([*base, "--exclude", "TEST-POD-200"], capsys)
    changes = json.loads(out)["changes"]
    assert changes["resolved"] == {} and changes["new"] == {}
    _, out, _ = run(base, capsys)  # the silence lifted: the finding was never gone, so it is not new
    assert json.loads(out)["changes"]["new"] == {}


@pytest.mark.parametrize("content, message", [
    ("silence: []", "unknown key 'silence' (known: silences, overrides, disable)"),
    ("silences: [{cod: OKD-LB-009, reason: r}]", "silences[0]: unknown key 'cod'"),
    ("silences: [{code: OKD-LB-999, reason: r}]", "no check with code 'OKD-LB-999'"),
    ("silences: [{check: no-such-check, reason: r}]", "no check named 'no-such-check'"),
    ("silences: [{code: OKD-LB-009}]", "a silence needs a reason"),
    ("silences: [{reason: everything}]", "says nothing to match"),
    ("silences: [{code: OKD-LB-009, reason: r, expires: soon}]", "expires 'soon' is not a date"),
    ("silences: [{selector: 'a in (b)', reason: r}]", "selector cannot parse 'a in (b)'"),
    ("overrides: [{code: OKD-LB-009, severity: fatal}]", "severity must be one of error, warning, info"),
    ("disable: [nope]", "disable: no check 'nope'"),
    ("silences: {code: X}", "silences must be a list"),
    ("- a list", "expected a map"),
    ("silences: [", "malformed YAML"),
])
def test_a_bad_config_file_is_one_line_and_exit_64(tmp_path, content, message, capsys):
    code, out, err = run(["diagnose", "--from", STALE, "--config", config(tmp_path, content)], capsys)
    assert code == 64 and out == "" and message in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["--exclude", "OKD-NOPE-001"], "--exclude: no check with code 'OKD-NOPE-001'"),
    (["--disable", "nope"], "--disable: no check 'nope'"),
    (["--config", "/nonexistent/okedoctor.yaml"], "config file not found: /nonexistent/okedoctor.yaml"),
])
def test_bad_flags_are_one_line_and_exit_64(argv, message, capsys):
    code, _, err = run(["diagnose", "--from", STALE, *argv], capsys)
    assert code == 64 and message in err and err.count("\n") == 1


def test_the_cronjobs_configmap_holds_a_valid_config_and_example(tmp_path, builtin_registry):
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "cronjob.yaml").read_text()))
    cm = next(d for d in docs if d and d["kind"] == "ConfigMap")
    cron = next(d for d in docs if d and d["kind"] == "CronJob")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "config")
    assert env["OKEDOCTOR_CONFIG"] == f"{mount['mountPath']}/config.yaml"
    assert next(v for v in pod["volumes"] if v["name"] == "config")["configMap"]["name"] == cm["metadata"]["name"]
    path = tmp_path / "config.yaml"
    path.write_text(cm["data"]["config.yaml"])
    assert load_policy(str(path), builtin_registry).empty
    path.write_text(cm["data"]["config.yaml"].replace("#", ""))  # the commented example, switched on
    policy = load_policy(str(path), builtin_registry)
    assert len(policy.silences) == 1 and len(policy.overrides) == 1


def test_markdown_for_the_ticket_lists_what_was_silenced(tmp_path, capsys):
    silence = {"code": "OKD-INET-001", "reason": "probe from office", "expires": "2999-01-02"}
    cfg = config(tmp_path, {"silences": [silence], "disable": ["OKD-POD-022"]})
    _, out, _ = run(["diagnose", "--from", STALE, "--config", cfg, "-o", "markdown"], capsys)
    section = out.split("## Silenced", 1)[1]
    assert "- `OKD-INET-001` 203.0.113.10:80 timed out" in section and "probe from office" in section
    assert "until 2999-01-02" in section and "- not run: `OKD-POD-022`" in section
