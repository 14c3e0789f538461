"""The installed kubectl against the simulator: what it prints must match the scenario file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from okedoctor.sim import Simulator
from tests.sim.conftest import KEY_A, POD_A, POD_B, healthy, incident, obj

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed here")


@pytest.fixture(scope="module")
def kubectl(sim: Simulator, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, **sim.env, "HOME": str(home)}
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env.pop(var, None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, "--cache-dir", str(home / "cache"), *args], env=env,
                              capture_output=True, text=True, timeout=30)

    return run


def table(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def test_get_pods_json_returns_the_files_objects(kubectl):
    out = kubectl("get", "pods", "-n", "default", "-o", "json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["items"]
    want = incident()
    assert items == [obj(want, "Pod", POD_A), obj(want, "Pod", POD_B)]


def test_get_pods_prints_ready_status_and_restarts(kubectl):
    out = kubectl("get", "pods")
    assert out.returncode == 0, out.stderr
    rows = table(out.stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name[POD_A][1:4] == ["1/1", "Running", "1"]  # one restart, then "(Nd ago)"
    assert by_name[POD_A][4].startswith("(") and by_name[POD_A][5] == "ago)"
    assert by_name[POD_B][1:4] == ["1/1", "Running", "0"]


def test_get_svc_and_endpoints(kubectl):
    out = kubectl("get", "svc,endpoints", "-n", "default")
    assert out.returncode == 0, out.stderr
    rows = {r[0]: r for r in table(out.stdout) if r and r[0] != "NAME"}
    assert rows["service/app"][1:5] == ["LoadBalancer", "10.96.120.15", "203.0.113.10", "80:31880/TCP"]
    assert rows["endpoints/app"][1] == "10.244.0.12:8080,10.244.1.17:8080"


def test_describe_pod_shows_its_own_events_only(kubectl):
    out = kubectl("describe", "pod", POD_A)
    assert out.returncode == 0, out.stderr
    assert "Node:             10.0.10.5/10.0.10.5" in out.stdout
    assert "Last State:     Terminated" in out.stdout and "OOMKilled" in out.stdout
    assert "Back-off restarting failed container web" in out.stdout
    assert "Image pulled" not in out.stdout  # the other pod's event: the field selector filtered it


def test_logs_current_and_previous(kubectl):
    live = incident().live["containers"]
    out = kubectl("logs", POD_A)
    assert out.returncode == 0 and out.stdout == live[KEY_A]["logs"]
    out = kubectl("logs", POD_A, "--previous")
    assert out.returncode == 0 and out.stdout == live[KEY_A]["previousLogs"]
    out = kubectl("logs", POD_A, "--tail=1")
    assert out.stdout == live[KEY_A]["logs"].splitlines(keepends=True)[-1]


def test_logs_previous_without_a_terminated_container_is_the_real_400(kubectl):
    out = kubectl("logs", POD_B, "--previous")
    assert out.returncode == 1
    assert out.stderr.strip() == (f'Error from server (BadRequest): previous terminated container "web" '
                                  f'in pod "{POD_B}" not found')


def test_exec_curl_prints_the_files_answer(kubectl):
    out = kubectl("exec", POD_A, "--", "curl", "-s", "localhost:8080")
    assert (out.returncode, out.stdout) == (0, "ok")
    out = kubectl("exec", POD_A, "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "localhost:8081")
    assert (out.returncode, out.stdout) == (0, "503")


def test_exec_failures_look_like_the_real_ones(kubectl):
    out = kubectl("exec", POD_A, "--", "sh", "-c", "curl -sS http://localhost:9090/")
    assert out.returncode == 7
    assert "curl: (7) Failed to connect to localhost port 9090" in out.stderr
    assert "command terminated with exit code 7" in out.stderr
    out = kubectl("exec", POD_B, "--", "curl", "-s", "localhost:8080")
    assert out.returncode == 1
    assert 'exec: "curl": executable file not found in $PATH' in out.stderr


def test_kubectl_never_gets_write_access(kubectl, sim: Simulator):
    out = kubectl("delete", "pod", POD_A, "--wait=false")
    assert out.returncode == 1
    assert "(MethodNotAllowed): the server does not allow this method on the requested resource" in out.stderr
    assert any(r["method"] == "DELETE" and r["status"] == 405 for r in sim.requests)
    assert kubectl("get", "pod", POD_A, "-o", "name").stdout.strip() == f"pod/{POD_A}"


def test_exec_plugin_token_is_required(sim: Simulator, tmp_path):
    # The same kubeconfig with the plugin's token file pointing elsewhere: the server says 401.
    (tmp_path / "token").write_text("not-the-token\n")
    text = Path(sim.env["KUBECONFIG"]).read_text().replace(str(sim.workdir / "kube-token"),
                                                          str(tmp_path / "token"))
    (tmp_path / "kubeconfig").write_text(text)
    env = {**os.environ, **sim.env, "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "kubeconfig")}
    out = subprocess.run([KUBECTL, "get", "pods"], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "You must be logged in to the server" in out.stderr
    assert any(r["status"] == 401 for r in sim.requests)


def test_context_and_cluster_names_come_from_the_file(tmp_path):
    snap = healthy()
    with Simulator(snap, tmp_path / "w") as running:
        env = {**os.environ, **running.env, "HOME": str(tmp_path)}
        out = subprocess.run([KUBECTL, "config", "current-context"], env=env, capture_output=True, text=True)
        assert out.stdout.strip() == "oke-demo"
        out = subprocess.run([KUBECTL, "config", "view", "-o", "jsonpath={.clusters[0].name}"], env=env,
                             capture_output=True, text=True)
        assert out.stdout == snap.context["cluster"]


def test_exec_with_stdin_and_the_v5_close_frame(kubectl):
    # kubectl -i with an empty stdin sends [0xFF, 0x00] (v5 "stdin closed"); the exec still completes.
    out = kubectl("exec", "-i", POD_A, "--", "curl", "-s", "localhost:8080")
    assert (out.returncode, out.stdout) == (0, "ok")


def test_exec_errors_survive_kubectls_spdy_fallback(tmp_path):
    snap = incident()
    pod = obj(snap, "Pod", POD_B)
    pod["status"]["phase"] = "Running"
    pod["status"]["containerStatuses"][0]["state"] = {
        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}}
    with Simulator(snap, tmp_path / "w") as running:
        env = {**os.environ, **running.env, "HOME": str(tmp_path)}

        def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=30)

        out = kubectl("exec", POD_A, "-c", "nosuch", "--", "true")
        assert out.returncode == 1
        assert f"container nosuch is not valid for pod {POD_A}" in out.stderr
        out = kubectl("exec", POD_B, "--", "curl", "-s", "localhost:8080")
        assert out.returncode == 1 and 'container not found ("web")' in out.stderr
        # After the WebSocket attempt kubectl retried over SPDY (a POST): both were answered.
        tried = [(r["method"], r["status"]) for r in running.requests if r["path"].endswith(f"{POD_B}/exec")]
        assert tried == [("GET", 500), ("POST", 500)]


def test_kubectl_uses_aggregated_discovery(sim: Simulator, tmp_path):
    env = {**os.environ, **sim.env, "HOME": str(tmp_path)}
    before = len(sim.requests)
    out = subprocess.run([KUBECTL, "--cache-dir", str(tmp_path / "c"), "get", "deploy"], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "deployment.apps/app" not in out.stdout and out.stdout.startswith("NAME")
    paths = [r["path"] for r in sim.requests[before:]]
    # One discovery answer per root (apidiscovery.k8s.io/v2), as from a 1.31 API server: no per-group calls.
    assert paths == ["/version", "/api", "/apis", "/apis/apps/v1/namespaces/default/deployments"]
