"""When this command started: `--timeout` counts from here, not from when collection began.

Importing the Kubernetes and OCI clients and running the kubeconfig's credential plugin take a
second or more before the first request; a deadline counted from the first request would let
the process outlive `--timeout` by that much.
"""

from __future__ import annotations

import os
import time

_started: float | None = None


def mark_start(process: bool = False) -> None:
    """Called once per command, first thing (cli.main); `process`: count from the process's own
    start (the interpreter's start-up and imports count against --timeout too)."""
    global _started
    _started = time.perf_counter() - (_process_age() if process else 0.0)


def _process_age() -> float:
    """Seconds since this process started (Linux: /proc/self/stat); 0 when it cannot tell."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, min(5.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def forget_start() -> None:
    """The command is over (tests run several in one process)."""
    global _started
    _started = None


def command_started() -> float:
    """When the running command started; now, when nothing marked it (a library caller)."""
    return _started if _started is not None else time.perf_counter()
