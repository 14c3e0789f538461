"""The real kubernetes Python client against the simulator: reads, logs, and exec for every probe form."""

from __future__ import annotations

import copy
import json
import ssl
import time

import pytest
import websocket
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from okedoctor import probe_scripts as ps
from okedoctor.sim import Simulator
from tests.sim.conftest import KEY_A, POD_A, POD_B, direct_client, incident


@pytest.fixture(scope="module")
def core(sim: Simulator) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=sim.env["KUBECONFIG"]))


def run(core: client.CoreV1Api, pod: str, argv: list[str]) -> tuple[str, str, dict]:
    ws = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=argv, stderr=True, stdin=False,
                stdout=True, tty=False, _preload_content=False)
    ws.run_forever(timeout=10)
    status = json.loads(ws.read_channel(3))
    return ws.read_stdout(), ws.read_stderr(), status


def exit_code(status: dict) -> int:
    return 0 if status["status"] == "Success" else int(status["details"]["causes"][0]["message"])


def test_list_with_selectors_and_pagination(core):
    names = [p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=web").items]
    assert names == [POD_A, POD_B]
    assert core.list_namespaced_pod("default", label_selector="app notin (web)").items == []
    assert core.list_namespaced_pod("default", label_selector="app in (web,api),!missing").items
    on_b = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=10.0.10.6").items
    assert [p.metadata.name for p in on_b] == [POD_B]
    first = core.list_namespaced_pod("default", limit=1)
    assert [p.metadata.name for p in first.items] == [POD_A] and first.metadata.remaining_item_count == 1
    rest = core.list_namespaced_pod("default", limit=1, _continue=first.metadata._continue)
    assert [p.metadata.name for p in rest.items] == [POD_B] and not rest.metadata._continue
    events = core.list_namespaced_event("default", field_selector=f"involvedObject.name={POD_B}").items
    assert [e.reason for e in events] == ["Pulled"]


def test_real_status_bodies(core):
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("nope", "default")
    body = json.loads(err.value.body)
    assert err.value.status == 404 and body["reason"] == "NotFound" and body["message"] == 'pods "nope" not found'
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", field_selector="spec.image=nginx")
    assert err.value.status == 400 and "field label not supported: spec.image" in err.value.body
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", label_selector="app in (web")
    assert err.value.status == 400


def test_logs(core):
    live = incident().live["containers"][KEY_A]
    assert core.read_namespaced_pod_log(POD_A, "default", container="web") == live["logs"]
    assert core.read_namespaced_pod_log(POD_A, "default", previous=True, tail_lines=1) == "fatal: out of memory\n"
    assert core.read_namespaced_pod_log(POD_A, "default", limit_bytes=10) == live["logs"][:10]
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(POD_B, "default", previous=True)
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == \
        f'previous terminated container "web" in pod "{POD_B}" not found'
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(POD_A, "default", container="sidecar")
    assert err.value.status == 400


URL = "http://localhost:{}/"


@pytest.mark.parametrize("form", ["curl", "wget", "python3", "bash"])
def test_probe_forms_report_the_files_status(core, form):
    def argv(port: int) -> list[str]:
        return {"curl": ps.curl_argv(URL.format(port), 2), "wget": ps.wget_argv(URL.format(port), 2),
                "python3": ps.python_argv(URL.format(port), 2),
                "bash": ps.bash_argv("localhost", port, "/", 2)}[form]

    out, err, status = run(core, POD_A, argv(8080))
    assert exit_code(status) == 0
    if form == "wget":  # wget prints the status line on stderr, the body on stdout
        assert out == "ok" and "HTTP/1.1 200 OK" in err
    else:
        assert out.splitlines() == ["ok", "200"]
    out, err, status = run(core, POD_A, argv(8081))
    if form == "wget":
        assert exit_code(status) == 1 and "HTTP/1.1 503 Service Unavailable" in err
    else:
        assert exit_code(status) == 0 and out.splitlines()[-1] == "503"
    out, err, status = run(core, POD_A, argv(9090))
    expected = 1 if form == "wget" else ps.EXIT_REFUSED
    assert exit_code(status) == expected
    assert out == ("\n000\n" if form == "curl" else "")  # curl's -w still prints, with code 000
    if form == "wget":
        assert "Connection refused" in err


def test_timeout_waits_and_exits_28(core):
    start = time.monotonic()
    _, _, status = run(core, POD_A, ps.python_argv(URL.format(9091), 1))
    assert exit_code(status) == ps.EXIT_TIMEOUT and time.monotonic() - start >= 0.9
    _, _, status = run(core, POD_A, ps.curl_argv(URL.format(9092), 1))
    assert exit_code(status) == ps.EXIT_RESET


def test_missing_tool_fails_like_the_runtime(core):
    out, _, status = run(core, POD_B, ps.curl_argv(URL.format(8080), 2))
    assert status["status"] == "Failure" and status["reason"] == "InternalError"
    assert 'exec: "curl": executable file not found in $PATH' in status["message"]
    assert out == ""


def test_exec_speaks_v4_when_only_v4_is_offered(sim: Simulator):
    query = "command=sh&command=-c&command=exit+3&container=web&stdout=true&stderr=true"
    url = sim.kube_url.replace("https", "wss") + f"/api/v1/namespaces/default/pods/{POD_A}/exec?{query}"
    ws = websocket.create_connection(url, subprotocols=["v4.channel.k8s.io"],
                                     header=[f"Authorization: Bearer {sim.token}"],
                                     sslopt={"ca_certs": str(sim.ca_file), "cert_reqs": ssl.CERT_REQUIRED})
    assert ws.subprotocol == "v4.channel.k8s.io"
    frame = ws.recv()
    ws.close()
    assert frame[0] == 3 and json.loads(frame[1:])["details"]["causes"][0] == {"reason": "ExitCode", "message": "3"}


def test_concurrent_clients(sim: Simulator):
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> tuple[int, str]:
        # One client per thread: stream() swaps the ApiClient's call_api while it runs.
        mine = client.CoreV1Api(direct_client(sim))
        pods = mine.list_namespaced_pod("default", label_selector="app=web").items
        _, _, status = run(mine, POD_A, ps.curl_argv(URL.format(8080), 2))
        return len(pods), status["status"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(16)))
    assert results == [(2, "Success")] * 16


def test_watch_sends_the_initial_objects_then_holds(core):
    from kubernetes import watch

    start = time.monotonic()
    events = [(e["type"], e["object"].metadata.name)
              for e in watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=1)]
    assert events == [("ADDED", POD_A), ("ADDED", POD_B)]
    assert time.monotonic() - start >= 0.9  # held open until the watch's timeout, like the API server


