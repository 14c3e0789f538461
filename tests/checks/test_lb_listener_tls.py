"""TLS at the edge from the L7 load balancer's own configuration (issue #17 item 3): the listener's
certificate bundle (PEM in the LB body) and OCI Certificates references, judged without the probe."""

from __future__ import annotations

import copy

from okedoctor.chain import lbcerts
from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.facts import Facts
from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR

LB = "ocid1.loadbalancer.oc1.ap-tokyo-1.aaaaaaaaapplb"
CERT = "ocid1.certificate.oc1.ap-tokyo-1.amaaaaaashopcert"


def _doc(name: str) -> dict:
    return copy.deepcopy(load_snapshot(SCENARIOS_DIR / f"{name}.yaml").to_dict())


def _report(doc: dict, registry):
    snap = snapshot_from_dict(doc)
    return diagnose_snapshot(snap, resolve_target(snap, None, None, None), registry)


def _codes(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f)
    return out


def test_an_expired_listener_certificate_is_found_in_the_lb_body_without_the_probe(builtin_registry):
    doc = _doc("lb-listener-certificate-expired")
    del doc["live"]["internet"]
    report = _report(doc, builtin_registry)
    (f,) = _codes(report)["OKD-TLS-001"]
    assert f.root_cause and f.severity.value == "error"
    assert f.evidence["source"] == "LB listener TCP-443 certificate shop-tls"
    assert f.evidence["notAfter"] == "2026-11-28T23:59:59Z"
    assert f.subject == f"{LB}/listener/TCP-443"
    # the fix says how the CCM's bundle gets renewed: a Secret of a new name
    assert any("shop-tls-renewed" in str(c) for c in f.fix.commands)
    assert report.verdict.value == "failure" and report.to_dict()["hops"]["internet"] == "error"


def test_the_probe_meeting_the_same_certificate_adds_no_second_finding(builtin_registry):
    report = _report(_doc("lb-listener-certificate-expired"), builtin_registry)
    assert [f.evidence["source"] for f in _codes(report)["OKD-TLS-001"]] == [
        "LB listener TCP-443 certificate shop-tls"]


def test_a_probe_that_met_another_certificate_is_reported_too(builtin_registry):
    doc = _doc("lb-listener-certificate-expired")
    doc["live"]["internet"]["203.0.113.30:443"]["tls"]["notAfter"] = "2026-11-30T00:00:00Z"
    sources = sorted(f.evidence["source"] for f in _codes(_report(doc, builtin_registry))["OKD-TLS-001"])
    assert sources == ["LB listener TCP-443 certificate shop-tls", "served on 203.0.113.30:443"]


def test_an_oci_certificates_certificate_expiring_in_5_days_is_a_warning_with_the_date(builtin_registry):
    doc = _doc("lb-oci-certificate-expiring")
    del doc["live"]["internet"]
    report = _report(doc, builtin_registry)
    (f,) = _codes(report)["OKD-TLS-001"]
    assert f.severity.value == "warning" and "2026-12-06T06:00:00Z" in f.title
    assert f.evidence["certificate"] == CERT and f.evidence["sans"] == ["shop.example.com", "www.shop.example.com"]


def test_an_unread_oci_certificate_is_unknown_with_the_reason_never_ok(builtin_registry):
    doc = _doc("lb-oci-certificate-expiring")
    doc["oci"]["certificates"] = []
    del doc["live"]["internet"]  # what the probe met would be judged on its own
    doc["collection"] = {"oci.certificates": {"kind": "denied", "reason": (
        f"OCI answered 404 NotAuthorizedOrNotFound reading certificate {CERT} (leaf-certificate-family)")}}
    report = _report(doc, builtin_registry)
    assert "OKD-TLS-001" not in _codes(report)
    assert report.verdict.value == "unknown"
    assert report.to_dict()["hops"]["internet"] == "unknown"
    assert any("NotAuthorizedOrNotFound" in s.reason for s in report.skipped if s.code == "OKD-TLS-001")


def test_a_file_without_the_referenced_certificate_body_is_unknown_too(builtin_registry):
    doc = _doc("lb-oci-certificate-expiring")
    del doc["oci"]["certificates"]
    del doc["live"]["internet"]
    report = _report(doc, builtin_registry)
    assert report.verdict.value == "unknown" and report.to_dict()["hops"]["internet"] == "unknown"
    assert any(CERT in s.reason for s in report.skipped)


def test_a_443_http_listener_without_ssl_is_plain_http_from_the_lb_body(builtin_registry):
    doc = _doc("lb-443-plain-http")
    del doc["live"]["internet"]
    (f,) = _codes(_report(doc, builtin_registry))["OKD-TLS-004"]
    assert (f.evidence["listener"], f.evidence["spoke"], f.evidence["expected"]) == ("HTTP-443", "plain HTTP", "TLS")


def test_a_tcp_listener_without_ssl_passes_tls_through_and_is_not_judged_from_the_body(builtin_registry):
    doc = _doc("lb-443-plain-http")
    del doc["live"]["internet"]
    lis = doc["oci"]["loadBalancers"][0]["listeners"]["HTTP-443"]
    lis["protocol"] = "TCP"
    assert "OKD-TLS-004" not in _codes(_report(doc, builtin_registry))


def test_tls_on_port_80_is_reported(builtin_registry):
    doc = _doc("healthy-lb-https")
    del doc["live"]["internet"]
    lis = doc["oci"]["loadBalancers"][0]["listeners"]["TCP-443"]
    lis["port"] = 80
    (f,) = _codes(_report(doc, builtin_registry))["OKD-TLS-004"]
    assert (f.evidence["spoke"], f.evidence["expected"]) == ("TLS", "plain HTTP")


