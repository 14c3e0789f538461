"""A generated 60-Service cluster: each Service gets the verdict and root-cause hop of its incident."""

from __future__ import annotations

import json

import pytest
import yaml

from okedoctor.cli import main
from okedoctor.fleet.generate import INCIDENTS, generate_fleet
from okedoctor.fleet.run import diagnose_fleet, exposed_services
from okedoctor.snapshot import dump_snapshot


@pytest.fixture(scope="module")
def fleet():
    return generate_fleet(services=60, nodes=4)


def test_every_service_gets_its_verdict_and_root_hop(fleet, builtin_registry):
    snap, expected = fleet
    report = diagnose_fleet(snap, builtin_registry, exposed_services(snap, None, False))
    assert len(report.services) == 60
    wrong = []
    for r in report.services:
        want = expected[f"{r.target.namespace}/{r.target.service}"]
        hops = sorted({f.hop.value for f in r.root_causes})
        if r.verdict.value != want.verdict or hops != ([want.root_hop] if want.root_hop else []):
            wrong.append((r.target.service, want, r.verdict.value, [(f.code, f.hop.value) for f in r.root_causes]))
    assert not wrong, wrong
    assert {e.incident for e in expected.values()} == set(INCIDENTS)
    assert report.verdict.value == "failure"


def test_report_from_the_generated_file_exits_with_the_worst_verdict(fleet, tmp_path, capsys):
    snap, expected = fleet
    path = tmp_path / "fleet.yaml"
    dump_snapshot(snap, path)
    assert yaml.safe_load(path.read_text())["kind"] == "Snapshot"
    with pytest.raises(SystemExit) as exc:
        main(["report", "--from", str(path), "-n", "team-0", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert {s["target"]["namespace"] for s in doc["services"]} == {"team-0"}
    want = [expected[f"team-0/{s['target']['service']}"].verdict for s in doc["services"]]
    assert [s["verdict"] for s in doc["services"]] == want
    assert exc.value.code == (2 if "failure" in want else 0)

