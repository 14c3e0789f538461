"""The pure parts of live collection: probe output, context and namespace, names, reasons."""

from __future__ import annotations

import pytest
import yaml

from okedoctor.errors import UsageError
from okedoctor.live.internet import parse_redirect, probe_address
from okedoctor.live.kube import rbac_reason, resolve_kube_target, strip_secret_values
from okedoctor.live.oci_api import OciSetup
from okedoctor.live.probe import (
    ExecResult,
    answered_like_tls,
    argv_for,
    parse_probe,
    parse_status_channel,
    probe_target,
)
from okedoctor.live.shapes import (
    assemble_kubernetes,
    ccm_name_matches,
    internet_addresses,
    needs_logs,
    referenced_config,
    unscheduled,
)
from okedoctor.model import Target

UID = "8d3c2a5e-7b1f-4f0e-9a6d-2c4b8e1f0a11"


# ---- probe output ------------------------------------------------------------------------
def ok_status():
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int):
    return {"status": "Failure", "reason": "NonZeroExitCode", "message": f"command terminated ... exit code {code}",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


@pytest.mark.parametrize("tool", ["curl", "python3", "bash"])
def test_body_then_status_forms(tool):
    res = ExecResult("Internal Server Error\n500\n", "", ok_status())
    assert parse_probe(tool, res) == {"status": 500, "body": "Internal Server Error"}


@pytest.mark.parametrize(("code", "error"), [(7, "refused"), (28, "timeout"), (56, "reset")])
def test_curl_exit_codes(code, error):
    assert parse_probe("curl", ExecResult("\n000\n", "curl: (7) Failed", exit_status(code))) == {"error": error}


def test_wget_reads_the_status_line_even_on_an_error_status():
    res = ExecResult("not ready", "  HTTP/1.1 302 Found\n  HTTP/1.1 503 Service Unavailable\n", exit_status(8))
    assert parse_probe("wget", res) == {"status": 503, "body": "not ready"}


def test_wget_connection_refused():
    res = ExecResult("", "wget: can't connect to remote host (127.0.0.1): Connection refused", exit_status(1))
    assert parse_probe("wget", res) == {"error": "refused"}


def test_probe_body_is_bounded_and_redacted():
    body = "token=abcdef123456 " + "x" * 1000
    out = parse_probe("curl", ExecResult(f"{body}\n200\n", "", ok_status()))
    assert out["status"] == 200 and "abcdef123456" not in out["body"] and len(out["body"]) <= 300


@pytest.mark.parametrize("status", [
    {"status": "Failure", "reason": "InternalError",
     "message": 'OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": '
                'executable file not found in $PATH: unknown'},
    exit_status(127) | {"message": "command terminated with exit code 127"},
])
def test_missing_tool_is_recognised(status):
    stderr = "sh: curl: not found" if "127" in status["message"] else ""
    assert ExecResult("", stderr, status).missing_tool


def test_a_failing_tool_is_not_a_missing_tool():
    assert not ExecResult("\n000\n", "curl: (7) Failed to connect", exit_status(7)).missing_tool


def test_status_channel_yaml_and_garbage():
    assert parse_status_channel('{"metadata":{},"status":"Success"}') == ok_status()
    assert parse_status_channel("") is None
    assert parse_status_channel(": not yaml :")["status"] == "Failure"


def _pod(ports, readiness=None):
    c = {"name": "web", "ports": ports}
    if readiness:
        c["readinessProbe"] = readiness
    return {"spec": {"containers": [{"name": "sidecar"}, c]}}


def test_probe_target_follows_a_named_target_port_and_the_readiness_path():
    pod = _pod([{"name": "http", "containerPort": 3000}], {"httpGet": {"path": "healthz", "port": "http"}})
    svc = {"spec": {"ports": [{"port": 80, "targetPort": "http"}]}}
    t = probe_target(pod, svc)
    assert (t.container, t.port, t.path) == ("web", 3000, "/healthz")


def test_probe_target_uses_slash_when_readiness_probes_another_port():
    pod = _pod([{"containerPort": 8080}], {"httpGet": {"path": "/healthz", "port": 8081}})
    t = probe_target(pod, {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}})
    assert (t.container, t.port, t.path) == ("web", 8080, "/")


def test_probe_target_unknown_named_port_is_not_guessed():
    assert probe_target(_pod([{"containerPort": 8080}]), {"spec": {"ports": [{"targetPort": "metrics"}]}}) is None


