"""Fixtures for the live-collection tests: a simulator per scenario, and the CLI run in-process."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any

import pytest

from okedoctor.cli import main


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def run_cli(*argv: str) -> CliRun:
    """`okedoctor ARGV` in this process; the exit code is what main() exits with."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return CliRun(code, out.getvalue(), err.getvalue())


def finding_keys(report: dict[str, Any]) -> list[tuple]:
    return sorted((f["code"], f["hop"], f["severity"], f["rootCause"], f["subject"]) for f in report["findings"])


@pytest.fixture
def sim_env(monkeypatch):
    """Start a Simulator for a snapshot and point this process's environment at it."""
    from okedoctor.sim import Simulator

    started = []

    def start(snapshot, workdir, **kwargs):
        sim = Simulator(snapshot, workdir, **kwargs)
        sim.start()
        started.append(sim)
        for key, value in sim.env.items():
            monkeypatch.setenv(key, value)
        for key in ("OCI_CLI_AUTH", "OCI_CLI_REGION", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            monkeypatch.delenv(key, raising=False)
        return sim

    yield start
    for sim in started:
        sim.stop()
    sys.stdout.flush()
