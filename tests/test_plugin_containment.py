"""A `--checks-dir` plugin cannot end, hang, corrupt or skew the run (issue #13 item 7)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from okedoctor.registry import PLUGIN_TIMEOUT_ENV
from tests.conftest import ROOT, SCENARIOS_DIR
from tests.conftest import run_main as run

HEALTHY = str(SCENARIOS_DIR / "healthy-nlb.yaml")
BROKEN = str(SCENARIOS_DIR / "app-binds-loopback.yaml")


def plugin(tmp_path, body, *, code="TEST-POD-100", top=""):
    """A plugin directory with one check whose `run` is BODY."""
    (tmp_path / "plugin.py").write_text(textwrap.dedent('''
        import os, sys, time
        from okedoctor.check import Check
        from okedoctor.model import Fix, Hop, Severity
        {top}

        class C(Check):
            """Test check.

            What it checks
                x
            Why it breaks
                x
            How to fix
                x
            """
            code = "{code}"
            name = "plugin-check"
            hop = Hop.POD
            severity = Severity.WARNING

            def run(self, facts):
                {body}
    ''').format(top=top, code=code, body=body))
    return str(tmp_path)


def diagnose_json(capsys, *argv):
    code, out, err = run(["diagnose", *argv, "-o", "json"], capsys)
    return code, json.loads(out), err


def plugin_skip(doc):
    (skip,) = [s for s in doc["skipped"] if s["check"] == "plugin-check"]
    return skip["reason"]


def test_sys_exit_in_a_check_is_a_failed_check_not_the_end_of_the_run(tmp_path, capsys):
    code, doc, _ = diagnose_json(capsys, "--from", BROKEN, "--checks-dir", plugin(tmp_path, "sys.exit(0)"))
    assert code == 2 and doc["verdict"] == "failure"  # an error found outranks the unknown plugin
    assert plugin_skip(doc) == "check called sys.exit(0)"
    assert doc["hops"]["pod"] == "error"  # the diagnosis itself still ran


def test_sys_exit_when_the_plugin_is_imported_is_a_load_error(tmp_path, capsys):
    d = plugin(tmp_path, "return []", top="sys.exit(0)")
    code, doc, _ = diagnose_json(capsys, "--from", HEALTHY, "--checks-dir", d)
    assert code == 3 and any("plugin failed to load: SystemExit" in s["reason"] for s in doc["skipped"])


def test_print_in_a_check_does_not_corrupt_json_output(tmp_path, capsys):
    d = plugin(tmp_path, 'print("hello from a plugin"); sys.stdout.write("{"); return []')
    code, doc, _ = diagnose_json(capsys, "--from", HEALTHY, "--checks-dir", d)  # json.loads is the assertion
    assert code == 0 and doc["verdict"] == "ok"


@pytest.mark.parametrize("body, reason", [
    ('yield "a string"', "check yielded a str, not a Finding"),
    ("yield None", "check yielded a NoneType, not a Finding"),
    ('yield self.finding("t", evidence={}, fix=Fix("f")).__class__("OTHER-001", "c", Hop.POD, Severity.ERROR, '
     '"t", {}, Fix("f"))', "code 'OTHER-001' is not the check's 'TEST-POD-100'"),
    ('e = {}; e["self"] = e; yield self.finding("t", evidence=e, fix=Fix("f"))', "evidence is not JSON"),
])
def test_a_malformed_yield_fails_the_check_not_the_run(tmp_path, capsys, body, reason):
    code, doc, err = diagnose_json(capsys, "--from", HEALTHY, "--checks-dir", plugin(tmp_path, body))
    assert code == 3 and doc["verdict"] == "unknown" and "Traceback" not in err
    assert reason in plugin_skip(doc)


def test_a_check_cannot_change_what_other_checks_see(tmp_path, capsys):
    clean_code, clean, _ = diagnose_json(capsys, "--from", BROKEN)
    # AAA sorts before every OKD check of the pod hop, so the built-ins run after the attempt.
    body = ('facts.service["spec"]["selector"].clear(); facts.pods.clear(); facts.service["spec"]["ports"] = []'
            '; return []')
    code, doc, _ = diagnose_json(capsys, "--from", BROKEN, "--checks-dir", plugin(tmp_path, body, code="AAA-001"))
    assert "the facts are read-only" in plugin_skip(doc)
    assert doc["findings"] == clean["findings"] and doc["hops"] == clean["hops"]
    assert code == 2 == clean_code


@pytest.mark.parametrize("body", ["facts.target = None; return []", "facts.pods.append({}); return []",
                                  "facts.live.update(x=1); return []", "facts.snapshot.collection = {}; return []",
                                  'facts.snapshot.collection["oci"] = {"kind": "denied"}; return []',
                                  "facts.snapshot.kubernetes.clear(); return []"])
def test_every_way_in_is_read_only(tmp_path, capsys, body):
    _, doc, _ = diagnose_json(capsys, "--from", HEALTHY, "--checks-dir", plugin(tmp_path, body))
    assert "read-only" in plugin_skip(doc)


def test_a_copy_of_the_facts_may_be_changed(tmp_path, capsys):
    body = ('import copy; svc = copy.deepcopy(facts.service); svc["spec"]["ports"].append(1); '
            'yield self.finding("copied", evidence={"ports": len(svc["spec"]["ports"])}, fix=Fix("f"))')
    code, doc, _ = diagnose_json(capsys, "--from", HEALTHY, "--checks-dir", plugin(tmp_path, body))
    (finding,) = [f for f in doc["findings"] if f["code"] == "TEST-POD-100"]
    assert code == 1 and finding["evidence"] == {"ports": 2}


def test_an_endless_check_is_abandoned_within_its_bound(tmp_path):
    # A subprocess: the abandoned thread spins until its process exits.
    d = plugin(tmp_path, "while True: pass")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "okedoctor", "diagnose", "--from", BROKEN, "--checks-dir", d,
                           "-o", "json"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**__import__("os").environ, PLUGIN_TIMEOUT_ENV: "0.5"})
    took = time.monotonic() - started
    doc = json.loads(proc.stdout)
    assert proc.returncode == 2 and took < 15, (proc.returncode, took, proc.stderr)
    assert plugin_skip(doc) == "check ran longer than 0.5 s and was abandoned"
    assert doc["hops"]["pod"] == "error"  # what the built-ins found is still reported


@pytest.mark.parametrize("value", ["0", "-1", "nan", "abc", "1e9"])
def test_a_bad_plugin_timeout_is_a_usage_error(monkeypatch, capsys, value):
    monkeypatch.setenv(PLUGIN_TIMEOUT_ENV, value)
    code, _, err = run(["diagnose", "--from", HEALTHY], capsys)
    assert code == 64 and len(err.strip().splitlines()) == 1 and PLUGIN_TIMEOUT_ENV in err


def test_an_endless_check_is_abandoned_once_per_fleet_run_not_once_per_service(tmp_path):
    from okedoctor.fleet.generate import generate_fleet
    from okedoctor.snapshot import dump_snapshot

    snap, expected = generate_fleet(services=20)
    fleet_file = tmp_path / "fleet.json"
    dump_snapshot(snap, fleet_file)
    (tmp_path / "p").mkdir()
    d = plugin(tmp_path / "p", "while True: pass")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "okedoctor", "report", "--from", str(fleet_file), "--checks-dir", d,
                           "-o", "json"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**__import__("os").environ, PLUGIN_TIMEOUT_ENV: "1"})
    took = time.monotonic() - started
    doc = json.loads(proc.stdout)
    reasons = [s["reason"] for r in doc["services"] for s in r["skipped"] if s["check"] == "plugin-check"]
    assert len(reasons) == len(expected) == 20
    assert reasons.count("check ran longer than 1 s and was abandoned") == 1
    assert reasons.count("check ran longer than 1 s and was abandoned earlier in this run") == 19
    assert took < 15, took  # 20 Services at 1 s each would be 20 s of waiting alone