# ---- kube context and namespace ------------------------------------------------------------
def _kubeconfig(tmp_path, current="a", ns=None):
    ctx_a = {"cluster": "ca", "user": "ua"} | ({"namespace": ns} if ns else {})
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": current,
           "clusters": [{"name": "ca", "cluster": {"server": "https://10.0.0.10:6443"}},
                        {"name": "cb", "cluster": {"server": "https://10.1.0.10:6443"}}],
           "contexts": [{"name": "a", "context": ctx_a}, {"name": "b", "context": {"cluster": "cb", "user": "ub"}}],
           "users": [{"name": "ua", "user": {"exec": {"command": "oci", "args": [
               "ce", "cluster", "generate-token", "--cluster-id", "ocid1.cluster.oc1.iad.aaaa", "--region", "iad"]}}},
               {"name": "ub", "user": {"token": "t"}}]}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_current_context_its_namespace_and_the_oke_cluster_id(tmp_path):
    kt = resolve_kube_target(_kubeconfig(tmp_path, ns="shop"), None, None)
    assert (kt.context, kt.namespace, kt.server) == ("a", "shop", "https://10.0.0.10:6443")
    assert kt.cluster == "ocid1.cluster.oc1.iad.aaaa" and kt.other_contexts == ["b"]


def test_explicit_context_and_kubeconfig_cluster_name(tmp_path):
    kt = resolve_kube_target(_kubeconfig(tmp_path), "b", "b")
    assert (kt.context, kt.cluster, kt.namespace) == ("b", "cb", None)


def test_kubeconfig_path_list_first_file_wins(tmp_path):
    first = _kubeconfig(tmp_path, current="b")
    other = tmp_path / "second"
    other.write_text(yaml.safe_dump({"current-context": "a", "contexts": [], "clusters": [], "users": []}))
    assert resolve_kube_target(f"{first}:{other}", None, None).context == "b"


@pytest.mark.parametrize(("context", "expect", "needle"), [
    ("prod", None, "contexts: a, b"),
    (None, "b", "--expect-context is 'b'"),
])
def test_context_errors(tmp_path, context, expect, needle):
    with pytest.raises(UsageError, match=needle.replace("-", r"\-")):
        resolve_kube_target(_kubeconfig(tmp_path), context, expect)


# ---- LB names, addresses, reasons ----------------------------------------------------------
@pytest.mark.parametrize(("flavor", "name", "ok"), [
    ("nlb", f"default/app/{UID}", True),
    ("nlb", f"other/app/{UID}", False),
    ("nlb", UID, False),
    ("lb", UID, True),
    ("lb", f"prod-{UID}", True),
    ("lb", "app-public-lb", False),
    ("lb", "", False),
])
def test_ccm_name_matching(flavor, name, ok):
    assert ccm_name_matches(flavor, name, "default", "app", UID) is ok


def test_internet_addresses_from_the_lb_listeners_and_private_lbs():
    lb = {"ipAddresses": [{"ipAddress": "203.0.113.10", "isPublic": True}, {"ipAddress": "10.0.20.7"}],
          "listeners": {"TCP-80": {"port": 80}, "TCP-443": {"port": 443}}}
    assert internet_addresses({}, lb) == [("203.0.113.10:80", False), ("203.0.113.10:443", True)]
    assert internet_addresses({}, lb | {"isPrivate": True}) is None
    svc = {"spec": {"ports": [{"port": 80}]}, "status": {"loadBalancer": {"ingress": [{"ip": "10.0.20.7"}]}}}
    assert internet_addresses(svc, None) is None  # a private ingress IP without OCI facts


def test_redirect_map_and_the_no_contact_rule():
    redirect = parse_redirect("203.0.113.10:80=127.0.0.1:40000, 203.0.113.10:443=127.0.0.1:40001")
    assert redirect == {"203.0.113.10:80": ("127.0.0.1", 40000), "203.0.113.10:443": ("127.0.0.1", 40001)}
    # An address outside the map is never contacted: no socket is opened, nothing is returned.
    assert probe_address("198.51.100.7:80", 0.5, redirect, tls=False) is None
    with pytest.raises(UsageError, match="loopback"):
        parse_redirect("203.0.113.10:80=198.51.100.1:80")


def test_redirected_probe_reports_refused():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = probe_address("203.0.113.10:80", 1.0, {"203.0.113.10:80": ("127.0.0.1", port)}, tls=False)
    assert out["error"] == "refused"


