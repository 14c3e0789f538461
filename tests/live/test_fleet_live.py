"""`okedoctor report` live: every exposed Service in one shared collection pass."""

from __future__ import annotations

import json
from collections import Counter

from okedoctor.fleet.generate import generate_fleet
from okedoctor.snapshot import dump_snapshot
from tests.live.conftest import run_cli


def _verdicts(report: dict) -> dict[str, str]:
    return {f"{s['target']['namespace']}/{s['target']['service']}": s["verdict"] for s in report["services"]}


def test_report_all_namespaces_matches_the_file_and_shares_reads(sim_env, tmp_path):
    snap, expected = generate_fleet(services=10, nodes=3)
    path = tmp_path / "fleet.yaml"
    dump_snapshot(snap, path)
    sim = sim_env(snap, tmp_path / "sim")
    live = run_cli("report", "-A", "-o", "json", "--timeout", "60")
    from_file = run_cli("report", "--from", str(path), "-o", "json")
    assert live.code == from_file.code, live.stderr
    assert _verdicts(live.json) == _verdicts(from_file.json) == {k: e.verdict for k, e in expected.items()}
    paths = Counter(r["path"] for r in sim.requests if r["api"] == "kubernetes")
    # Shared reads: the nodes once, the Services once, each namespace's Deployments once.
    assert paths["/api/v1/nodes"] == 1 and paths["/api/v1/services"] == 1
    assert max(n for p, n in paths.items() if p.endswith("/deployments")) == 1
    assert all(r["method"] in ("GET", "") for r in sim.requests)


def test_report_one_namespace(sim_env, tmp_path):
    snap, expected = generate_fleet(services=10, nodes=3)
    sim_env(snap, tmp_path / "sim")
    live = run_cli("report", "-n", "team-0", "-o", "json", "--timeout", "60")
    assert set(_verdicts(live.json)) == {k for k in expected if k.startswith("team-0/")}


def test_diagnose_one_service_outside_the_default_namespace(sim_env, tmp_path):
    snap, expected = generate_fleet(services=10, nodes=3)
    path = tmp_path / "fleet.yaml"
    dump_snapshot(snap, path)
    sim = sim_env(snap, tmp_path / "sim")
    for name in ("team-3/svc-003", "team-0/svc-000"):
        ns, svc = name.split("/")
        live = run_cli("diagnose", f"svc/{svc}", "-n", ns, "-o", "json")
        from_file = run_cli("diagnose", f"svc/{svc}", "-n", ns, "--from", str(path), "-o", "json")
        assert live.json["verdict"] == from_file.json["verdict"] == expected[name].verdict
        assert sorted(f["code"] for f in live.json["findings"]) == sorted(f["code"] for f in from_file.json["findings"])
    # Node events live in the default namespace: read there with a field selector.
    assert any(r["path"] == "/api/v1/namespaces/default/events" and "involvedObject.kind" in r["query"]
               for r in sim.requests)


def test_report_over_60_services_matches_and_reads_no_url_twice(sim_env, tmp_path):
    """60 Services live: the verdicts of the file, and no Kubernetes URL read twice in the run."""
    snap, expected = generate_fleet(services=60, nodes=4)
    sim = sim_env(snap, tmp_path / "sim")
    live = run_cli("report", "-A", "-o", "json", "--timeout", "120")
    assert live.code == 2, live.stderr
    got = {f"{s['target']['namespace']}/{s['target']['service']}": s["verdict"] for s in live.json["services"]}
    assert got == {k: e.verdict for k, e in expected.items()}
    reads = Counter((r["path"], json.dumps(r.get("query"), sort_keys=True))
                    for r in sim.requests if r["api"] == "kubernetes" and r["method"] == "GET")
    assert [k for k, n in reads.items() if n > 1] == []
    assert all(r["method"] == "GET" for r in sim.requests)
    assert live.json["stats"]["api_requests"]["kubernetes"] == sum(reads.values())
