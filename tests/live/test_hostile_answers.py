"""An API server (or a proxy in front of it) that answers 200 with something that is not an API
object: one line on stderr and exit 3 (the facts could not be read), never a traceback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from tests.live.conftest import run_cli

BODIES = {
    "html": (b"<html><body><form>Proxy login</form></body></html>", "text/html"),
    "garbage": (b"\x00\xff\xfe garbage \x01", "application/json"),
    "array": (b'[{"kind": "Service"}]', "application/json"),
    "huge-int": (b'{"kind": "Service", "spec": {"port": ' + b"9" * 5000 + b"}}", "application/json"),
    "deep": (b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json"),
}


@pytest.fixture
def hostile_server(request):
    body, ctype = BODIES[request.param]
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


@pytest.mark.parametrize("hostile_server", sorted(BODIES), indirect=True)
def test_a_200_that_is_not_an_api_object_is_one_line_exit_3(hostile_server, tmp_path, monkeypatch):
    url, requests = hostile_server
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "proxied",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "contexts": [{"name": "proxied", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("OCI_CLI_CONFIG_FILE", str(tmp_path / "no-oci-config"))
    for command in (["diagnose", "svc/app"], ["report", "-n", "default"]):
        run = run_cli(*command, "--timeout", "10", "-o", "json")
        lines = run.stderr.strip().splitlines()
        assert run.code == 3 and len(lines) == 1 and lines[0].startswith("okedoctor: "), (command, run)
        assert "Traceback" not in run.stderr and "not-a-real-token" not in run.stderr + run.stdout
        if run.stdout:
            json.loads(run.stdout)  # whatever was printed is still one JSON document
    assert requests and all(p.startswith("/api") for p in requests)


@pytest.mark.parametrize("body", [{"kind": "PodList", "items": [1, "x"]}, {"kind": "PodList", "items": {"a": 1}}])
def test_a_list_whose_items_are_not_objects_is_a_failed_read(body):
    from okedoctor.live.kube_reads import Unreachable, list_items

    with pytest.raises(Unreachable, match="not a list of API objects"):
        list_items(body)
