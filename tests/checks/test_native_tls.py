"""The OCI Native Ingress Controller's TLS listener: the certificate an Ingress names with
oci-native-ingress.oraclecloud.com/certificate-ocid is judged on the controller's route_443 like
any L7 listener's (OKD-TLS-001), and the fix says where the OCID is set."""

from __future__ import annotations

import copy

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR

CERT = "ocid1.certificate.oc1.ap-tokyo-1.amaaaaaanativeshop"


def _doc() -> dict:
    return copy.deepcopy(load_snapshot(SCENARIOS_DIR / "native-ingress-certificate-expired.yaml").to_dict())


def _tls001(doc: dict, registry):
    snap = snapshot_from_dict(doc, "test")
    report = diagnose_snapshot(snap, resolve_target(snap, None, None, "test"), registry)
    return [f for f in report.findings if f.code == "OKD-TLS-001"]


def _cert(doc: dict) -> dict:
    return next(c for c in doc["oci"]["certificates"] if c["id"] == CERT)


def test_the_expired_listener_certificate_names_the_ingress_annotation(builtin_registry):
    (finding,) = _tls001(_doc(), builtin_registry)
    assert finding.severity.value == "error" and "route_443" in finding.title
    assert finding.fix.commands[-1] == ("kubectl annotate ingress -n shop storefront "
                                        "oci-native-ingress.oraclecloud.com/certificate-ocid=NEW_CERTIFICATE_OCID "
                                        "--overwrite")


def test_a_valid_certificate_is_quiet_and_an_expiring_one_a_warning_with_its_date(builtin_registry):
    doc = _doc()
    del doc["live"]["internet"]["203.0.113.50:443"]  # the configuration alone, no probe
    validity = _cert(doc)["currentVersion"]["validity"]
    validity["timeOfValidityNotAfter"] = "2027-03-01T00:00:00.000Z"
    assert not _tls001(doc, builtin_registry)
    validity["timeOfValidityNotAfter"] = "2026-12-08T00:00:00.000Z"
    (finding,) = _tls001(doc, builtin_registry)
    assert finding.severity.value == "warning" and "2026-12-08T00:00:00Z" in finding.title


def test_a_certificate_no_ingress_names_gets_no_annotation_command(builtin_registry):
    doc = _doc()
    ingress = next(o for o in doc["kubernetes"] if o["kind"] == "Ingress")
    del ingress["metadata"]["annotations"]["oci-native-ingress.oraclecloud.com/certificate-ocid"]
    (finding,) = _tls001(doc, builtin_registry)
    assert not any("kubectl annotate ingress" in c for c in finding.fix.commands)
