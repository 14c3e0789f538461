"""The OCI Certificates certificate an L7 listener serves, read live (issue #17 item 3): one GET beside the
LB's other reads, and a denied or missing one is an unknown with the reason, never a valid certificate."""

from __future__ import annotations

from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli

CERT = "ocid1.certificate.oc1.ap-tokyo-1.amaaaaaashopcert"


def _run(sim_env, tmp_path, snap):
    sim = sim_env(snap, tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "-n", "default", "-o", "json", "--timeout", "30")
    assert live.stdout, live.stderr
    return sim, live


def _cert_reads(sim) -> list[tuple[str, int]]:
    return [(r["path"], r["status"]) for r in sim.requests if r["path"].startswith("/20210224/")]


def test_the_listener_certificate_is_read_once_and_costs_no_longer_chain(sim_env, tmp_path):
    _, plain = _run(sim_env, tmp_path / "a", load_snapshot(SCENARIOS_DIR / "healthy-lb-https.yaml"))
    sim, live = _run(sim_env, tmp_path / "b", load_snapshot(SCENARIOS_DIR / "lb-oci-certificate-expiring.yaml"))
    assert _cert_reads(sim) == [(f"/20210224/certificates/{CERT}", 200)]
    (f,) = [f for f in live.json["findings"] if f["code"] == "OKD-TLS-001"]
    assert f["severity"] == "warning" and f["evidence"]["certificate"] == CERT
    # read beside the backend-set health (both follow the LB body): the dependent chain is not longer
    assert live.json["stats"]["longest_chain"] == plain.json["stats"]["longest_chain"]


def test_a_denied_certificate_read_is_unknown_with_the_reason(sim_env, tmp_path):
    doc = load_snapshot(SCENARIOS_DIR / "lb-oci-certificate-expiring.yaml").to_dict()
    # what a user without `read leaf-certificate-family` recorded: the simulator denies it on the wire
    doc["collection"] = {"oci.certificates": {"kind": "denied", "reason": (
        f"OCI answered 404 NotAuthorizedOrNotFound reading certificate {CERT} (leaf-certificate-family)")}}
    doc["live"]["internet"].pop("203.0.113.30:443")
    doc["live"]["internet"]["203.0.113.30:443"] = {"status": 200, "body": "ok"}  # no probe of the certificate
    sim, live = _run(sim_env, tmp_path, snapshot_from_dict(doc))
    assert _cert_reads(sim) == [(f"/20210224/certificates/{CERT}", 404)]
    report = live.json
    assert report["verdict"] == "unknown" and live.code == 3
    assert not [f for f in report["findings"] if f["code"] == "OKD-TLS-001"]
    reasons = " ".join(s["reason"] for s in report["skipped"])
    assert "leaf-certificate-family" in reasons and CERT in reasons
