"""An app that accepts but never answers is reported as a timeout after APP_WAIT, not after the
tool's own timeout (issue #15: one diagnosis in about a second even when something hangs)."""

from __future__ import annotations

import time

import pytest

from okedoctor.live.kube_reads import _run_until
from okedoctor.live.probe import APP_WAIT, ExecResult, parse_probe, tool_timeout
from okedoctor.probe_scripts import FOUND_MARK
from okedoctor.sim import shell
from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths
from tests.live.conftest import run_cli


class _Hanging:
    """A WebSocket whose command printed `stderr` at once and then says nothing, never closing."""

    def __init__(self, stderr: str):
        self.stderr, self.waited = stderr, 0.0

    def is_open(self) -> bool:
        return True

    def peek_channel(self, channel: int, timeout: float = 0) -> str:
        return self.stderr if channel == 2 else ""

    def update(self, timeout: float = 0) -> None:
        time.sleep(min(timeout, 0.02))


def test_the_wait_starts_when_the_tool_runs_and_is_bounded_without_it():
    started = time.monotonic()
    _run_until(_Hanging(f"{FOUND_MARK} curl; missing:\n"), 5.0, (FOUND_MARK, 0.2))
    marked = time.monotonic() - started
    started = time.monotonic()
    _run_until(_Hanging(""), 0.4, (FOUND_MARK, 0.1))  # sh has not started the tool: only the whole wait
    unmarked = time.monotonic() - started
    assert 0.2 <= marked < 1.0
    assert 0.4 <= unmarked < 1.2


def test_a_cut_exec_is_a_timeout_whatever_it_printed():
    assert parse_probe("sh", ExecResult("", f"{FOUND_MARK} curl; missing:\n", None, cut=True)) == {"error": "timeout"}
    assert parse_probe("wget", ExecResult("partial", "", None, cut=True)) == {"error": "timeout"}
    # an exec that ended without a status is not a timeout
    assert parse_probe("curl", ExecResult("", "", None)) != {"error": "timeout"}


@pytest.mark.parametrize(("wait", "seconds"), [(0.5, 1), (1.0, 1), (1.2, 2), (0.1, 1)])
def test_the_tools_own_timeout_is_whole_seconds_and_covers_the_wait(wait, seconds):
    assert tool_timeout(wait) == seconds


def test_a_hung_app_is_reported_as_a_timeout_after_the_wait(sim_env, tmp_path):
    snap = load_snapshot(next(p for p in scenario_paths() if p.stem == "app-hangs"))
    sim_env(snap, tmp_path / "sim")
    run = run_cli("diagnose", "svc/app", "-o", "json", "--timeout", "30")
    finding = next(f for f in run.json["findings"] if f["code"] == "OKD-POD-015")
    assert finding["rootCause"] and "timed out" in finding["title"]
    assert finding["evidence"]["probe"] == "timeout"
    # The simulator's tool gives up after shell.MAX_DELAY (1 s): the probe stopped waiting first,
    # once the app had had APP_WAIT.
    assert shell.MAX_DELAY == 1.0
    assert APP_WAIT * 1000 <= finding["evidence"]["elapsedMs"] < shell.MAX_DELAY * 1000
