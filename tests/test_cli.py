"""The command line: exit codes, one-line errors, output formats, start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT, SCENARIOS_DIR
from tests.conftest import run_main as run

HEALTHY = str(SCENARIOS_DIR / "healthy-nlb.yaml")
FIXTURE_CHECKS = str(ROOT / "tests" / "fixtures" / "checks_ok")




def write_check(tmp_path, body, severity="ERROR"):
    (tmp_path / "c.py").write_text(textwrap.dedent(f'''
        from okedoctor.check import Check
        from okedoctor.model import Fix, Hop, Severity

        class C(Check):
            """Test check.

            What it checks
                x
            Why it breaks
                x
            How to fix
                x
            """
            code = "TEST-POD-100"
            name = "test-check"
            hop = Hop.POD
            severity = Severity.{severity}

            def run(self, facts):
                {body}
    '''))
    return str(tmp_path)


def test_healthy_snapshot_exits_0(capsys):
    code, out, _ = run(["diagnose", "--from", HEALTHY], capsys)
    assert code == 0
    assert "Internet ✔ ──▶ LB ✔ ──▶ NodePort ✔ ──▶ Node ✔ ──▶ Pod ✔" in out
    assert "oke-demo" in out  # the kube context is always named


def test_warning_exits_1(capsys):
    code, out, _ = run(["diagnose", "--from", HEALTHY, "--checks-dir", FIXTURE_CHECKS], capsys)
    assert code == 1 and "TEST-WARN-001" in out


def test_error_exits_2(tmp_path, capsys):
    body = 'yield self.finding("pod broken", evidence={"x": 1}, fix=Fix("do y", ("kubectl get pods",)))'
    d = write_check(tmp_path, body)
    code, out, _ = run(["diagnose", "--from", HEALTHY, "--checks-dir", d, "-o", "json"], capsys)
    doc = json.loads(out)
    assert code == 2 and doc["verdict"] == "failure" and doc["hops"]["pod"] == "error"
    assert doc["findings"][0]["fix"]["commands"] == ["kubectl get pods"]


def test_check_that_crashes_exits_3_with_the_reason(tmp_path, capsys):
    d = write_check(tmp_path, 'raise RuntimeError("boom")')
    code, out, _ = run(["diagnose", "--from", HEALTHY, "--checks-dir", d, "-o", "json"], capsys)
    doc = json.loads(out)
    assert code == 3 and doc["verdict"] == "unknown"
    assert any("RuntimeError: boom" in s["reason"] for s in doc["skipped"])


@pytest.mark.parametrize("argv_tail, message", [
    (["--from", "/nonexistent/snap.yaml"], "snapshot file not found"),
    (["svc/nope", "--from", HEALTHY], "service default/nope is not in"),
    (["pod/app", "--from", HEALTHY], "okedoctor diagnoses Services"),
    (["app", "--from", HEALTHY], "write svc/app"),
    (["--from", HEALTHY, "-o", "yaml"], "Invalid value"),
])
def test_usage_errors_exit_64_with_one_line(argv_tail, message, capsys):
    code, out, err = run(["diagnose", *argv_tail], capsys)
    assert code == 64
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("content, message", [
    ("apiVersion: okedoctor/v1\nkind: Snapshot\nkubernetes: [\n", "malformed YAML at line"),
    ("apiVersion: okedoctor/v9\nkind: Snapshot\n", "unknown apiVersion 'okedoctor/v9'"),
    ("apiVersion: okedoctor/v1\nkind: Snapshot\nkubernetes: [{kind: Pod}]\n", "is not an API object"),
    ("- just\n- a list\n", "not a snapshot"),
])
def test_bad_snapshot_files_exit_64(tmp_path, content, message, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    code, _, err = run(["diagnose", "--from", str(f)], capsys)
    assert code == 64 and message in err and len(err.strip().splitlines()) == 1


def test_checks_list_and_explain(capsys):
    code, out, _ = run(["checks", "list", "--checks-dir", FIXTURE_CHECKS], capsys)
    assert code == 0 and "TEST-WARN-001" in out and "node" in out
    code, out, _ = run(["checks", "explain", "test-warn-001", "--checks-dir", FIXTURE_CHECKS], capsys)
    assert code == 0 and "What it checks" in out and "How to fix" in out
    code, _, err = run(["checks", "explain", "NOPE-001"], capsys)
    assert code == 64 and "no check with code" in err


def test_help_and_checks_list_do_not_import_kubernetes_or_oci():
    for argv in (["--help"], ["checks", "list"]):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "okedoctor", *argv],
            capture_output=True, text=True, cwd=ROOT, check=True,
        )
        imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
        assert "kubernetes" not in imported and "oci" not in imported, argv


def _imported(argv: list[str]) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "okedoctor", *argv],
                          capture_output=True, text=True, cwd=ROOT)
    return proc.returncode, {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}


def test_a_diagnosis_from_a_file_imports_no_client_and_json_no_rich():
    """Issue #15: `--from` reads no API, so the clients' imports (oci, kubernetes, httpx: most of
    a second) are not paid; JSON output needs no terminal renderer."""
    code, imported = _imported(["diagnose", "--from", str(SCENARIOS_DIR / "missing-nodeport-rule.yaml"), "-o", "json"])
    tops = {name.split(".")[0] for name in imported}
    assert code == 2 and not tops & {"oci", "kubernetes", "httpx", "rich", "urllib3", "websocket"}
    assert "importlib.metadata" not in imported  # no plugin declares okedoctor.checks: no entry-point scan
    code, imported = _imported(["diagnose", "--from", str(SCENARIOS_DIR / "missing-nodeport-rule.yaml")])
    assert code == 2 and "rich" in {name.split(".")[0] for name in imported}  # text output does need it


@pytest.mark.parametrize("value", ["0", "-1", "nan", "abc"])
def test_bad_timeout_is_a_usage_error(value, capsys):
    code, _, err = run(["diagnose", "svc/app", "--timeout", value], capsys)
    assert code == 64 and "--timeout" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [
    ["diagnose"], ["diagnose", "-o", "json"], ["report"], ["report", "-o", "markdown"],
])
def test_a_closed_pipe_keeps_the_diagnosis_exit_code(command):
    """`okedoctor diagnose ... | head -1`: the reader goes away; cron must still see exit 2, not rich's 1 or 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "okedoctor", *command, "--from", str(SCENARIOS_DIR / "crashloop-missing-env.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    proc.stdout.close()  # before the report is written: every write meets a broken pipe
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert b"Traceback" not in err