def test_a_listener_naming_a_bundle_the_lb_does_not_hold(builtin_registry):
    doc = _doc("healthy-lb-https")
    doc["oci"]["loadBalancers"][0]["certificates"] = {"old-tls": {"certificateName": "old-tls"}}
    (f,) = _codes(_report(doc, builtin_registry))["OKD-TLS-005"]
    assert f.root_cause and f.evidence["certificatesHeld"] == ["old-tls"] and "shop-tls" in f.title


def test_a_bundle_without_its_ca_or_self_signed_is_not_verifiable(builtin_registry):
    doc = _doc("healthy-lb-https")
    bundle = doc["oci"]["loadBalancers"][0]["certificates"]["shop-tls"]
    ca = bundle["caCertificate"]
    bundle["caCertificate"] = ""
    (f,) = _codes(_report(doc, builtin_registry))["OKD-TLS-003"]
    assert "unable to get local issuer certificate" in f.evidence["verifyError"]
    bundle["publicCertificate"] = ca  # the CA's own certificate: self-signed
    (f,) = _codes(_report(doc, builtin_registry))["OKD-TLS-003"]
    assert f.evidence["verifyError"] == "self-signed certificate"


def test_a_url_whose_host_the_listener_certificate_does_not_name(builtin_registry):
    doc = _doc("healthy-lb-https")
    doc["target"] = {"url": "https://api.example.com/"}
    doc["live"]["dns"] = {"api.example.com": ["203.0.113.30"]}
    del doc["live"]["internet"]
    (f,) = _codes(_report(doc, builtin_registry))["OKD-TLS-002"]
    assert f.evidence["host"] == "api.example.com"
    assert f.evidence["sans"] == ["shop.example.com", "www.shop.example.com"]
    assert f.evidence["source"] == "LB listener TCP-443 certificate shop-tls"


def test_the_healthy_bundle_reads_as_the_probe_reports_a_certificate():
    facts = Facts(load_snapshot(SCENARIOS_DIR / "healthy-lb-https.yaml"))
    (conf,) = lbcerts.configured(facts)
    served = facts.internet("203.0.113.30:443")["tls"]
    assert {k: conf.cert[k] for k in served} == served


def _secret_doc(pems: list[str]) -> dict:
    import base64

    doc = _doc("ingress-secret-certificate-expiring")
    secret = next(o for o in doc["kubernetes"] if o["kind"] == "Secret" and o["metadata"]["name"] == "storefront-tls")
    secret["data"]["tls.crt"] = base64.b64encode("".join(pems).encode()).decode()
    del doc["live"]["internet"]
    return doc


def _secret_pems() -> list[str]:
    import base64

    doc = _doc("ingress-secret-certificate-expiring")
    secret = next(o for o in doc["kubernetes"] if o["kind"] == "Secret" and o["metadata"]["name"] == "storefront-tls")
    text = base64.b64decode(secret["data"]["tls.crt"]).decode()
    end = "-----END CERTIFICATE-----\n"
    return [p + end for p in text.split(end) if p.strip()]


def test_behind_an_nlb_the_ingress_secret_certificate_is_judged_without_the_probe(builtin_registry):
    leaf, ca = _secret_pems()
    report = _report(_secret_doc([leaf, ca]), builtin_registry)
    (f,) = _codes(report)["OKD-TLS-001"]
    assert f.subject == "secret/shop/storefront-tls"
    assert f.evidence["source"] == "TLS Secret shop/storefront-tls (tls.crt)"
    assert "listener" not in f.evidence and report.verdict.value == "warning"
    # the leaf alone in tls.crt: clients cannot build the chain
    (f,) = _codes(_report(_secret_doc([leaf]), builtin_registry))["OKD-TLS-003"]
    assert f.evidence["verifyError"].startswith("unable to get local issuer certificate")


def test_a_secret_certificate_for_another_host_is_a_name_mismatch_with_its_sans(builtin_registry):
    leaf, ca = _secret_pems()
    doc = _secret_doc([leaf, ca])
    doc["target"]["url"] = "https://www.example.org/cart"
    doc["live"]["dns"] = {"www.example.org": ["203.0.113.10"]}
    for obj in doc["kubernetes"]:
        if obj["kind"] == "Ingress":
            for rule in obj["spec"].get("rules") or []:
                rule["host"] = "www.example.org"
            for entry in obj["spec"].get("tls") or []:
                entry["hosts"] = ["www.example.org"]
    (f,) = _codes(_report(doc, builtin_registry))["OKD-TLS-002"]
    assert f.evidence["host"] == "www.example.org"
    assert f.evidence["sans"] == ["shop.example.com", "www.shop.example.com"]


def test_a_stripped_secret_value_is_not_judged():
    from okedoctor.model import Target

    def certificates(doc: dict) -> list:
        return lbcerts.secret_certificates(Facts(snapshot_from_dict(doc), Target("", "", url=doc["target"]["url"])))

    doc = _secret_doc(_secret_pems())
    assert [c.name for c in certificates(doc)] == ["shop/storefront-tls"]
    secret = next(o for o in doc["kubernetes"] if o["kind"] == "Secret" and o["metadata"]["name"] == "storefront-tls")
    secret["data"]["tls.crt"] = "<redacted>"
    assert certificates(doc) == []


def test_a_file_that_did_not_record_the_bundles_reports_no_missing_certificate(builtin_registry):
    doc = _doc("healthy-lb-https")
    del doc["oci"]["loadBalancers"][0]["certificates"]
    assert "OKD-TLS-005" not in _codes(_report(doc, builtin_registry))
