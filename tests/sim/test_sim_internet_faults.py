"""The internet listeners, fault injection, latency, the request log and `okedoctor sim serve`."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time

import httpx
import oci
import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from okedoctor.sim import Simulator
from tests.sim.conftest import healthy, read_exports, redirect, write_snapshot


def test_internet_answers_as_the_file_says(sim: Simulator):
    assert set(sim.env["OKEDOCTOR_INTERNET_REDIRECT"].split(",")) >= {
        f"203.0.113.10:80={redirect(sim, '203.0.113.10:80')}"}
    resp = httpx.get(f"http://{redirect(sim, '203.0.113.10:80')}/", timeout=2)
    assert (resp.status_code, resp.text) == (200, "ok")
    # Port 443 speaks TLS with the simulator's certificate (which names the public address too).
    tls = ssl.create_default_context(cafile=sim.ca_file)
    resp = httpx.get(f"https://{redirect(sim, '203.0.113.10:443')}/", verify=tls, timeout=2)
    assert (resp.status_code, resp.text) == (502, "bad gateway")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{redirect(sim, '203.0.113.11:80')}/", timeout=2)
    start = time.monotonic()
    with pytest.raises(httpx.ConnectTimeout):  # the packets are dropped: no handshake, as behind a firewall
        httpx.get(f"http://{redirect(sim, '203.0.113.12:80')}/", timeout=0.5)
    assert time.monotonic() - start < 2
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(f"http://{redirect(sim, '203.0.113.13:80')}/", timeout=2)
    seen = [r for r in sim.requests if r["api"] == "internet"]
    assert {"status": 200} in [{"status": r["status"]} for r in seen]
    assert {r.get("error") for r in seen} >= {"reset"}
    assert "timeout" not in {r.get("error") for r in seen}  # a dropped SYN never reaches the simulator


def test_recorded_tls_and_unreplayable_errors(tmp_path):
    snap = healthy()
    snap.live["internet"] = {"203.0.113.10:443": {"error": "tls", "tls": False},
                             "203.0.113.10:8443": {"status": 200, "body": "secure", "tls": True},
                             "203.0.113.10:80": {"error": "ProxyError"}}
    with Simulator(snap, tmp_path / "w") as sim:
        assert "203.0.113.10:80" not in sim.env["OKEDOCTOR_INTERNET_REDIRECT"]  # cannot be replayed
        with pytest.raises(httpx.ConnectError, match="(?i)ssl|tls|version"):
            httpx.get(f"https://{redirect(sim, '203.0.113.10:443')}/", verify=False, timeout=2)
        tls = ssl.create_default_context(cafile=sim.ca_file)
        assert httpx.get(f"https://{redirect(sim, '203.0.113.10:8443')}/", verify=tls).text == "secure"


def test_faults_from_arguments_and_from_the_file(tmp_path):
    snap = healthy()
    snap.extra["faults"] = [{"api": "oci", "path": "/subnets/", "status": 503, "times": 1}]
    faults = [{"api": "kubernetes", "path": r"/pods$", "status": 403},
              {"api": "oci", "path": "/vnics/", "status": 403},
              {"api": "oci", "path": "/instances/", "drop": True},
              {"api": "kubernetes", "path": "/nodes$", "delay_ms": 300}]
    log = tmp_path / "requests.jsonl"
    with Simulator(snap, tmp_path / "w", faults=faults, request_log=log) as sim:
        core = client.CoreV1Api(config.new_client_from_config(config_file=sim.env["KUBECONFIG"]))
        with pytest.raises(ApiException) as err:
            core.list_namespaced_pod("default")
        body = json.loads(err.value.body)
        assert err.value.status == 403 and body["reason"] == "Forbidden"
        assert body["message"] == ('pods is forbidden: User "ocid1.user.oc1..aaaaaaaaokedoctorsimuser" cannot '
                                   'list resource "pods" in API group "" in the namespace "default"')
        start = time.monotonic()
        assert len(core.list_node().items) == 2
        assert time.monotonic() - start >= 0.3

        cfg = oci.config.from_file(sim.env["OCI_CLI_CONFIG_FILE"], sim.env["OCI_CLI_PROFILE"])
        vn = oci.core.VirtualNetworkClient(cfg, service_endpoint=sim.env["OKEDOCTOR_OCI_ENDPOINT"],
                                           retry_strategy=oci.retry.NoneRetryStrategy(), timeout=(2, 2),
                                           circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy())
        subnet = "ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaalbsubnet"
        with pytest.raises(oci.exceptions.ServiceError) as oerr:
            vn.get_subnet(subnet)
        assert oerr.value.status == 503
        assert vn.get_subnet(subnet).data.id == subnet  # times: 1
        with pytest.raises(oci.exceptions.ServiceError) as oerr:
            vn.get_vnic("ocid1.vnic.oc1.ap-tokyo-1.aaaaaaaavnic1")
        assert (oerr.value.status, oerr.value.code) == (404, "NotAuthorizedOrNotFound")
        compute = oci.core.ComputeClient(cfg, service_endpoint=sim.env["OKEDOCTOR_OCI_ENDPOINT"],
                                         retry_strategy=oci.retry.NoneRetryStrategy(), timeout=(2, 2),
                                         circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy())
        with pytest.raises(oci.exceptions.RequestException):
            compute.get_instance("ocid1.instance.oc1.ap-tokyo-1.aaaaaaaanode1")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [{k: v for k, v in r.items()} for r in sim.requests]
    assert {"api", "method", "path", "query", "status"} <= set(lines[0])
    assert [r["status"] for r in lines if r["path"].endswith("/subnets/" + subnet)] == [503, 200]


def test_latency_applies_to_every_request(tmp_path):
    with Simulator(healthy(), tmp_path / "w", latency_ms=200) as sim:
        start = time.monotonic()
        resp = httpx.get(f"http://{redirect(sim, '203.0.113.10:80')}/")
        assert resp.status_code == 200 and time.monotonic() - start >= 0.2
        start = time.monotonic()
        assert httpx.get(sim.env["OKEDOCTOR_OCI_ENDPOINT"] + "/20160918/vnics/x").status_code == 401
        assert time.monotonic() - start >= 0.2


def test_sim_serve_prints_exports_and_stops_on_sigterm(tmp_path):
    scenario = write_snapshot(healthy(), tmp_path / "s.yaml")
    log = tmp_path / "log.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "okedoctor", "sim", "serve", str(scenario), "--request-log",
                             str(log), "--workdir", str(tmp_path / "w"), "--fault",
                             "api=internet,path=/down,status=500"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env = read_exports(proc)
        assert set(env) == {"KUBECONFIG", "OCI_CLI_CONFIG_FILE", "OCI_CLI_PROFILE", "OCI_CLI_RC_FILE",
                            "OKEDOCTOR_OCI_ENDPOINT", "OKEDOCTOR_INTERNET_REDIRECT", "NO_PROXY",
                            "OKEDOCTOR_DNS", "OKEDOCTOR_INTERNET_CA"}
        assert env["OKEDOCTOR_DNS"] == ""  # the file resolves no name: nothing resolves, nothing is asked
        # The oci CLI's rc file sends a plain `oci ...` in that shell to the simulator too.
        rc = (tmp_path / "w" / "oci_cli_rc").read_text()
        assert env["OCI_CLI_RC_FILE"] == str(tmp_path / "w" / "oci_cli_rc")
        assert rc == f"[DEFAULT]\nendpoint = {env['OKEDOCTOR_OCI_ENDPOINT']}\n"
        target = env["OKEDOCTOR_INTERNET_REDIRECT"].split("=", 1)[1]
        assert httpx.get(f"http://{target}/down").status_code == 500
        assert httpx.get(f"http://{target}/").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert [json.loads(x)["status"] for x in log.read_text().splitlines()] == [500, 200]
    assert (tmp_path / "w" / "kubeconfig").exists()  # --workdir is kept for the user


def test_sim_serve_bad_file_is_a_one_line_usage_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: okedoctor/v1\nkind: Scenario\nlive: {internet: {'203.0.113.1': {error: refused}}}\n")
    tools = tmp_path / "tools.yaml"
    tools.write_text("apiVersion: okedoctor/v1\nkind: Scenario\nlive: {containers: {'ns/pod/c': {tools: curl}}}\n")
    for path in (bad, tools, tmp_path / "missing.yaml"):
        out = subprocess.run([sys.executable, "-m", "okedoctor", "sim", "serve", str(path)], capture_output=True,
                             text=True, timeout=30, env={**os.environ})
        assert out.returncode == 64 and out.stdout == ""
        assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("okedoctor: ")
