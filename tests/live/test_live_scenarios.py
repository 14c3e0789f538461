"""Every shipped scenario, diagnosed live against the simulator, gives the report `--from` the file gives.

The simulator serves the scenario over the real wire protocols, and replays what the file records
as denied (`collection`) as the real 403/404; `okedoctor diagnose svc/NAME -o json` collects from
it like from a real cluster. The whole report must equal the file's: verdict, exit code, hop
states, every finding with its evidence, fix (summary, commands, patch), root cause and
`causedBy`, and the skipped checks with their reasons. That proves the collector reads every fact
the checks use, in the shape the API returns it, and that a scenario holds nothing a collector
could not have recorded. What a client chooses rather than meets is chosen again here: a file
that records the probe as disabled is run with `--no-exec`, one without OCI facts without an OCI
config. The request log proves the run was read-only.

Left out of the comparison, because they differ by nature and not by fault:
- `stats`: the live run's duration and request counts; a file diagnosis makes no request.
- the API server URL (`context.server`, and OKD-CL-001, which quotes it): the live run talks to
  the simulator at https://127.0.0.1:PORT, the file records the cluster's own URL. The live
  report's URL is replaced by the file's, so the rest of those fields is still compared.
- `elapsedMs` in a finding's evidence: the wall time the in-pod or internet probe took.
- the home directory in a reason: a run without OCI config uses a temporary HOME, and the
  reason names its ~/.oci/config; it is written back as `~`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths
from tests.live.conftest import run_cli


def _target_args(snap) -> list[str]:
    if snap.target.get("url"):  # a URL is walked live as from the file: name, LB, ingress rule, backend
        return [snap.target["url"]]
    args = [f"svc/{snap.target['service']}", "-n", snap.target.get("namespace") or "default"]
    if snap.target.get("lbOcid"):
        args += ["--lb-ocid", snap.target["lbOcid"]]
    return args


def client_choices(snap) -> tuple[list[str], bool]:
    """(CLI flags, run without an OCI config): what the client chose when the file was recorded."""
    probe = (snap.collection or {}).get("live.probe") or {}
    flags = ["--no-exec"] if probe.get("kind") == "disabled" and "--no-exec" in probe.get("reason", "") else []
    return flags, snap.oci is None


def _drop_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_timing(v) for k, v in value.items() if k != "elapsedMs"}
    if isinstance(value, list):
        return [_drop_timing(v) for v in value]
    return value


def comparable(text: str, replace: dict[str, str]) -> dict[str, Any]:
    """A JSON report without what legitimately differs between a live and a file run (see above)."""
    for old, new in replace.items():
        text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    report = json.loads(text)
    report.pop("stats", None)
    for finding in report.get("findings") or []:
        finding["evidence"] = _drop_timing(finding.get("evidence"))
    return report


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Readable paths where two JSON values differ (file first, live second)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for key in [*want, *(k for k in got if k not in want)]:
            if key not in got:
                out.append(f"{path}/{key}: only in the file's report: {json.dumps(want[key])[:300]}")
            elif key not in want:
                out.append(f"{path}/{key}: only in the live report: {json.dumps(got[key])[:300]}")
            else:
                out += differences(want[key], got[key], f"{path}/{key}")
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [d for i, (a, b) in enumerate(zip(want, got, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if want == got else [f"{path}: file {json.dumps(want)[:300]} != live {json.dumps(got)[:300]}"]


def _assert_read_only(requests, *, exec_allowed: bool) -> None:
    for req in requests:
        if req["api"] == "internet":
            assert req["method"] in ("GET", ""), req  # "" is a connection that never sent a request
            continue
        assert req["method"] == "GET", f"a non-GET request reached the {req['api']} API: {req}"
        if req["path"].endswith("/exec"):
            assert exec_allowed, f"exec with --no-exec: {req}"


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_live_report_equals_the_file_report(path: Path, sim_env, tmp_path, monkeypatch):
    snap = load_snapshot(path)
    from_file = run_cli("diagnose", "--from", str(path), "-o", "json", *(
        ["--lb-ocid", snap.target["lbOcid"]] if snap.target.get("lbOcid") else []))
    assert from_file.code in (0, 1, 2, 3), from_file.stderr
    flags, no_oci = client_choices(snap)
    sim = sim_env(snap, tmp_path / "sim")
    home = tmp_path / "home"
    if no_oci:  # the file holds no OCI facts: run as a user without an OCI config would
        monkeypatch.delenv("OCI_CLI_CONFIG_FILE")
        monkeypatch.setenv("HOME", str(home))
    live = run_cli("diagnose", *_target_args(snap), *flags, "-o", "json", "--timeout", "30")
    assert live.stdout, f"live exit {live.code}: {live.stderr}"
    assert live.json["stats"]["api_requests"]["kubernetes"] > 0, live.stderr
    replace = {sim.kube_url: snap.context.get("server") or sim.kube_url, str(home): "~"}
    want, got = comparable(from_file.stdout, {}), comparable(live.stdout, replace)
    diffs = ([f"exit code: file {from_file.code} != live {live.code}"] if live.code != from_file.code else []) \
        + differences(want, got)
    assert not diffs, f"{path.stem}: the live report differs from the file's:\n  " + "\n  ".join(diffs)
    assert got == want
    _assert_read_only(sim.requests, exec_allowed="--no-exec" not in flags)


def test_the_comparison_sees_fixes_hops_and_evidence():
    """The normalisation removes only what the docstring lists: a changed fix command, hop state or
    evidence value is a difference."""
    report = {"verdict": "failure", "hops": {"pod": "error"}, "stats": {"duration_s": 1.0},
              "context": {"server": "https://127.0.0.1:4443"},
              "findings": [{"code": "OKD-POD-014", "evidence": {"observed": {"elapsedMs": 3, "status": 500}},
                            "fix": {"commands": ["kubectl patch service app"]}}]}
    text = json.dumps(report)
    base = comparable(text, {"https://127.0.0.1:4443": "https://10.0.0.10:6443"})
    assert base["context"]["server"] == "https://10.0.0.10:6443" and "stats" not in base
    assert base["findings"][0]["evidence"] == {"observed": {"status": 500}}
    for change in (("kubectl patch service app", "kubectl get pods"), ('"pod": "error"', '"pod": "ok"'),
                   ('"status": 500', '"status": 200')):
        other = comparable(text.replace(*change), {"https://127.0.0.1:4443": "https://10.0.0.10:6443"})
        assert differences(base, other), change


def test_no_exec_sends_no_exec_and_records_the_probe_as_disabled(sim_env, tmp_path):
    path = next(p for p in scenario_paths() if p.stem == "healthy-nlb")
    sim = sim_env(load_snapshot(path), tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "--no-exec", "-o", "json")
    assert live.code == 0, live.stderr
    _assert_read_only(sim.requests, exec_allowed=False)
    assert not [r for r in sim.requests if r["path"].endswith("/exec")]
    skipped = [s for s in live.json["skipped"] if s["kind"] == "disabled"]
    assert all("--no-exec" in s["reason"] for s in skipped)
