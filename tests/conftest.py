"""Shared fixtures: the shipped scenarios, and a registry without third-party plugins.

The session runs in its own network namespace that has only loopback (see `isolate_network`),
so a test that sends a packet anywhere but 127.0.0.0/8 fails instead of leaving the machine.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import struct
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = ROOT / "okedoctor" / "scenarios"

# Tests must not pick up whatever plugins happen to be installed on the machine, nor proxies.
os.environ.setdefault("OKEDOCTOR_DISABLE_PLUGIN_AUTOLOAD", "1")
for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"


def scenario_paths() -> list[Path]:
    return sorted(SCENARIOS_DIR.glob("*.yaml"))


@pytest.fixture(scope="session")
def builtin_registry():
    from okedoctor.registry import load_registry

    return load_registry(entry_points_enabled=False)


# ---- a loopback-only network namespace for the whole session ------------------------------------

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def loopback_only() -> bool:
    """True when this process sees no network interface but `lo`."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def _loopback_up() -> None:
    """`ip link set lo up`, without needing iproute2: a new namespace starts with lo down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def isolate_network() -> str | None:
    """Move this process (and every thread and subprocess it starts later) into a new network
    namespace with loopback only. None on success, else why not.

    unshare(CLONE_NEWNET) moves the calling thread only, so it must run before any other thread
    exists; os.unshare is Python 3.12+, hence ctypes.
    """
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else threading.active_count()
    if threads != 1:
        return f"{threads} threads already run (unshare moves only the calling one)"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            return f"unshare(CLONE_NEWNET): {os.strerror(code)} ({errno.errorcode.get(code, code)})"
        _loopback_up()
    except (OSError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if not loopback_only():
        return f"interfaces other than lo in the new namespace: {socket.if_nameindex()}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    why = isolate_network()
    if why is None:
        return
    message = (f"okedoctor tests: could not enter a loopback-only network namespace ({why}); "
               "run as root (or under `unshare -rn`) to guard against packets leaving the machine")
    if in_ci():
        pytest.exit(f"{message}. CI=true requires the isolation.", returncode=pytest.ExitCode.INTERNAL_ERROR)
    print(f"WARNING: {message}. Running without it.", file=sys.stderr)


def run_main(argv, capsys):
    """`okedoctor ARGV` in this process: (exit code, stdout, stderr)."""
    from okedoctor.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err
