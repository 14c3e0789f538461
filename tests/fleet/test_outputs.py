"""Outputs for the tools people already have: JUnit XML for CI, one HTML page (checked in a real
headless browser when Debian's chromium is installed), the Grafana dashboard, and the fleet text
table (failures first, since when, one line per row in a pipe)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from okedoctor.fleet.prometheus import metrics_text
from okedoctor.fleet.run import diagnose_fleet, exposed_services
from okedoctor.snapshot import load_snapshot
from tests.conftest import ROOT, SCENARIOS_DIR
from tests.conftest import run_main as run
from tests.fleet.test_report_offline import checks_dir, fleet_file  # noqa: F401 - a fixture

STALE = str(SCENARIOS_DIR / "stale-healthcheck-port.yaml")
RBAC = str(SCENARIOS_DIR / "rbac-denied.yaml")


# ---- JUnit -------------------------------------------------------------------------------------

def junit(argv, capsys) -> tuple[int, ET.Element]:
    code, out, _ = run(argv, capsys)
    return code, ET.fromstring(out)


def test_junit_has_a_case_per_check_and_the_finding_as_failure(capsys):
    code, root = junit(["diagnose", "--from", STALE, "-o", "junit"], capsys)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert code == 2 and suite.get("name") == "default/app"
    assert len(cases) == int(suite.get("tests")) == len({c.get("name") for c in cases}) > 50
    failed = {c.get("name").split()[0]: c.find("failure") for c in cases if c.find("failure") is not None}
    assert sorted(failed) == ["OKD-INET-001", "OKD-LB-006", "OKD-LB-009", "OKD-LB-011"]
    assert int(suite.get("failures")) == 4
    lb009 = failed["OKD-LB-009"]
    assert lb009.get("type") == "error" and "31880" in lb009.get("message")
    assert "root cause [loadbalancer]" in lb009.text and "$ oci nlb backend-set update" in lb009.text
    assert "consequence of OKD-LB-009" in failed["OKD-LB-006"].text


def test_junit_skips_what_could_not_run_or_was_silenced(capsys):
    _, root = junit(["diagnose", "--from", RBAC, "-o", "junit", "--exclude", "OKD-CL-002"], capsys)
    skipped = {c.get("name").split()[0]: c.find("skipped").get("message")
               for c in root.iter("testcase") if c.find("skipped") is not None}
    assert skipped["OKD-POD-013"].startswith("denied: forbidden to read pods/exec")
    assert skipped["OKD-CL-002"] == "silenced: excluded by --exclude (--exclude)"
    assert root.get("skipped") == str(len(skipped))


def test_junit_for_the_fleet_is_one_suite_per_service(tmp_path, checks_dir, capsys):  # noqa: F811
    code, root = junit(["report", "--from", str(fleet_file(tmp_path, {"app2"})), "--checks-dir", checks_dir,
                        "-o", "junit"], capsys)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert code == 2 and sorted(suites) == ["default/app", "default/app0", "default/app1", "default/app2",
                                            "default/app3"]
    assert suites["default/app2"].get("failures") == "1" and suites["default/app1"].get("failures") == "0"
    assert root.get("failures") == "1"


def test_junit_stays_well_formed_with_control_characters_in_a_finding():
    from okedoctor.model import Finding, Fix, Hop, Report, Severity, Target
    from okedoctor.render.junit import render

    f = Finding("OKD-POD-006", "pod-crashloop", Hop.POD, Severity.ERROR, "crash \x1b[31mred\x1b[0m\x00",
                {"log": "panic: \x07bell"}, Fix("fix it"))
    out = __import__("io").StringIO()
    render(Report(Target("default", "app"), {}, findings=[f], checks_run=[("OKD-POD-006", "pod-crashloop", Hop.POD)]),
           out)
    failure = ET.fromstring(out.getvalue()).find(".//failure")
    assert failure.get("message") == "crash [31mred[0m" and "panic: bell" in failure.text


# ---- the fleet text table ----------------------------------------------------------------------

def test_fleet_text_table_is_failures_first_with_since_and_never_wrapped(tmp_path, checks_dir, capsys):  # noqa: F811
    f, state = fleet_file(tmp_path, {"app1", "app3"}), tmp_path / "state.json"
    argv = ["report", "--from", str(f), "--checks-dir", checks_dir, "--state", str(state)]
    run(argv, capsys)
    doc = json.loads(state.read_text())
    doc["services"]["default/app3"]["TEST-POD-200:service/default/app3"]["firstSeen"] = "2000-01-01T00:00:00+00:00"
    state.write_text(json.dumps(doc))
    _, out, _ = run(argv, capsys)
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("SERVICE"))
    assert re.split(r"\s*[┃│]\s*", lines[head].strip()) == ["SERVICE", "VERDICT", "SINCE", "HOP", "ROOT CAUSE"]
    rows = [re.split(r"\s*[┃│]\s*", line.strip()) for line in lines[head + 2:head + 7]]
    assert [r[0] for r in rows] == ["default/app1", "default/app3", "default/app", "default/app0", "default/app2"]
    assert rows[1][2].endswith("d") and int(rows[1][2][:-1]) > 9000 and rows[0][2] == "0m"
    _, out, _ = run([*argv, "-o", "json"], capsys)
    assert json.loads(out)["since"]["default/app3"] == "2000-01-01T00:00:00+00:00"
    long = fleet_file(tmp_path, {"app1"})
    long.write_text(long.read_text().replace("name: app1", "name: app1-" + "x" * 120))
    _, out, _ = run(["report", "--from", str(long), "--checks-dir", checks_dir], capsys)
    row = next(line for line in out.splitlines() if "app1-xxx" in line)
    assert "TEST-POD-200 labelled broken" in row, "a long row is one line in a pipe"


# ---- HTML --------------------------------------------------------------------------------------

class Dom(HTMLParser):
    """The few things the tests read from a page: elements with their attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict] = []
        self.stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, **{k: v or "" for k, v in attrs}, "text": ""}
        self.elements.append(el)
        if tag not in ("meta", "br", "img", "link", "input"):
            self.stack.append(el)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

    def all(self, tag=None, **attrs) -> list[dict]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and all(e.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def parse(page: str) -> Dom:
    dom = Dom()
    dom.feed(page)
    return dom


@pytest.fixture
def html_page(tmp_path, checks_dir, capsys):  # noqa: F811
    """The fleet report as HTML: two broken Services of five, from the second run of a --state."""
    f, state = fleet_file(tmp_path, {"app1", "app3"}), tmp_path / "state.json"
    argv = ["report", "--from", str(f), "--checks-dir", checks_dir, "--state", str(state), "-o", "html"]
    run(argv, capsys)
    code, out, _ = run(argv, capsys)
    assert code == 2
    path = tmp_path / "report.html"
    path.write_text(out)
    return path


def assert_report_dom(dom: Dom) -> None:
    rows = [e for e in dom.all("tr") if e.get("data-service")]
    assert [(r["data-service"], r["data-verdict"]) for r in rows] == [
        ("default/app1", "failure"), ("default/app3", "failure"),
        ("default/app", "ok"), ("default/app0", "ok"), ("default/app2", "ok")]
    assert [e["text"] for e in dom.all("th")] == ["Service", "Verdict", "Since", "Chain", "Hop", "Root cause"]
    assert all(re.fullmatch(r"\d+m", e["text"]) for e in dom.all("td", class_="since")[:2])
    sections = [e for e in dom.all("section") if e.get("data-service")]
    assert [s["data-service"] for s in sections] == ["default/app1", "default/app3"]
    links = [e["href"] for e in dom.all("a") if e["href"].startswith("#")]
    ids = {e["id"] for e in dom.elements if e.get("id")}
    assert links and set(h[1:] for h in links) <= ids, "every link in the table lands on a Service's section"
    hops = [(e["data-hop"], e["data-state"]) for e in dom.all("li") if e.get("data-hop")]
    broken = [("internet", "ok"), ("loadbalancer", "ok"), ("nodeport", "ok"), ("node", "ok"), ("pod", "error")]
    # Every Service's chain in the table (5 rows), then the drawn chain of each broken Service (2).
    assert len(hops) == 5 * 7 and hops[:5] == broken and hops[10:15] == [(h, "ok") for h, _ in broken[:5]]
    assert hops[25:30] == broken
    roots = [e for e in dom.all("div") if "root" in e.get("class", "").split()]
    assert [r["data-code"] for r in roots] == ["TEST-POD-200", "TEST-POD-200"]
    assert "fix: remove the label" in roots[0]["text"]
    assert not dom.all("script") and not dom.all("link") and not dom.all("img"), "self-contained"
    assert dom.all("p", id="verdict")[0]["text"].startswith("verdict: failure (exit 2)")


def test_the_html_page_holds_the_table_chains_and_fixes(html_page):
    assert_report_dom(parse(html_page.read_text()))


def test_the_html_page_escapes_what_it_quotes(tmp_path, checks_dir, capsys):  # noqa: F811
    f = fleet_file(tmp_path, {"app1"})
    f.write_text(f.read_text().replace("name: app1", "name: app1-<b>x</b>"))
    _, out, _ = run(["report", "--from", str(f), "--checks-dir", checks_dir, "-o", "html"], capsys)
    assert "<b>x</b>" not in out and "app1-&lt;b&gt;x&lt;/b&gt;" in out


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-extensions", *args], capture_output=True, text=True, timeout=120)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGBA bytes) of an 8-bit RGB or RGBA PNG: enough for a screenshot."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    if bpp == 3:
        rows = [b"".join(r[i:i + 3] + b"\xff" for i in range(0, len(r), 3)) for r in rows]
    return width, height, rows


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_html_page_in_a_headless_browser(html_page, tmp_path):
    dumped = chromium("--dump-dom", html_page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    # The DOM as the browser built it (after its own error recovery) says what the page means.
    assert_report_dom(parse(dumped.stdout))
    shot = tmp_path / "report.png"
    taken = chromium(f"--screenshot={shot}", "--window-size=1200,900", "--hide-scrollbars", html_page.as_uri())
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1200, 900)
    # The failing badges and the broken pod hop are drawn in the failure red (#c62828).
    red = sum(row.count(b"\xc6\x28\x28\xff") for row in rows)
    assert red > 500, f"only {red} failure-red pixels on the screenshot"


# ---- Grafana -----------------------------------------------------------------------------------

def test_the_grafana_dashboard_reads_only_metrics_okedoctor_writes(tmp_path):
    dash = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    snap = load_snapshot(SCENARIOS_DIR / "stale-healthcheck-port.yaml")
    from okedoctor.policy import Policy, Scope, Silence
    from okedoctor.registry import load_registry

    policy = Policy(silences=(Silence(Scope(code="OKD-INET-001"), "r", source="test"),))
    fleet = diagnose_fleet(snap, load_registry(entry_points_enabled=False),
                           exposed_services(snap, None, True), policy=policy)
    from okedoctor.fleet.model import Changes

    fleet.changes = Changes()
    written = set(re.findall(r"^# TYPE (\w+) ", metrics_text(fleet), re.M))
    panels = dash["panels"]
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bokedoctor_\w+", e)}
    assert used and used <= written, f"the dashboard reads metrics nobody writes: {used - written}"
    assert {"okedoctor_services", "okedoctor_service_verdict", "okedoctor_silenced_findings"} <= used
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(p["datasource"]["uid"] == "${datasource}" for p in panels)
    docs = next(p for p in panels if p["type"] == "table")["fieldConfig"]["overrides"][0]
    assert docs["matcher"]["options"] == "docs", "the table links each root cause to its docs URL"


def test_fleet_json_is_written_in_batches_exactly_as_json_dumps_would():
    import io
    import json

    from okedoctor.fleet.render import write_json

    doc = {"services": [{"name": f"svc-{i}", "findings": [{"evidence": {"ips": ["10.0.0.1"], "n": i}}]}
                        for i in range(50)], "when": object()}
    out = io.StringIO()
    write_json(doc, out, batch=100)  # many batches, one cut inside a string's pieces
    assert out.getvalue() == json.dumps(doc, indent=2, default=str)
