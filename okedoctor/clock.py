"""When this command started: `--timeout` counts from here, not from when collection began.

Importing the Kubernetes and OCI clients and running the kubeconfig's credential plugin take a
second or more before the first request; a deadline counted from the first request would let
the process outlive `--timeout` by that much.
"""

from __future__ import annotations

import time

_started: float | None = None


def mark_start() -> None:
    """Called once per command, first thing (cli.main)."""
    global _started
    _started = time.perf_counter()


def forget_start() -> None:
    """The command is over (tests run several in one process)."""
    global _started
    _started = None


def command_started() -> float:
    """When the running command started; now, when nothing marked it (a library caller)."""
    return _started if _started is not None else time.perf_counter()
