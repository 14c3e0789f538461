"""`okedoctor report` from a file: verdicts, --state changes, metrics, webhook, exit codes."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import yaml

from okedoctor.overlay import load_document
from tests.conftest import ROOT, SCENARIOS_DIR
from tests.conftest import run_main as run

SCHEMA_DIR = ROOT / "okedoctor" / "schema"
LABEL_CHECK = '''
from okedoctor.check import Check, subject_of
from okedoctor.model import Fix, Hop


class BrokenLabel(Check):
    """Flags Services labelled broken=true (a test stand-in for a real fault).

    What it checks
        The label.
    Why it breaks
        The test says so.
    How to fix
        Remove the label.
    """

    code = "TEST-POD-200"
    name = "test-broken-label"
    hop = Hop.POD

    def run(self, facts):
        svc = facts.service
        if svc and (svc["metadata"].get("labels") or {}).get("broken") == "true":
            yield self.finding("labelled broken", evidence={"label": "broken=true"},
                               fix=Fix("remove the label"), subject=subject_of(svc))
'''


def fleet_file(tmp_path: Path, broken: set[str], n: int = 4) -> Path:
    """The healthy scenario with n copies of its Service, some labelled broken."""
    doc = load_document(SCENARIOS_DIR / "healthy-nlb.yaml")
    svc = next(o for o in doc["kubernetes"] if o["kind"] == "Service")
    for i in range(n):
        clone = copy.deepcopy(svc)
        clone["metadata"]["name"] = f"app{i}"
        clone["metadata"]["uid"] = f"uid-{i}"
        if f"app{i}" in broken:
            clone["metadata"]["labels"] = {"broken": "true"}
        doc["kubernetes"].append(clone)
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def checks_dir(tmp_path):
    d = tmp_path / "checks"
    d.mkdir()
    (d / "label.py").write_text(LABEL_CHECK)
    return str(d)




def test_json_report_validates_and_gives_worst_verdict(tmp_path, checks_dir, capsys):
    f = fleet_file(tmp_path, {"app2"})
    code, out, _ = run(["report", "--from", str(f), "-o", "json", "--checks-dir", checks_dir], capsys)
    doc = json.loads(out)
    schema = json.loads((SCHEMA_DIR / "fleet-v1.json").read_text())
    jsonschema.Draft202012Validator(schema, registry=_schema_registry()).validate(doc)
    assert code == 2 and doc["verdict"] == "failure"
    verdicts = {s["target"]["service"]: s["verdict"] for s in doc["services"]}
    assert verdicts == {"app": "ok", "app0": "ok", "app1": "ok", "app2": "failure", "app3": "ok"}


def _schema_registry():
    from referencing import Registry, Resource

    report = json.loads((SCHEMA_DIR / "report-v1.json").read_text())
    return Registry().with_resource(report["$id"], Resource.from_contents(report))


def test_text_table_has_one_row_per_service_with_root_cause(tmp_path, checks_dir, capsys):
    f = fleet_file(tmp_path, {"app1"})
    code, out, _ = run(["report", "--from", str(f), "--checks-dir", checks_dir], capsys)
    row = next(line for line in out.splitlines() if "default/app1" in line)
    assert "failure" in row and "TEST-POD-200" in row and "pod" in row
    assert code == 2 and "verdict: failure (exit 2)" in out


def test_state_reports_new_then_resolved(tmp_path, checks_dir, capsys):
    state = tmp_path / "state.json"
    broken = fleet_file(tmp_path, {"app1"})
    code, out, _ = run(["report", "--from", str(broken), "--state", str(state), "--checks-dir", checks_dir], capsys)
    assert "first run" in out and state.exists()
    code, out, _ = run(["report", "--from", str(broken), "--state", str(state), "--checks-dir", checks_dir,
                        "--only-changes"], capsys)
    assert "none since the last run" in out and "default/app0" not in out
    fixed = fleet_file(tmp_path, set())
    code, out, _ = run(["report", "--from", str(fixed), "--state", str(state), "--checks-dir", checks_dir,
                        "-o", "json", "--only-changes"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert list(doc["changes"]["resolved"]) == ["default/app1"]
    assert doc["changes"]["resolved"]["default/app1"][0]["code"] == "TEST-POD-200"
    assert [s["target"]["service"] for s in doc["services"]] == ["app1"]


def test_prometheus_textfile(tmp_path, checks_dir, capsys):
    prom = tmp_path / "textfile" / "okedoctor.prom"
    run(["report", "--from", str(fleet_file(tmp_path, {"app3"})), "--prometheus-file", str(prom),
         "--checks-dir", checks_dir], capsys)
    text = prom.read_text()
    assert ('okedoctor_service_verdict{namespace="default",service="app3",root_cause="TEST-POD-200",hop="pod",'
            'docs=""} 2' in text)
    assert 'okedoctor_service_verdict{namespace="default",service="app0",root_cause="",hop="",docs=""} 0' in text
    assert 'okedoctor_findings{severity="error",hop="pod"} 1' in text
    assert 'okedoctor_services{verdict="ok"} 4' in text
    assert "okedoctor_last_run_timestamp_seconds " in text
    assert not list(prom.parent.glob(".okedoctor.prom.*")), "temporary file left behind"


class Receiver:
    """A loopback webhook receiver that records bodies and can fail the first N posts."""

    def __init__(self, fail_first: int = 0, status: int = 500):
        self.bodies: list[dict] = []
        self.attempts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.attempts += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.attempts <= fail_first:
                    self.send_response(status)
                    self.end_headers()
                    return
                outer.bodies.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


def test_webhook_gets_one_message_with_the_change(tmp_path, checks_dir, capsys):
    rx = Receiver(fail_first=1)
    try:
        state = tmp_path / "s.json"
        run(["report", "--from", str(fleet_file(tmp_path, set())), "--state", str(state),
             "--checks-dir", checks_dir], capsys)
        assert rx.bodies == []
        code, _, err = run(["report", "--from", str(fleet_file(tmp_path, {"app0"})), "--state", str(state),
                            "--webhook", rx.url, "--checks-dir", checks_dir], capsys)
        assert code == 2 and err == ""
        (msg,) = rx.bodies
        assert rx.attempts == 2  # one 500, retried once
        assert "FAILURE" in msg["text"] and "NEW default/app0: `TEST-POD-200`" in msg["blocks"][1]["text"]["text"]
        # No change, no message.
        run(["report", "--from", str(fleet_file(tmp_path, {"app0"})), "--state", str(state),
             "--webhook", rx.url, "--checks-dir", checks_dir], capsys)
        assert len(rx.bodies) == 1
    finally:
        rx.close()


def test_a_failed_webhook_is_reported_and_keeps_the_exit_code(tmp_path, checks_dir, capsys):
    rx = Receiver(fail_first=99, status=503)
    try:
        code, _, err = run(["report", "--from", str(fleet_file(tmp_path, set())), "--webhook", rx.url,
                            "--checks-dir", checks_dir], capsys)
        assert code == 0
        assert "webhook post failed after 3 attempt(s): HTTP 503" in err
        assert rx.attempts == 3
    finally:
        rx.close()


@pytest.mark.parametrize("argv, message", [
    (["-n", "x", "-A"], "not both"),
    (["--only-changes"], "needs --state"),
])
def test_report_usage_errors(argv, message, tmp_path, capsys):
    code, _, err = run(["report", "--from", str(fleet_file(tmp_path, set())), *argv], capsys)
    assert code == 64 and message in err


def test_corrupt_state_file_is_a_usage_error(tmp_path, capsys):
    state = tmp_path / "s.json"
    state.write_text("{not json")
    code, _, err = run(["report", "--from", str(fleet_file(tmp_path, set())), "--state", str(state)], capsys)
    assert code == 64 and "delete it to start afresh" in err


def test_a_failed_post_keeps_the_change_for_the_next_run(tmp_path, checks_dir, capsys):
    state = tmp_path / "s.json"
    run(["report", "--from", str(fleet_file(tmp_path, set())), "--state", str(state), "--checks-dir", checks_dir],
        capsys)
    down = Receiver(fail_first=99, status=503)
    try:
        broken = str(fleet_file(tmp_path, {"app2"}))
        _, _, err = run(["report", "--from", broken, "--state", str(state), "--webhook", down.url,
                         "--checks-dir", checks_dir], capsys)
        assert "state not saved" in err
    finally:
        down.close()
    up = Receiver()
    try:
        run(["report", "--from", broken, "--state", str(state), "--webhook", up.url, "--checks-dir", checks_dir],
            capsys)
        (msg,) = up.bodies
        assert "NEW default/app2: `TEST-POD-200`" in msg["blocks"][1]["text"]["text"]
    finally:
        up.close()


@pytest.mark.parametrize("flag", ["--state", "--prometheus-file"])
def test_unwritable_output_paths_are_refused_before_collecting(flag, tmp_path, capsys):
    code, _, err = run(["report", "--from", str(fleet_file(tmp_path, set())), flag, str(tmp_path)], capsys)
    assert code == 64 and "is a directory" in err and len(err.strip().splitlines()) == 1
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(["report", "--from", str(fleet_file(tmp_path, set())), flag, str(blocker / "x.json")], capsys)
    assert code == 64 and "give a writable path" in err


def test_a_row_with_no_root_cause_says_what_is_known_instead(tmp_path, capsys):
    # The dead address with no OCI facts is an effect whose cause could not be read: the row
    # names it and the hop that could not be checked, not an empty ROOT CAUSE cell.
    f = SCENARIOS_DIR / "internet-timeout-no-oci.yaml"
    code, out, _ = run(["report", "--from", str(f), "-o", "markdown"], capsys)
    row = next(line for line in out.splitlines() if "default/app" in line and "|" in line)
    assert code == 2 and "OKD-INET-001" in row and "(effect)" in row and "loadbalancer hop could not be checked" in row
    code, out, _ = run(["report", "--from", str(SCENARIOS_DIR / "no-oci-config.yaml"), "-o", "markdown"], capsys)
    row = next(line for line in out.splitlines() if "default/app" in line and "|" in line)
    assert code == 3 and "not checked: OCI facts not read" in row
