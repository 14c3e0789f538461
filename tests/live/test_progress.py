"""The live chain line: on a terminal's stderr while facts arrive, never in a pipe, never on stdout."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time

from okedoctor.facts import KUBERNETES, LIVE_INTERNET, OCI
from okedoctor.live.progress import chain_line
from tests.live.test_live_errors import healthy

OKEDOCTOR = [sys.executable, "-m", "okedoctor"]


class FakeEngine:
    started = 100.0

    def __init__(self, progress, requests):
        self._progress, self._requests = progress, requests

    def progress(self):
        return self._progress

    def requests(self):
        return self._requests


def test_the_line_shows_which_hops_are_read_and_which_are_awaited():
    engine = FakeEngine({KUBERNETES: (9, 9), OCI: (2, 5), LIVE_INTERNET: (0, 1)},
                        {"kubernetes": 14, "oci": 3, "internet": 0})
    line = chain_line(engine, now=102.34)
    assert line == ("reading  Internet … 0/1 ──▶ LB … 2/5 ──▶ NodePort … 2/5 ──▶ Node read ──▶ Pod read  2.3s  "
                    "kubernetes 14, oci 3, internet 0")
    assert chain_line(FakeEngine({}, {}), now=100.0).startswith("reading  Internet · ──▶ LB ·")


def _run_with_tty_stderr(argv: list[str]) -> tuple[int, str, str]:
    """Run okedoctor with stderr on a pseudo-terminal 200 columns wide and stdout on a pipe."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    proc = subprocess.Popen([*OKEDOCTOR, *argv], stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower closed: the process ended
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    code = proc.wait(timeout=60)
    os.close(leader)
    return code, out, b"".join(chunks).decode(errors="replace")


def test_a_slow_oci_api_is_visible_on_a_terminal_and_piped_output_is_unchanged(sim_env, tmp_path):
    sim_env(healthy(), tmp_path / "sim", faults=[{"api": "oci", "path": ".*", "delay_ms": 600}])
    started = time.perf_counter()
    code, out, tty = _run_with_tty_stderr(["diagnose", "svc/app", "--no-exec"])
    assert time.perf_counter() - started < 60
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tty)
    # While OCI answers slowly, the kube hops are read and the LB hop is still awaited.
    assert re.search(r"reading  Internet \S+( \d+/\d+)? ──▶ LB … \d+/\d+ ──▶ NodePort … \d+/\d+ ──▶ Node read ──▶ "
                     r"Pod read", plain), plain
    assert "reading" not in out and "verdict: ok" in out, out
    piped = subprocess.run([*OKEDOCTOR, "diagnose", "svc/app", "--no-exec"], capture_output=True, text=True,
                           timeout=60)
    assert piped.stderr == "" and code == piped.returncode == 0
    strip_timing = re.compile(r"  in \d+\.\d+s.*")
    assert strip_timing.sub("", piped.stdout) == strip_timing.sub("", out)
