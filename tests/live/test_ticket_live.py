"""A snapshot cut down for a ticket can still be served by the simulator (to reproduce a case)
and diagnosed live to the same findings as from the file."""

from __future__ import annotations

import pytest

from okedoctor.snapshot import dump_snapshot, load_snapshot
from okedoctor.ticket import for_ticket
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import finding_keys, run_cli

# One per hop family: healthy, a pod fault, a security-list fault, a storage fault, an LB flavour.
NAMES = ["healthy-lb-local", "crashloop-missing-env", "lb-ingress-blocked", "volume-attach-failed",
         "stale-healthcheck-port"]


@pytest.mark.parametrize("name", NAMES)
def test_a_ticket_snapshot_served_by_the_simulator_diagnoses_as_the_file(name, sim_env, tmp_path):
    ticket = for_ticket(load_snapshot(SCENARIOS_DIR / f"{name}.yaml"))
    ticket.kind = "Snapshot"
    path = tmp_path / "ticket.json"
    dump_snapshot(ticket, path)
    sim_env(load_snapshot(path), tmp_path / "sim")
    target = ticket.target
    live = run_cli("diagnose", f"svc/{target['service']}", "-n", target.get("namespace", "default"), "-o", "json")
    filed = run_cli("diagnose", "--from", str(path), "-o", "json")
    assert live.code == filed.code, live.stderr
    assert finding_keys(live.json) == finding_keys(filed.json)