def test_pods_whose_containers_do_not_run(tmp_path):
    snap = incident()
    pending = copy.deepcopy(next(o for o in snap.kubernetes if o["kind"] == "Pod" and o["metadata"]["name"] == POD_B))
    pending["metadata"]["name"] = "app-7d9f8b6c5d-zzzzz"
    pending["status"]["phase"] = "Pending"
    pending["status"]["containerStatuses"][0].update(
        ready=False, started=False, state={"waiting": {"reason": "ContainerCreating"}})
    snap.kubernetes.append(pending)
    del snap.live["containers"][KEY_A]["previousLogs"]  # restarted, but the previous log was not recorded
    with Simulator(snap, tmp_path / "w") as running:
        api = client.CoreV1Api(direct_client(running))
        with pytest.raises(ApiException) as err:
            api.read_namespaced_pod_log("app-7d9f8b6c5d-zzzzz", "default")
        assert (err.value.status, json.loads(err.value.body)["message"]) == (
            400, 'container "web" in pod "app-7d9f8b6c5d-zzzzz" is waiting to start: ContainerCreating')
        with pytest.raises(ApiException) as err:
            api.read_namespaced_pod_log(POD_A, "default", previous=True)
        assert err.value.status == 500 and "not observed" in json.loads(err.value.body)["message"]
        with pytest.raises(ApiException) as err:
            api.read_namespaced_pod_log(POD_A, "default", tail_lines=-1)
        assert err.value.status == 422
        with pytest.raises(ApiException) as err:  # the WebSocket handshake gets the kubelet's answer
            stream(api.connect_get_namespaced_pod_exec, "app-7d9f8b6c5d-zzzzz", "default", command=["true"],
                   stderr=True, stdin=False, stdout=True, tty=False)
        assert 'container not found ("web")' in str(err.value)