def test_rbac_reasons_name_the_rule():
    assert rbac_reason("pods/log", "shop", "container logs") == (
        "forbidden to read container logs: needs RBAC rule {apiGroups: [\"\"], resources: [pods/log], "
        "verbs: [get]} in namespace shop (ClusterRole okedoctor-reader in deploy/rbac.yaml)")
    assert "cluster-wide" in rbac_reason("nodes", "shop", "nodes")
    assert "okedoctor-exec" in rbac_reason("pods/exec", "shop", "pods/exec")


def test_iam_statements_per_auth_kind():
    c = "ocid1.compartment.oc1..aaaa"
    assert OciSetup("api_key").statement("nlb", c) == (
        f"Allow group <your-group> to read network-load-balancers in compartment id {c}")
    assert OciSetup("instance_principal").statement("vcn", c).startswith("Allow dynamic-group ")
    wi = OciSetup("oke_workload_identity").statement("lb", c, "ocid1.cluster.oc1.iad.x")
    assert wi.startswith("Allow any-user to read load-balancers") and "ocid1.cluster.oc1.iad.x" in wi


# ---- what is kept -------------------------------------------------------------------------
def test_referenced_config_everywhere_a_pod_can_name_it():
    pod = {"spec": {
        "volumes": [{"secret": {"secretName": "tls"}}, {"configMap": {"name": "conf"}},
                    {"projected": {"sources": [{"secret": {"name": "proj-s"}}, {"configMap": {"name": "proj-c"}}]}}],
        "containers": [{"env": [{"valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}},
                                {"valueFrom": {"configMapKeyRef": {"name": "flags", "key": "f"}}}],
                        "envFrom": [{"secretRef": {"name": "env-s"}}, {"configMapRef": {"name": "env-c"}}]}],
        "imagePullSecrets": [{"name": "ocir"}]}}
    secrets, cms = referenced_config(pod)
    assert secrets == {"tls", "proj-s", "db", "env-s", "ocir"}
    assert cms == {"conf", "proj-c", "flags", "env-c"}


def test_secret_values_are_replaced_and_last_applied_dropped():
    s = strip_secret_values({"kind": "Secret", "data": {"a": "c2VjcmV0"}, "stringData": {"b": "x"},
                             "metadata": {"name": "s", "annotations": {
                                 "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"a":"c2VjcmV0"}}'}}})
    assert s["data"] == {"a": "<redacted>"} and s["stringData"] == {"b": "<redacted>"}
    assert "c2VjcmV0" not in str(s)


@pytest.mark.parametrize(("status", "want"), [
    ({"ready": True, "restartCount": 0, "state": {"running": {}}}, False),
    ({"ready": True, "restartCount": 3, "state": {"running": {}}}, True),
    ({"ready": False, "restartCount": 0, "state": {"running": {}}}, True),
    ({"ready": False, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}, True),
])
def test_which_containers_get_logs(status, want):
    assert needs_logs(status) is want


def test_assembled_objects_are_the_targets_only():
    svc = {"kind": "Service", "metadata": {"name": "app", "namespace": "default"}, "spec": {"selector": {"app": "web"}}}
    pod = {"kind": "Pod", "apiVersion": "v1", "metadata": {
        "name": "p", "namespace": "default", "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": "u-rs"}]},
        "spec": {}}
    rs = {"kind": "ReplicaSet", "metadata": {"name": "rs", "namespace": "default", "uid": "u-rs",
                                             "ownerReferences": [{"kind": "Deployment", "name": "app"}]}}
    other_rs = {"kind": "ReplicaSet", "metadata": {"name": "other", "namespace": "default", "uid": "u-o"}}
    dep = {"kind": "Deployment", "metadata": {"name": "app", "namespace": "default"}, "spec": {}}
    other_dep = {"kind": "Deployment", "metadata": {"name": "db", "namespace": "default"},
                 "spec": {"template": {"metadata": {"labels": {"app": "db"}}}}}
    ev = {"kind": "Event", "metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod", "namespace": "default",
                                                                          "name": "p"}}
    ev_other = {"kind": "Event", "metadata": {"name": "e2"},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "db-0"}}
    objs = assemble_kubernetes({"service": svc, "pods": [pod], "replicasets": [rs, other_rs],
                                "deployments": [dep, other_dep], "events": [ev, ev_other]},
                               Target("default", "app"))
    assert [o["metadata"]["name"] for o in objs] == ["app", "app", "rs", "p", "e1"]


def test_assembled_objects_keep_the_other_pods_a_check_compares_or_sums():
    svc = {"kind": "Service", "metadata": {"name": "app", "namespace": "default"}, "spec": {"selector": {"app": "web"}}}
    dep = {"kind": "Deployment", "metadata": {"name": "app", "namespace": "default"},
           "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}}}

    def pod(name, ns="default"):
        return {"kind": "Pod", "metadata": {"name": name, "namespace": ns}, "spec": {}}

    # No pod selected: every Deployment and every pod of the namespace, for the near-miss search.
    objs = assemble_kubernetes({"service": svc, "pods": [], "deployments": [dep],
                                "namespacePods": [pod("app-1"), pod("app-2")]}, Target("default", "app"))
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("Service", "app"), ("Deployment", "app"), ("Pod", "app-1"), ("Pod", "app-2")]
    # An unschedulable pod: the pods on the nodes, each once, whatever their namespace.
    objs = assemble_kubernetes({"service": svc, "pods": [pod("web-1")],
                                "nodePods": [pod("web-1"), pod("reports-1"), pod("coredns", "kube-system")]},
                               Target("default", "app"))
    assert [o["metadata"]["name"] for o in objs if o["kind"] == "Pod"] == ["web-1", "reports-1", "coredns"]
    assert unscheduled({"status": {"phase": "Pending"}, "spec": {}})
    assert not unscheduled({"status": {"phase": "Pending"}, "spec": {"nodeName": "10.0.10.5"}})


# ---- OCI auth ------------------------------------------------------------------------------
def _jwt(exp: int) -> str:
    import base64
    import json

    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'exp': exp, 'iat': exp - 3600})}.c2lnbmF0dXJl"


