"""The one-exec probe script in a real POSIX shell, with a real tool, against a real local server.

The simulator interprets PROBE_SH (tests/sim/test_sim_shell.py); this proves the script itself
picks the tool the image has and that its output parses to the same answer in a real sh.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from okedoctor import probe_scripts as ps
from okedoctor.live.probe import ExecResult, parse_probe

SH = shutil.which("sh")


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        body = b"ok"
        self.send_response(503 if self.path == "/down" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tool_path(tool: str) -> str | None:
    if tool == "python3":
        return os.path.realpath(sys.executable)  # not a pyenv shim, which needs bash
    found = shutil.which(tool)
    return os.path.realpath(found) if found else None


@pytest.mark.skipif(SH is None, reason="no sh on this machine")
@pytest.mark.parametrize("tool", ["curl", "wget", "python3", "bash"])
def test_a_real_sh_runs_the_tool_the_image_has(tool, server, tmp_path):
    path = _tool_path(tool)
    if path is None:
        pytest.skip(f"no {tool} on this machine")
    (tmp_path / tool).symlink_to(path)
    refused = _free_port()
    for port, where, want in ((server, "/", {"status": 200}), (server, "/down", {"status": 503}),
                              (refused, "/", {"error": "refused"})):
        run = subprocess.run([SH, *ps.probe_sh_argv(port, where, 3, False)[1:]], capture_output=True, text=True,
                             env={"PATH": str(tmp_path)}, timeout=20)
        found, missing, stderr = ps.split_found(run.stderr)
        assert found == tool and missing == list(ps.TOOL_ORDER[:ps.TOOL_ORDER.index(tool)])
        status = None if run.returncode == 0 else {
            "status": "Failure", "details": {"causes": [{"reason": "ExitCode", "message": str(run.returncode)}]}}
        answer = parse_probe(tool, ExecResult(run.stdout, stderr, status))
        if want == {"error": "refused"} and tool == "wget" and _gnu_wget(path):
            want = {"error": "wget exit 4"}  # GNU wget -q says nothing, only exit 4 (busybox's wget names it)
        assert {k: answer[k] for k in want} == want, (port, where, answer)


def _gnu_wget(path: str) -> bool:
    return "GNU Wget" in subprocess.run([path, "--version"], capture_output=True, text=True).stdout


@pytest.mark.skipif(SH is None, reason="no sh on this machine")
def test_a_real_sh_without_any_tool_says_so(tmp_path):
    run = subprocess.run([SH, *ps.probe_sh_argv(80, "/", 3, True)[1:]], capture_output=True, text=True,
                         env={"PATH": str(tmp_path)}, timeout=20)
    assert run.returncode == 127 and ps.split_found(run.stderr)[:2] == ("", ["curl", "wget", "python3"])
