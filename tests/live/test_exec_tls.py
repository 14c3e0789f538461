"""The in-pod probe's WebSocket TLS: one context per run, and the kubeconfig's CA still decides."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest
import yaml

from okedoctor.live.kube import make_api_client, resolve_kube_target
from okedoctor.live.kube_reads import ApiClientWire, Unreachable
from okedoctor.live.probe import argv_for
from okedoctor.sim.certs import make_tls
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR

EXEC = "/api/v1/namespaces/{ns}/pods/{pod}/exec"


def _running_pods(snapshot) -> list[tuple[str, str, str]]:
    pods = [o for o in snapshot.kubernetes if o.get("kind") == "Pod"
            and o.get("status", {}).get("phase") == "Running"]
    return [(p["metadata"]["namespace"], p["metadata"]["name"], p["spec"]["containers"][0]["name"]) for p in pods]


def _exec(wire: ApiClientWire, ns: str, pod: str, container: str):
    query = [("command", a) for a in argv_for("curl", 8080, "/", 2)] + [
        ("container", container), ("stderr", "true"), ("stdin", "false"), ("stdout", "true"), ("tty", "false")]
    return wire.exec(EXEC.format(ns=ns, pod=pod), query, 2.0, 10.0)


def _wire() -> ApiClientWire:
    return ApiClientWire(make_api_client(resolve_kube_target(None, None, None), pool_size=4))


def test_execs_of_a_run_share_one_tls_context(sim_env, tmp_path, monkeypatch):
    snapshot = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    sim_env(snapshot, tmp_path / "sim")
    pods = _running_pods(snapshot)
    assert len(pods) >= 2
    loads = []
    real_load = ssl.SSLContext.load_verify_locations
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations",
                        lambda self, *a, **k: (loads.append(k.get("cafile")), real_load(self, *a, **k))[1])
    wire = _wire()
    results = [_exec(wire, *p) for p in pods * 2]
    assert all(r.status.get("status") == "Success" for r in results), [r.status for r in results]
    # The exec sockets loaded the CA once between them (the GETs' urllib3 pool has its own).
    ca = wire.api_client.configuration.ssl_ca_cert
    assert loads.count(ca) == 1


def test_exec_with_a_wrong_ca_is_still_refused(sim_env, tmp_path, monkeypatch):
    snapshot = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    sim = sim_env(snapshot, tmp_path / "sim")
    (tmp_path / "other").mkdir()
    other = make_tls(tmp_path / "other", [])
    cfg = yaml.safe_load(Path(sim.env["KUBECONFIG"]).read_text())
    cfg["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(other.ca_pem).decode()
    Path(sim.env["KUBECONFIG"]).write_text(yaml.safe_dump(cfg))
    wire = _wire()
    ns, pod, container = _running_pods(snapshot)[0]
    for _ in range(2):  # the shared context too: the second exec is refused as the first was
        with pytest.raises(Unreachable, match="(?i)certificate verify failed"):
            _exec(wire, ns, pod, container)
