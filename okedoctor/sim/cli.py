"""`okedoctor sim serve FILE`: serve a scenario or snapshot as a simulated OKE on loopback."""

from __future__ import annotations

import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

import click

from okedoctor.errors import UsageError


@click.group()
def sim() -> None:
    """Serve a scenario or snapshot as a simulated OKE on loopback."""


@sim.command("serve")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Add this much latency to every request (for benchmarks).")
@click.option("--request-log", type=click.Path(dir_okay=False),
              help="Append one JSON object per request to FILE.")
@click.option("--fault", "faults", multiple=True, metavar="SPEC",
              help="Inject a fault: api=kubernetes|oci|internet,path=REGEX,status=N[,retry_after=S][,delay_ms=N]"
                   "[,drop=true][,times=N][,mode=reset|hang|trickle-headers|trickle-body|html|garbage|redirect]"
                   "[,trickle_ms=N][,location=URL]. Repeatable.")
@click.option("--workdir", type=click.Path(file_okay=False),
              help="Where to write the kubeconfig, OCI config and keys (default: a temporary directory).")
def serve(file: str, latency_ms: int, request_log: str | None, faults: tuple[str, ...],
          workdir: str | None) -> None:
    """Print `export NAME=value` lines for the simulator's settings, then serve until Ctrl-C/SIGTERM.

    Use it as: eval "$(okedoctor sim serve FILE &)"; or run it in one terminal and paste the
    exports into another.
    """
    from okedoctor.sim.httpbase import Fault
    from okedoctor.sim.server import Simulator
    from okedoctor.snapshot import load_snapshot

    if not Path(file).is_file():
        raise UsageError(f"sim serve: no such scenario or snapshot file: {file}")
    snap = load_snapshot(file)
    parsed = [Fault.parse_spec(spec) for spec in faults]
    if request_log:
        try:
            Path(request_log).touch()
        except OSError as exc:
            raise UsageError(f"cannot write the request log {request_log}: {exc.strerror}") from None
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="okedoctor-sim-")
        workdir = tmp.name
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with Simulator(snap, Path(workdir), latency_ms=latency_ms, request_log=request_log,
                       faults=parsed, keep_requests=False) as simulator:
            for name, value in simulator.env.items():
                click.echo(f"export {name}={shlex.quote(value)}")
            sys.stdout.flush()
            click.echo(f"# okedoctor sim: serving {file}; Kubernetes API {simulator.kube_url}, OCI API "
                       f"{simulator.oci_url}, CA {simulator.ca_file}. Ctrl-C or SIGTERM stops it.", err=True)
            while not stop.wait(0.5):
                pass
    finally:
        if tmp is not None:
            tmp.cleanup()
