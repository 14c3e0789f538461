"""TLS ports and separate health ports on the healthy ingress-controller scenarios: no false alarms."""

from __future__ import annotations

import yaml

from okedoctor.diagnose import diagnose_snapshot
from okedoctor.model import Target
from okedoctor.snapshot import parse_snapshot
from tests.checks.test_oci_lb import found, load


def run(doc, registry):
    target = doc["target"]
    return diagnose_snapshot(parse_snapshot(yaml.safe_dump(doc), "test"),
                             Target(target["namespace"], target["service"]), registry)


def localhost(doc, port):
    return [c["localhost"][port] for c in doc["live"]["containers"].values() if port in (c.get("localhost") or {})]


def pod(doc, name_part):
    return next(o for o in doc["kubernetes"] if o["kind"] == "Pod" and name_part in o["metadata"]["name"])


def test_a_plain_http_reset_of_a_tls_port_is_by_design(builtin_registry):
    # What a snapshot taken before the probe spoke TLS holds for ingress-nginx's https port (appProtocol https).
    doc = load("healthy-ingress-nginx")
    for answer in localhost(doc, "443"):
        answer.clear()
        answer.update(error="reset")
    report = run(doc, builtin_registry)
    assert not found(report, "OKD-POD-015")
    assert [f.severity.value for f in found(report, "OKD-POD-005")] == ["info"]
    assert report.verdict.value == "ok"


def test_a_reset_of_the_tls_probe_itself_is_reported(builtin_registry):
    doc = load("healthy-ingress-nginx")
    for answer in localhost(doc, "443"):
        answer.clear()
        answer.update(error="reset", tls=True)
    # Through the LB the port works (a TLS listener that wants an SNI the probe cannot send resets it): no error.
    assert not found(run(doc, builtin_registry), "OKD-POD-015")
    doc["live"]["internet"]["203.0.113.10:443"] = {"error": "timeout", "status": None, "body": None}
    (finding,) = found(run(doc, builtin_registry), "OKD-POD-015")
    assert finding.evidence["port"] == 443


def test_a_reset_of_a_port_nothing_calls_tls_is_reported_unless_it_works_end_to_end(builtin_registry):
    doc = load("healthy-traefik")  # websecure: a name that does not say TLS
    for answer in localhost(doc, "8443"):
        answer.clear()
        answer.update(error="reset")
    assert not found(run(doc, builtin_registry), "OKD-POD-015")  # the internet got Traefik's 404 on 443
    doc["live"]["internet"]["203.0.113.10:443"] = {"error": "reset", "status": None, "body": None}
    assert found(run(doc, builtin_registry), "OKD-POD-015")


def test_an_undeclared_health_port_is_served_only_while_the_container_is_ready(builtin_registry):
    doc = load("healthy-ingress-nginx")
    (finding,) = found(run(doc, builtin_registry), "OKD-POD-005")
    assert finding.severity.value == "info" and "kubelet" in finding.evidence["assessment"]
    for name in ("m2q7w", "x4k9p"):
        for st in pod(doc, name)["status"]["containerStatuses"]:
            st["ready"] = False
    severities = {f.severity.value for f in found(run(doc, builtin_registry), "OKD-POD-005")}
    assert severities == {"warning"}
