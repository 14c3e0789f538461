"""TLS between the L7 load balancer and its backends (OKD-LB-013): a backend set that re-encrypts to
pods serving plain HTTP, a listener that ends TLS and sends plain HTTP to a TLS port, a peer check
with no CA; and what the in-pod probe takes a port to speak."""

from __future__ import annotations

import copy

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.kube import tls_port_reason
from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR

LB = "ocid1.loadbalancer.oc1.ap-tokyo-1.aaaaaaaaapplb"
SSL = {"certificateName": "shop-tls", "verifyPeerCertificate": False, "verifyDepth": 0,
       "protocols": ["TLSv1.2"], "cipherSuiteName": "oci-wider-compatible-ssl-cipher-suite-v1"}


def _doc(name: str) -> dict:
    return copy.deepcopy(load_snapshot(SCENARIOS_DIR / f"{name}.yaml").to_dict())


def _report(doc: dict, registry):
    snap = snapshot_from_dict(doc, "test")
    return diagnose_snapshot(snap, resolve_target(snap, None, None, "test"), registry)


def _lb(doc: dict) -> dict:
    return next(b for b in doc["oci"]["loadBalancers"] if b["id"] == LB)


def _service(doc: dict) -> dict:
    return next(o for o in doc["kubernetes"] if o["kind"] == "Service" and o["metadata"]["name"] == "app")


def _pods_and_templates(doc: dict):
    for o in doc["kubernetes"]:
        spec = o.get("spec") or {}
        if o["kind"] == "Pod":
            yield spec
        elif o["kind"] in ("Deployment", "ReplicaSet"):
            yield spec["template"]["spec"]


def _serve_tls_on_443(doc: dict) -> None:
    """The pods serve https on 8443 (and http on 8080), as an ingress controller does; port 443 sends to https."""
    for spec in _pods_and_templates(doc):
        spec["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                          {"name": "https", "containerPort": 8443, "protocol": "TCP"}]
    _service(doc)["spec"]["ports"][0]["targetPort"] = "https"


def _lb013(report):
    return [f for f in report.findings if f.code == "OKD-LB-013"]


def test_the_healthy_l7_tls_lb_raises_nothing(builtin_registry):
    assert not _lb013(_report(_doc("healthy-lb-https"), builtin_registry))


def test_tls_to_plain_backends_names_how_it_knows_and_removes_the_annotation(builtin_registry):
    report = _report(_doc("lb-backendset-tls-to-plain-http"), builtin_registry)
    (finding,) = _lb013(report)
    assert finding.root_cause and "502" in finding.title
    assert finding.evidence["backendSpeaks"] == "plain HTTP"
    assert finding.evidence["knownBy"] == "targetPort 8080 is container port 8080 named 'http'"
    assert finding.fix.commands[0] == ("kubectl annotate svc -n default app "
                                       "service.beta.kubernetes.io/oci-load-balancer-tls-backendset-secret-")
    assert {f.code: f.caused_by for f in report.findings}["OKD-INET-004"] == "OKD-LB-013"


def test_ssl_set_by_hand_is_removed_with_the_backend_set_update(builtin_registry):
    doc = _doc("healthy-lb-https")
    _lb(doc)["backendSets"]["TCP-443"]["sslConfiguration"] = dict(SSL)
    (finding,) = _lb013(_report(doc, builtin_registry))
    cmd = finding.fix.commands[0]
    assert cmd.startswith(f"oci lb backend-set update --load-balancer-id {LB} --backend-set-name TCP-443")
    assert "--ssl-certificate-name" not in cmd and "--backends" in cmd
    assert "every connection is closed" in finding.title  # a TCP listener writes no 502


def test_plain_http_to_the_pods_tls_port_points_the_service_at_their_plain_port(builtin_registry):
    doc = _doc("healthy-lb-https")
    _serve_tls_on_443(doc)
    (finding,) = _lb013(_report(doc, builtin_registry))
    assert "sends plain HTTP to a TLS port" in finding.title
    assert finding.evidence["knownBy"] == "targetPort https is container port 8443 named 'https'"
    assert finding.fix.commands[0] == ("kubectl patch svc -n default app --type=json -p "
                                       "'[{\"op\":\"replace\",\"path\":\"/spec/ports/0/targetPort\",\"value\":\"http\"}]'")
    assert finding.fix.commands[1] == (
        "kubectl patch service app -n default --type json -p '[{\"op\":\"add\",\"path\":\"/metadata/annotations/"
        "service.beta.kubernetes.io~1oci-load-balancer-tls-backendset-secret\",\"value\":\"shop-tls\"}]'")


def test_re_encryption_to_the_tls_port_is_right(builtin_registry):
    doc = _doc("healthy-lb-https")
    _serve_tls_on_443(doc)
    _lb(doc)["backendSets"]["TCP-443"]["sslConfiguration"] = dict(SSL)
    assert not _lb013(_report(doc, builtin_registry))


def test_a_tcp_listener_without_ssl_passes_tls_through(builtin_registry):
    doc = _doc("healthy-lb-https")
    _serve_tls_on_443(doc)
    _lb(doc)["listeners"]["TCP-443"]["sslConfiguration"] = None
    assert not _lb013(_report(doc, builtin_registry))


def test_peer_verification_without_a_ca_is_reported_and_relaxed(builtin_registry):
    doc = _doc("healthy-lb-https")
    _serve_tls_on_443(doc)
    _lb(doc)["backendSets"]["TCP-443"]["sslConfiguration"] = {**SSL, "certificateName": "backend-client",
                                                               "verifyPeerCertificate": True}
    _lb(doc)["certificates"]["backend-client"] = {"certificateName": "backend-client", "caCertificate": None,
                                                  "publicCertificate": None}
    (finding,) = _lb013(_report(doc, builtin_registry))
    assert "against no CA" in finding.title
    assert "--ssl-verify-peer-certificate false" in finding.fix.commands[0]
    # its own CA in the bundle: nothing to say
    _lb(doc)["certificates"]["backend-client"]["caCertificate"] = \
        _lb(doc)["certificates"]["shop-tls"]["caCertificate"]
    assert not _lb013(_report(doc, builtin_registry))


def test_a_port_nothing_names_is_not_judged(builtin_registry):
    doc = _doc("lb-backendset-tls-to-plain-http")
    for spec in _pods_and_templates(doc):
        spec["containers"][0]["ports"] = [{"containerPort": 7000, "protocol": "TCP"}]
    _service(doc)["spec"]["ports"][0]["targetPort"] = 7000
    assert not _lb013(_report(doc, builtin_registry))


def test_a_container_port_named_http_is_probed_plain_behind_a_service_port_named_https():
    pod = {"spec": {"containers": [{"name": "web", "ports": [{"name": "http", "containerPort": 8080}]}]}}
    assert tls_port_reason({"name": "https", "port": 443, "targetPort": 8080}, pod, 8080) is None
    unnamed = {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 8080}]}]}}
    assert tls_port_reason({"name": "https", "port": 443, "targetPort": 8080}, unnamed, 8080) == \
        "the Service port is named https"
