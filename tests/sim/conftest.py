"""Fixtures for the simulator tests: scenarios derived from healthy-nlb, and running simulators."""

from __future__ import annotations

import copy
import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from okedoctor.sim import Simulator
from okedoctor.snapshot import Snapshot, load_snapshot
from tests.conftest import SCENARIOS_DIR

POD_A = "app-7d9f8b6c5d-k2x8p"
POD_B = "app-7d9f8b6c5d-q7w4n"
KEY_A = f"default/{POD_A}/web"
KEY_B = f"default/{POD_B}/web"


def read_exports(proc: subprocess.Popen) -> dict[str, str]:
    """The `export NAME=value` lines a running `okedoctor sim serve` printed, however many there are.

    It writes them, flushes, then says "# okedoctor sim: serving ..." on stderr; once that line
    is read every export is in the pipe, so reading what is there cannot block.
    """
    for line in iter(proc.stderr.readline, ""):
        if line.startswith("# okedoctor sim: serving"):
            break
    else:
        raise AssertionError(f"sim serve ended before serving (exit {proc.wait()})")
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    text = os.read(fd, 1 << 20).decode()
    out = {}
    for line in text.splitlines():
        assert line.startswith("export "), line
        name, _, value = line[len("export "):].partition("=")
        out[name] = shlex.split(value)[0] if value else ""
    return out


def healthy() -> Snapshot:
    return load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")


def obj(snap: Snapshot, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in snap.kubernetes if o["kind"] == kind and o["metadata"]["name"] == name)


def incident() -> Snapshot:
    """healthy-nlb plus what an incident leaves behind: a restarted container with a previous log,
    events, a refused and a hanging port, a container without curl, and internet answers."""
    snap = healthy()
    pod = obj(snap, "Pod", POD_A)
    cstatus = pod["status"]["containerStatuses"][0]
    cstatus["restartCount"] = 1
    cstatus["lastState"] = {"terminated": {
        "exitCode": 137, "reason": "OOMKilled", "startedAt": "2026-11-01T09:00:02Z",
        "finishedAt": "2026-11-01T09:00:03Z",
        "containerID": "cri-o://9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"}}
    live_a = snap.live["containers"][KEY_A]
    live_a["previousLogs"] = "2026-11-01T09:00:02Z INFO starting web 1.4.2\nfatal: out of memory\n"
    live_a["tools"] = ["sh", "bash", "curl", "wget", "python3"]
    live_a["localhost"].update({"8081": {"status": 503, "body": "draining"}, "9090": {"error": "refused"},
                                "9091": {"error": "timeout"}, "9092": {"error": "reset"}})
    snap.live["containers"][KEY_B]["tools"] = ["sh"]  # a slim image: no curl, no wget
    for i, (name, uid) in enumerate(((POD_A, pod["metadata"]["uid"]),
                                     (POD_B, obj(snap, "Pod", POD_B)["metadata"]["uid"]))):
        snap.kubernetes.append(copy.deepcopy({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.1879a2b3c4d5e6f{i}", "namespace": "default",
                         "uid": f"0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4{i}", "resourceVersion": f"12050{i}",
                         "creationTimestamp": "2026-11-01T09:00:03Z"},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": name, "namespace": "default",
                               "uid": uid, "fieldPath": "spec.containers{web}"},
            "reason": "BackOff" if i == 0 else "Pulled",
            "message": "Back-off restarting failed container web" if i == 0 else "Image pulled",
            "source": {"component": "kubelet", "host": "10.0.10.5"},
            "firstTimestamp": "2026-11-01T09:00:03Z", "lastTimestamp": "2026-11-01T09:00:03Z",
            "count": 1, "type": "Warning" if i == 0 else "Normal",
            "reportingComponent": "kubelet", "reportingInstance": "10.0.10.5"}))
    snap.live["internet"] = {"203.0.113.10:80": {"status": 200, "body": "ok"},
                             "203.0.113.10:443": {"status": 502, "body": "bad gateway"},
                             "203.0.113.11:80": {"error": "refused"},
                             "203.0.113.12:80": {"error": "timeout"},
                             "203.0.113.13:80": {"error": "reset"}}
    return snap


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(incident(), tmp_path_factory.mktemp("sim")) as running:
        yield running


def redirect(sim: Simulator, address: str) -> str:
    pairs = dict(p.split("=") for p in sim.env["OKEDOCTOR_INTERNET_REDIRECT"].split(","))
    return pairs[address]


def write_snapshot(snap: Snapshot, path: Path) -> Path:
    from okedoctor.snapshot import dump_snapshot

    dump_snapshot(snap, path)
    return path


def direct_client(sim: Simulator):
    """An ApiClient holding the token itself. The kubeconfig's exec plugin is tested elsewhere; the
    Python client re-runs it before every request (it treats a token as expired 5 minutes early,
    and OKE tokens live 4), which would dominate the time of tests that make many requests."""
    from kubernetes import client

    conf = client.Configuration()
    conf.host = sim.kube_url
    conf.ssl_ca_cert = str(sim.ca_file)
    conf.api_key = {"BearerToken": sim.token}
    conf.api_key_prefix = {"BearerToken": "Bearer"}
    return client.ApiClient(conf)


def fast_load(path: Path) -> Snapshot:
    """load_snapshot with libyaml when available (the scenarios are big; pure-Python YAML is slow)."""
    import yaml

    from okedoctor.snapshot import snapshot_from_dict

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return snapshot_from_dict(yaml.load(path.read_text(encoding="utf-8"), Loader=loader), str(path))
