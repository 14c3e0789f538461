"""Signal before noise in the text report, as an on-call engineer reads it: the answer on the last
line, the context once in the header, the evidence that proves the point, a pointer to the
documentation of each finding (and its URL in JSON, Slack and Prometheus)."""

from __future__ import annotations

import io
import json

from okedoctor.fleet.model import Changes, FleetReport
from okedoctor.fleet.webhook import build_message
from okedoctor.model import Finding, Fix, Hop, HopState, HopView, Report, Severity, Target
from okedoctor.render.text import render
from tests.conftest import SCENARIOS_DIR
from tests.conftest import run_main as run

STALE = str(SCENARIOS_DIR / "stale-healthcheck-port.yaml")
NO_OCI = str(SCENARIOS_DIR / "no-oci-config.yaml")
DOCS = "https://github.com/okedoctor/okedoctor/blob/main/docs/checks.md"


def text(argv, capsys) -> tuple[int, str]:
    code, out, _ = run(["diagnose", *argv], capsys)
    return code, out


def test_the_last_line_names_the_root_cause_and_the_exit_code(capsys):
    code, out = text(["--from", STALE], capsys)
    assert code == 2
    assert out.splitlines()[-1].startswith(
        "verdict: failure: OKD-LB-009 The NLB's health check probes HTTP port 31880, which no Service serves any "
        "more; the Service's live NodePort is 30417 (exit 2)")


def test_an_unknown_verdict_names_the_hops_not_checked(capsys):
    code, out = text(["--from", NO_OCI], capsys)
    assert code == 3 and out.splitlines()[-1].startswith("verdict: unknown: LB, NodePort not checked (exit 3)")
    assert "No problem found on the hops checked." in out and "No problem found on any hop." not in out


def test_the_context_is_said_once_in_the_header(capsys):
    _, out = text(["--from", STALE], capsys)
    header = out.split("\n\n")[0]
    assert "context oke-demo" in header and "region ap-tokyo-1" in header
    assert "load balancer ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaahandmadenlb (found by lb-ocid)" in header
    assert "OKD-CL-001" not in out and "compartmentsSearched" not in out
    _, verbose = text(["--from", STALE, "-v"], capsys)
    assert "━━ info OKD-CL-001 [cluster] Diagnosed context oke-demo" in verbose


def _block(out: str, code: str) -> str:
    return next(b for b in out.split("\n\n") if f" {code} [" in b)


def test_text_evidence_shows_the_fields_the_title_quotes_and_v_shows_all(capsys):
    _, out = text(["--from", STALE], capsys)
    root = _block(out, "OKD-LB-009")
    assert "     healthCheckPort: 31880" in root and "     liveNodePort: 30417" in root
    assert "lbDisplayName" not in root and "   evidence: (6 more with -v)" in root
    backends = next(line for line in _block(out, "OKD-LB-011").splitlines() if "backends:" in line)
    assert backends.endswith("…") and len(backends) < 200
    _, verbose = text(["--from", STALE, "-v"], capsys)
    assert "     lbDisplayName: app-public-nlb" in _block(verbose, "OKD-LB-009")
    assert "more with -v" not in verbose and '"10.0.10.6:31880"' in _block(verbose, "OKD-LB-011")
    _, doc = run(["diagnose", "--from", STALE, "-o", "json"], capsys)[:2]
    assert json.loads(doc)["findings"][0]["evidence"]["lbDisplayName"] == "app-public-nlb"


def test_each_finding_points_to_its_explanation_and_docs_url(capsys, monkeypatch):
    _, out = text(["--from", STALE], capsys)
    assert "   explain: okedoctor checks explain OKD-LB-009" in _block(out, "OKD-LB-009")
    code, out, _ = run(["diagnose", "--from", STALE, "-o", "json"], capsys)
    assert {f["code"]: f["docs"] for f in json.loads(out)["findings"]}["OKD-LB-009"] == f"{DOCS}#okd-lb-009"
    monkeypatch.setenv("OKEDOCTOR_DOCS_URL", "https://wiki.example.internal/okedoctor/checks")
    code, out, _ = run(["diagnose", "--from", STALE, "-o", "json"], capsys)
    assert json.loads(out)["findings"][0]["docs"] == "https://wiki.example.internal/okedoctor/checks#okd-lb-009"


def test_docs_checks_md_has_the_anchor_each_docs_url_names():
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "checks.md").read_text()
    assert "### OKD-LB-009\n" in page and "[`OKD-LB-009`](#okd-lb-009)" in page


def test_checks_explain_takes_a_name_and_suggests_on_a_typo(capsys):
    code, out, _ = run(["checks", "explain", "health-check-port-not-served"], capsys)
    assert code == 0 and out.startswith("OKD-LB-009  health-check-port-not-served") and "How to fix" in out
    assert f"docs: {DOCS}#okd-lb-009" in out
    code, out, err = run(["checks", "explain", "health-check-port-not-serve"], capsys)
    assert code == 64 and "did you mean health-check-port-not-served?" in err and err.count("\n") == 1


def test_hops_hidden_by_one_source_are_one_line():
    why = "OCI answered 404 NotAuthorizedOrNotFound reading network-load-balancers"
    hops = {Hop.INTERNET: HopView(HopState.UNKNOWN, f"OKD-INET-002 not checked: {why}"),
            Hop.LOADBALANCER: HopView(HopState.UNKNOWN, f"OCI facts not read: {why}"),
            Hop.NODEPORT: HopView(HopState.UNKNOWN, f"OCI facts not read: {why}"),
            Hop.NODE: HopView(HopState.UNKNOWN, f"OKD-NODE-007 not checked: {why}"),
            Hop.POD: HopView(HopState.OK)}
    out = io.StringIO()
    render(Report(Target("default", "app"), {}, hops=hops), out)
    lines = [line for line in out.getvalue().splitlines() if why in line]
    assert lines == [f"Internet, LB, NodePort, Node unknown: {why}"]


def test_slack_and_prometheus_carry_the_docs_url(tmp_path, capsys):
    f = Finding("OKD-LB-009", "health-check-port-not-served", Hop.LOADBALANCER, Severity.ERROR, "probes 31880", {},
                Fix("x"), docs=f"{DOCS}#okd-lb-009")
    fleet = FleetReport(services=[], context={}, changes=Changes(new={"default/app": [f]}))
    body = build_message(fleet, "oke-demo")["blocks"][1]["text"]["text"]
    assert f"<{DOCS}#okd-lb-009|OKD-LB-009>" in body
    prom = tmp_path / "okedoctor.prom"
    run(["report", "--from", STALE, "--include-nodeport", "--prometheus-file", str(prom)], capsys)
    assert f'root_cause="OKD-LB-009",hop="loadbalancer",docs="{DOCS}#okd-lb-009"}} 2' in prom.read_text()


def test_markdown_links_each_code_to_its_docs(capsys):
    _, out, _ = run(["diagnose", "--from", STALE, "-o", "markdown"], capsys)
    assert f"### [`OKD-LB-009`]({DOCS}#okd-lb-009) [error, loadbalancer]" in out
