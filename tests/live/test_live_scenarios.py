"""Every shipped scenario, diagnosed live against the simulator, matches its file diagnosis.

The simulator serves the scenario over the real wire protocols; `okedoctor diagnose svc/NAME`
collects from it like from a real cluster. Same findings (code, hop, severity, root cause,
subject) and exit code as `--from` the file prove the collector reads every fact the checks use,
in the shape the API returns it. The request log proves the run was read-only.
"""

from __future__ import annotations

import pytest

from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths
from tests.live.conftest import finding_keys, run_cli


def _target_args(snap) -> list[str]:
    args = [f"svc/{snap.target['service']}", "-n", snap.target.get("namespace") or "default"]
    if snap.target.get("lbOcid"):
        args += ["--lb-ocid", snap.target["lbOcid"]]
    return args


def _assert_read_only(requests, *, exec_allowed: bool) -> None:
    for req in requests:
        if req["api"] == "internet":
            assert req["method"] in ("GET", ""), req  # "" is a connection that never sent a request
            continue
        assert req["method"] == "GET", f"a non-GET request reached the {req['api']} API: {req}"
        if req["path"].endswith("/exec"):
            assert exec_allowed, f"exec with --no-exec: {req}"


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_live_diagnosis_matches_file(path, sim_env, tmp_path):
    snap = load_snapshot(path)
    from_file = run_cli("diagnose", "--from", str(path), "-o", "json", *(
        ["--lb-ocid", snap.target["lbOcid"]] if snap.target.get("lbOcid") else []))
    assert from_file.code in (0, 1, 2, 3), from_file.stderr
    sim = sim_env(snap, tmp_path / "sim")
    live = run_cli("diagnose", *_target_args(snap), "-o", "json", "--timeout", "30")
    assert live.code == from_file.code, f"live exit {live.code} != file exit {from_file.code}: {live.stderr}"
    report = live.json
    assert finding_keys(report) == finding_keys(from_file.json)
    assert report["context"]["kubeContext"] == snap.context["kubeContext"]
    assert report["stats"]["api_requests"]["kubernetes"] > 0
    _assert_read_only(sim.requests, exec_allowed=True)


def test_no_exec_sends_no_exec_and_records_the_probe_as_disabled(sim_env, tmp_path):
    path = next(p for p in scenario_paths() if p.stem == "healthy-nlb")
    sim = sim_env(load_snapshot(path), tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "--no-exec", "-o", "json")
    assert live.code == 0, live.stderr
    _assert_read_only(sim.requests, exec_allowed=False)
    assert not [r for r in sim.requests if r["path"].endswith("/exec")]
    skipped = [s for s in live.json["skipped"] if s["kind"] == "disabled"]
    assert all("--no-exec" in s["reason"] for s in skipped)
