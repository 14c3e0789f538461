import json
import pytest
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR, scenario_paths
from tests.live.conftest import run_cli
from tests.live.test_live_scenarios import replay_gaps


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_dbg(sim_env, tmp_path, monkeypatch, path):
    snap = load_snapshot(path)
    faults, flags, no_oci = replay_gaps(snap)
    sim_env(snap, tmp_path / "sim", faults=faults)
    if no_oci:
        monkeypatch.delenv("OCI_CLI_CONFIG_FILE")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
    args = [f"svc/{snap.target['service']}", "-n", snap.target.get("namespace") or "default"]
    if snap.target.get("lbOcid"):
        args += ["--lb-ocid", snap.target["lbOcid"]]
    live = run_cli("diagnose", *args, *flags, "-o", "json", "--timeout", "30")
    text = json.dumps(live.json)
    missing = [m for w in snap.expect["findings"] for m in w.get("mentions", []) if m not in text]
    assert not missing, missing
