"""Every shipped scenario, diagnosed live against the simulator, matches its file diagnosis.

The simulator serves the scenario over the real wire protocols; `okedoctor diagnose svc/NAME`
collects from it like from a real cluster. Same findings (code, hop, severity, root cause,
subject) and exit code as `--from` the file prove the collector reads every fact the checks use,
in the shape the API returns it. A file that records a read as denied is replayed with the
matching 403/404 on the wire, so the live run meets the same gap. The request log proves the
run was read-only."""

from __future__ import annotations

import re

import pytest

from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths
from tests.live.conftest import finding_keys, run_cli


def _target_args(snap) -> list[str]:
    args = [f"svc/{snap.target['service']}", "-n", snap.target.get("namespace") or "default"]
    if snap.target.get("lbOcid"):
        args += ["--lb-ocid", snap.target["lbOcid"]]
    return args


_IAM_PATHS = {  # IAM family in a recorded denial -> the OCI paths that family covers
    "network-load-balancers": r"^/20200501/",
    "load-balancers": r"^/20170115/",
    "virtual-network-family": r"^/20160918/(subnets|securityLists|networkSecurityGroups|vnics|routeTables)",
    "instance-family": r"^/20160918/(instances|vnicAttachments)",
}


def replay_gaps(snap) -> tuple[list[dict], list[str], bool]:
    """What the file says the collector could not read, as the wire faults that cause it live.

    Returns (simulator faults, extra CLI flags, whether to run without an OCI config).
    """
    faults: list[dict] = []
    flags: list[str] = []
    for fact, gap in (snap.collection or {}).items():
        kind, reason = gap.get("kind"), gap.get("reason", "")
        if kind == "disabled" and fact == "live.probe":
            flags.append("--no-exec")
        elif fact.startswith("oci") and kind == "denied":
            faults += [{"api": "oci", "path": path, "status": 404}
                       for family, path in _IAM_PATHS.items() if f"read {family} " in reason]
        elif kind == "denied":
            for resource in re.findall(r"resources: \[([\w/.-]+)\]", reason):
                sub = resource.split("/")[-1]
                path = f"/{sub}$" if "/" in resource else rf"/{resource}(/[^/]+)?$"
                faults.append({"api": "kubernetes", "path": path, "status": 403})
    return faults, flags, snap.oci is None


def _assert_read_only(requests, *, exec_allowed: bool) -> None:
    for req in requests:
        if req["api"] == "internet":
            assert req["method"] in ("GET", ""), req  # "" is a connection that never sent a request
            continue
        assert req["method"] == "GET", f"a non-GET request reached the {req['api']} API: {req}"
        if req["path"].endswith("/exec"):
            assert exec_allowed, f"exec with --no-exec: {req}"


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_live_diagnosis_matches_file(path, sim_env, tmp_path, monkeypatch):
    snap = load_snapshot(path)
    from_file = run_cli("diagnose", "--from", str(path), "-o", "json", *(
        ["--lb-ocid", snap.target["lbOcid"]] if snap.target.get("lbOcid") else []))
    assert from_file.code in (0, 1, 2, 3), from_file.stderr
    faults, flags, no_oci = replay_gaps(snap)
    sim = sim_env(snap, tmp_path / "sim", faults=faults)
    if no_oci:  # the file holds no OCI facts: run as a user without an OCI config would
        monkeypatch.delenv("OCI_CLI_CONFIG_FILE")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
    live = run_cli("diagnose", *_target_args(snap), *flags, "-o", "json", "--timeout", "30")
    assert live.code == from_file.code, f"live exit {live.code} != file exit {from_file.code}: {live.stderr}"
    report = live.json
    assert finding_keys(report) == finding_keys(from_file.json)
    assert report["context"]["kubeContext"] == snap.context["kubeContext"]
    assert report["stats"]["api_requests"]["kubernetes"] > 0
    _assert_read_only(sim.requests, exec_allowed="--no-exec" not in flags)


def test_no_exec_sends_no_exec_and_records_the_probe_as_disabled(sim_env, tmp_path):
    path = next(p for p in scenario_paths() if p.stem == "healthy-nlb")
    sim = sim_env(load_snapshot(path), tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "--no-exec", "-o", "json")
    assert live.code == 0, live.stderr
    _assert_read_only(sim.requests, exec_allowed=False)
    assert not [r for r in sim.requests if r["path"].endswith("/exec")]
    skipped = [s for s in live.json["skipped"] if s["kind"] == "disabled"]
    assert all("--no-exec" in s["reason"] for s in skipped)
