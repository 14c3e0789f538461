"""The three output formats, rendered from one report with findings of every kind."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Report, Severity, SkipKind, Skipped, Target
from okedoctor.render import renderer
from okedoctor.runner import mark_root_causes, order_findings
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR

SCHEMA = json.loads((Path(__file__).parent.parent / "okedoctor/schema/report-v1.json").read_text())


def sample_report() -> Report:
    cause = Finding("OKD-LB-002", "stale-health-port", Hop.LOADBALANCER, Severity.ERROR,
                    "health check probes NodePort 31880, which no Service owns",
                    {"healthCheckPort": 31880, "liveNodePort": 30417},
                    Fix("Point the health check at the live NodePort.",
                        ("oci nlb backend-set update --backend-set-name TCP-80 ...",), "port: 30417\n"),
                    subject="ocid1.networkloadbalancer.oc1..x")
    symptom = Finding("OKD-LB-009", "backend-health", Hop.LOADBALANCER, Severity.ERROR,
                      "every backend is CRITICAL", {"critical": ["10.0.10.5:31880"]},
                      Fix("Fix the root cause."), symptom=True)
    info = Finding("OKD-CL-001", "kube-context", Hop.CLUSTER, Severity.INFO, "context oke-demo",
                   {"kubeContext": "oke-demo"}, Fix("none"))
    facts = Facts(load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml"))
    return Report(
        target=Target("default", "app"), context=facts.context,
        findings=order_findings(mark_root_causes([symptom, cause, info])),
        skipped=[Skipped("internet-probe", "not observed", SkipKind.NOT_OBSERVED, "OKD-INET-001")],
        stats={"duration_s": 0.12, "api_requests": {"kubernetes": 7, "oci": 12}},
    )


def render(fmt: str, report: Report | None = None) -> str:
    buf = io.StringIO()
    renderer(fmt)(report or sample_report(), buf)
    return buf.getvalue()


def test_json_validates_against_the_shipped_schema_and_marks_causes():
    doc = json.loads(render("json"))
    jsonschema.validate(doc, SCHEMA)
    by_code = {f["code"]: f for f in doc["findings"]}
    assert by_code["OKD-LB-002"]["rootCause"] is True
    assert by_code["OKD-LB-009"] == {**by_code["OKD-LB-009"], "rootCause": False, "causedBy": "OKD-LB-002"}
    assert doc["verdict"] == "failure" and doc["hops"]["loadbalancer"] == "error"


def test_schema_rejects_a_report_missing_required_keys():
    doc = json.loads(render("json"))
    del doc["findings"][0]["fix"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_text_draws_the_chain_and_the_fix_without_escape_codes_in_a_pipe():
    out = render("text")
    assert "\x1b[" not in out
    assert "Internet ✔ ──▶ LB ✖ ──▶ NodePort ✔ ──▶ Node ✔ ──▶ Pod ✔" in out
    assert "━━ ROOT CAUSE OKD-LB-002 [loadbalancer] health check probes NodePort 31880, which no Service owns" in out
    assert "consequence of OKD-LB-002" in out
    assert "     $ oci nlb backend-set update --backend-set-name TCP-80 ..." in out.splitlines()
    assert "       port: 30417" in out.splitlines()
    # The last line names the root cause, so the final screen of a long report still shows it.
    assert out.splitlines()[-1].startswith(
        "verdict: failure: OKD-LB-002 health check probes NodePort 31880, which no Service owns (exit 2)")
    assert "OKD-INET-001 (not-observed)" in out


def test_text_never_breaks_a_long_fix_command(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    report = sample_report()
    long_cmd = "oci network security-list update --security-list-id ocid1.securitylist.oc1..x " + "x" * 200
    report.findings[0] = replace(report.findings[0], fix=Fix("add the rule", (long_cmd,)))
    assert f"     $ {long_cmd}" in render("text", report).splitlines()


def test_text_colours_a_terminal_unless_no_color(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in render("text")
    monkeypatch.setenv("NO_COLOR", "1")
    coloured = render("text")
    assert "\x1b[31m" not in coloured and "\x1b[1;31m" not in coloured


def test_markdown_is_ticket_ready():
    out = render("markdown")
    assert out.startswith("# okedoctor: `default/svc/app` is **FAILURE**")
    assert "## Root cause" in out and "### `OKD-LB-002`" in out
    assert "```sh\noci nlb backend-set update" in out and "```yaml\nport: 30417\n```" in out
    assert "(consequence of `OKD-LB-002`)" in out
