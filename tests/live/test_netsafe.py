"""Under the simulator nothing leaves loopback: a public address without a `live.internet` entry
is never contacted, and is reported as not observed, exactly as `--from` the same file does."""

from __future__ import annotations

import ipaddress
import sys
import threading

import pytest

from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import finding_keys, run_cli

_connects: list[tuple] = []
_recording = threading.Event()


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect" and _recording.is_set():
        _connects.append(args[1])


sys.addaudithook(_audit)  # process-wide and permanent; it only records while a test asks it to


@pytest.fixture
def outside_connects():
    """Every connect() this process attempts to a non-loopback address while the test runs."""
    _connects.clear()
    _recording.set()
    yield lambda: [a for a in _connects
                   if isinstance(a, tuple) and not ipaddress.ip_address(a[0].split("%")[0]).is_loopback]
    _recording.clear()


def _without_internet(tmp_path):
    from okedoctor.snapshot import dump_snapshot

    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    del snap.live["internet"]
    path = tmp_path / "no-internet.yaml"
    dump_snapshot(snap, path)
    return path


def _internet_skips(report: dict) -> list[tuple]:
    return sorted((s["code"], s["kind"], s["reason"]) for s in report["skipped"] if s["hop"] == "internet")


def test_an_address_without_a_live_internet_entry_is_never_contacted(sim_env, tmp_path, outside_connects):
    path = _without_internet(tmp_path)
    snap = load_snapshot(path)
    from_file = run_cli("diagnose", "--from", str(path), "-o", "json")
    sim = sim_env(snap, tmp_path / "sim")
    assert sim.env["OKEDOCTOR_INTERNET_REDIRECT"] == ""  # set, and empty: contact nothing
    live = run_cli("diagnose", "svc/app", "-o", "json", "--timeout", "30")
    snapshot = run_cli("snapshot", "svc/app", "-f", str(tmp_path / "live.yaml"))
    report = live.json
    assert outside_connects() == []
    assert (live.code, finding_keys(report)) == (from_file.code, finding_keys(from_file.json))
    # Not observed: the internet hop is unknown (exit 3), never a false OKD-INET-001 (exit 2).
    assert (live.code, report["hops"]["internet"]) == (3, "unknown") == (from_file.code,
                                                                         from_file.json["hops"]["internet"])
    assert not [f for f in report["findings"] if f["hop"] == "internet"]
    assert _internet_skips(report) == _internet_skips(from_file.json) != []
    assert snapshot.code == 0, snapshot.stderr
    assert "internet" not in load_snapshot(tmp_path / "live.yaml").live
    assert not [r for r in sim.requests if r["api"] == "internet"]


def test_an_empty_redirect_option_is_an_empty_map_not_a_missing_one(sim_env, tmp_path, monkeypatch,
                                                                    outside_connects):
    path = _without_internet(tmp_path)
    sim_env(load_snapshot(path), tmp_path / "sim")
    monkeypatch.delenv("OKEDOCTOR_INTERNET_REDIRECT")
    live = run_cli("diagnose", "svc/app", "-o", "json", "--internet-redirect", "")
    assert (live.code, live.json["hops"]["internet"]) == (3, "unknown"), live.stderr
    assert not [f for f in live.json["findings"] if f["hop"] == "internet"]
    assert [s["code"] for s in live.json["skipped"] if s["hop"] == "internet"]
    assert outside_connects() == []


def test_redirect_unset_empty_and_set_are_three_different_things():
    from okedoctor.live.internet import parse_redirect, probe_address

    assert parse_redirect(None) is None  # no map: the public addresses themselves are probed
    assert parse_redirect("") == {}  # an empty map: nothing is contacted
    assert probe_address("203.0.113.10:80", 0.5, parse_redirect(""), tls=False) is None
