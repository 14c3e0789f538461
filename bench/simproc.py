"""The simulator as a user runs it, for the bench scripts: `okedoctor sim serve` in its own process."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

# A safety belt for the real CLIs a bench runs: were an endpoint setting ignored, the request would
# go to this dead loopback proxy and fail at once instead of leaving the machine (the simulator's
# exports name its own addresses in NO_PROXY). curl ignores the upper-case HTTP_PROXY, so a probe
# pointed at the simulator with --connect-to is not sent to the proxy.
DEAD_PROXY = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


@contextlib.contextmanager
def sim_serve(snapshot: Path, workdir: Path, latency_ms: int = 0, log: Path | None = None,
              faults: tuple[str, ...] = ()) -> Iterator[dict[str, str]]:
    """Serve `snapshot`; yields the environment its `export` lines set (kubeconfig, OCI config...)."""
    cmd = [sys.executable, "-m", "okedoctor", "sim", "serve", str(snapshot), "--workdir", str(workdir),
           "--latency-ms", str(latency_ms)]
    cmd += ["--request-log", str(log)] if log else []
    for fault in faults:
        cmd += ["--fault", fault]
    with _serving(cmd) as env:
        yield env


@contextlib.contextmanager
def fleet_serve(services: int, nodes: int, pods_per_service: int, workdir: Path, latency_ms: int,
                log: Path) -> Iterator[dict[str, str]]:
    """Serve a generated fleet from memory (bench/fleetsim.py): for one too large for a file."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).with_name("fleetsim.py")), str(services), str(nodes),
           str(pods_per_service), str(workdir), str(latency_ms), str(log)]
    with _serving(cmd) as env:
        yield env


@contextlib.contextmanager
def _serving(cmd: list[str]) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        env: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                env[key] = value.strip("'\"")
                if key == "NO_PROXY":  # the last export: the servers are up
                    break
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def ensure_oci_cli(root: Path) -> str:
    """The real oci CLI in root/.venv-oci, installed there from the registry when missing."""
    cli = root / ".venv-oci" / "bin" / "oci"
    if not cli.exists():
        subprocess.run([sys.executable, "-m", "venv", str(root / ".venv-oci")], check=True)
        subprocess.run([str(root / ".venv-oci" / "bin" / "pip"), "install", "-q", "oci-cli"], check=True)
    return str(cli)
