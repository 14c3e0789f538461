"""The test session runs in a network namespace with loopback only (tests/conftest.py), so any
packet meant for anywhere but 127.0.0.0/8 fails a test at once instead of leaving the machine."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, in_ci, loopback_only

isolated = pytest.mark.skipif(not loopback_only() and not in_ci(),
                              reason="not isolated (no privilege to unshare the network namespace)")


@isolated
def test_the_session_sees_loopback_only_and_a_public_address_is_unreachable_at_once():
    assert [name for _, name in socket.if_nameindex()] == ["lo"]
    started = time.monotonic()
    with socket.socket() as s, pytest.raises(OSError) as exc:
        s.connect(("203.0.113.10", 80))
    assert exc.value.errno == errno.ENETUNREACH
    assert time.monotonic() - started < 1.0
    with socket.create_server(("127.0.0.1", 0)) as server:  # loopback works (lo is up)
        socket.create_connection(server.getsockname(), timeout=2).close()


@isolated
def test_subprocesses_inherit_the_namespace():
    code = ("import socket, errno\n"
            "names = [n for _, n in socket.if_nameindex()]\n"
            "assert names == ['lo'], names  # never try the connect outside the namespace\n"
            "try:\n    socket.socket().connect(('203.0.113.10', 80))\n"
            "except OSError as e:\n    print(names, errno.errorcode[e.errno])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "['lo'] ENETUNREACH", out.stderr


# A thread started before the session makes the isolation impossible (unshare moves one thread).
_SESSION_WITH_A_THREAD = """
import sys, threading, pytest
threading.Thread(target=threading.Event().wait, daemon=True).start()
sys.exit(pytest.main(["-p", "no:cacheprovider", "tests/test_netns.py", "-k", "inherit"]))
"""


@pytest.mark.parametrize("ci", ["true", None])
def test_a_session_that_cannot_isolate_fails_in_ci_and_warns_once_elsewhere(ci):
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci else {})
    out = subprocess.run([sys.executable, "-c", _SESSION_WITH_A_THREAD], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=120)
    said = out.stdout + out.stderr
    assert "could not enter a loopback-only network namespace (2 threads already run" in said
    if ci:
        assert out.returncode == pytest.ExitCode.INTERNAL_ERROR and "CI=true requires the isolation" in said
        assert "passed" not in said and "skipped" not in said  # no test ran
    else:
        assert out.returncode == 0, said
        assert said.count("WARNING: okedoctor tests: could not enter") == 1