def _session_config(tmp_path, exp: int) -> str:
    from okedoctor.sim.certs import make_api_key

    key = make_api_key(tmp_path)
    (tmp_path / "token").write_text(_jwt(exp))
    cfg = tmp_path / "config"
    cfg.write_text(f"[sess]\nfingerprint={key.fingerprint}\nkey_file={key.key_file}\ntenancy=ocid1.tenancy.oc1..a\n"
                   f"region=ap-tokyo-1\nsecurity_token_file={tmp_path / 'token'}\n")
    return str(cfg)


def test_expired_session_token_stops_with_the_refresh_command(tmp_path):
    import time

    from okedoctor.errors import UsageError
    from okedoctor.live.oci_api import load_setup

    cfg = _session_config(tmp_path, int(time.time()) - 600)
    with pytest.raises(UsageError, match="oci session refresh --profile sess"):
        load_setup(auth="security_token", profile="sess", config_file=cfg, region=None)


def test_valid_session_token_gives_a_signer(tmp_path):
    import time

    from okedoctor.live.oci_api import load_setup

    setup = load_setup(auth="security_token", profile="sess", config_file=_session_config(tmp_path,
                       int(time.time()) + 3600), region=None)
    assert setup.signer is not None and setup.region == "ap-tokyo-1"


def test_unknown_profile_lists_the_profiles(tmp_path):
    from okedoctor.live.oci_api import load_setup

    cfg = _session_config(tmp_path, 0)
    with pytest.raises(UsageError, match=r"'nope' is not in .*profiles: sess"):
        load_setup(auth="api_key", profile="nope", config_file=cfg, region=None)


def test_probe_targets_one_per_container_port_for_every_service_port():
    from okedoctor.live.probe import probe_targets

    pod = _pod([{"name": "http", "containerPort": 8080}, {"name": "https", "containerPort": 8443}],
               {"httpGet": {"path": "/ready", "port": "https"}})
    svc = {"spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 443, "targetPort": "https"},
                              {"port": 8080, "targetPort": 8080}]}}
    got = [(t.container, t.port, t.path) for t in probe_targets(pod, svc)]
    assert got == [("web", 8080, "/"), ("web", 8443, "/ready")]


@pytest.mark.parametrize(("port", "target", "tls"), [
    ({"name": "https", "port": 443, "targetPort": 8443}, 8443, True),
    ({"name": "web", "port": 443, "targetPort": 8443, "appProtocol": "https"}, 8443, True),
    ({"name": "https-443", "port": 443, "targetPort": 8443}, 8443, True),   # Istio's naming convention
    ({"name": "web", "port": 443, "targetPort": "websecure"}, 8443, False),  # nothing says so: the answer will
    ({"name": "http", "port": 80, "targetPort": 8080}, 8080, False),
])
def test_probe_target_speaks_tls_where_the_port_says_so(port, target, tls):
    pod = _pod([{"name": "websecure", "containerPort": 8443}, {"containerPort": 8080}])
    t = probe_target(pod, {"spec": {"ports": [port]}})
    assert (t.port, t.tls) == (target, tls)
    assert argv_for("curl", t.port, t.path, 2, t.tls)[-1].startswith("https://" if tls else "http://")


