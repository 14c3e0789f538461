"""Item 6 of issue #16 against the simulated cluster: a mistyped Service, TAB over the live API,
snapshot --force."""

from __future__ import annotations

from tests.live.conftest import run_cli
from tests.live.test_live_errors import _one_line_error, healthy
from tests.test_small_things import complete


def test_a_typo_live_gets_did_you_mean_and_the_exposed_services(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim")
    line = _one_line_error(run_cli("diagnose", "svc/appp"))
    assert "service default/appp not found in context 'oke-demo'" in line
    assert "did you mean svc/app? exposed Services in default: app (LoadBalancer)" in line


def test_tab_lists_the_clusters_services(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    # The 3 s a TAB waits by default is too short for this shared test machine under load.
    assert complete("okedoctor diagnose svc/a", {**sim.env, "OKEDOCTOR_COMPLETE_TIMEOUT": "30"}) == ["svc/app"]


def test_snapshot_force_overwrites(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim")
    out = tmp_path / "incident.yaml"
    out.write_text("old\n")
    assert run_cli("snapshot", "svc/app", "-f", str(out)).code == 64 and out.read_text() == "old\n"
    assert run_cli("snapshot", "svc/app", "-f", str(out), "--force").code == 0
    assert "apiVersion: okedoctor/v1" in out.read_text()