def test_an_https_readiness_probe_marks_its_port_tls():
    pod = _pod([{"containerPort": 8443}], {"httpGet": {"path": "/ready", "port": 8443, "scheme": "HTTPS"}})
    t = probe_target(pod, {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}})
    assert (t.tls, t.path) == (True, "/ready")
    assert argv_for("bash", 8080, "/", 2) and pytest.raises(ValueError, argv_for, "bash", 8443, "/", 2, True)


@pytest.mark.parametrize(("answer", "again"), [
    ({"error": "reset"}, True),                                                          # Envoy
    ({"error": "curl: (1) Received HTTP/0.9 when not allowed"}, True),                   # a TLS alert
    ({"status": 400, "body": "Client sent an HTTP request to an HTTPS server.\n"}, True),  # Go
    ({"status": 400, "body": "<title>400 The plain HTTP request was sent to HTTPS port</title>"}, True),  # nginx
    ({"status": 400, "body": "bad request"}, False),
    ({"status": 200, "body": "sent an HTTP request to an HTTPS server"}, False),
    ({"error": "refused"}, False),
])
def test_a_plain_answer_that_sounds_like_tls_is_probed_again_with_tls(answer, again):
    assert answered_like_tls(answer) is again


def test_a_tls_secret_keeps_its_public_certificate_and_never_its_key():
    import base64

    from okedoctor.snapshot import load_snapshot
    from tests.conftest import SCENARIOS_DIR

    lb = load_snapshot(SCENARIOS_DIR / "healthy-lb-https.yaml").oci["loadBalancers"][0]
    pem = lb["certificates"]["shop-tls"]["publicCertificate"]
    crt = base64.b64encode(pem.encode()).decode()
    key = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n").decode()
    s = strip_secret_values({"kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "t"},
                             "data": {"tls.crt": crt, "tls.key": key, "ca.crt": crt}})
    assert s["data"] == {"tls.crt": crt, "tls.key": "<redacted>", "ca.crt": "<redacted>"}
    # a key pasted into tls.crt, or a certificate in an Opaque Secret, is masked like any value
    both = base64.b64encode(pem.encode() + base64.b64decode(key)).decode()
    assert strip_secret_values({"kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "t"},
                                "data": {"tls.crt": both}})["data"] == {"tls.crt": "<redacted>"}
    assert strip_secret_values({"kind": "Secret", "type": "Opaque", "metadata": {"name": "t"},
                                "data": {"tls.crt": crt}})["data"] == {"tls.crt": "<redacted>"}


@pytest.mark.parametrize("service", ["nlb", "lb", "vcn", "compute", "ce", "certs"])
@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:9"])
def test_the_readers_base_client_is_the_one_the_sdks_client_class_builds(service, endpoint, tmp_path):
    """The reader builds the SDK's BaseClient itself (no models imported): same endpoint, API
    version, signer and timeouts as the service's client class, for a real region and the simulator."""
    import importlib

    import oci
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from okedoctor.live.oci_api import OciReader
    from okedoctor.oci_catalog import SERVICES

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (tmp_path / "key.pem").write_bytes(pem)
    cfg = {"user": "ocid1.user.oc1..u", "tenancy": "ocid1.tenancy.oc1..t", "fingerprint": ":".join(["ab"] * 16),
           "key_file": str(tmp_path / "key.pem"), "region": "ap-tokyo-1"}
    signer = oci.signer.Signer(cfg["tenancy"], cfg["user"], cfg["fingerprint"], cfg["key_file"])
    reader = OciReader(OciSetup(auth="api_key", config=cfg, signer=signer), region=None, endpoint=endpoint,
                       timeout=15.0)
    assert set(SERVICES) == {"nlb", "lb", "vcn", "compute", "ce", "certs"}  # every service the reader calls
    ours = reader._make_client(service)
    svc = SERVICES[service]
    klass = getattr(importlib.import_module(svc.module), svc.client)
    theirs = klass(cfg, signer=signer, service_endpoint=endpoint, timeout=(5.0, 15.0)).base_client
    assert (ours.service, ours.endpoint, ours._base_path, ours.endpoint_service_name, ours.timeout) == \
        (theirs.service, theirs.endpoint, theirs._base_path, theirs.endpoint_service_name, theirs.timeout)
    assert ours.signer is signer and ours.session.max_redirects == 0
    assert (endpoint or "ap-tokyo-1") in ours.endpoint
