"""The snapshot written for a ticket keeps only what the checks read (okedoctor/ticket.py)."""

from __future__ import annotations

import copy
import json

import pytest

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.redact import MASK
from okedoctor.registry import load_registry
from okedoctor.snapshot import load_snapshot
from okedoctor.ticket import for_ticket, keep_object, redact_argv
from tests.conftest import scenario_paths

REGISTRY = load_registry([], entry_points_enabled=False)


def _report(snap, path):
    report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), REGISTRY).to_dict()
    report.pop("stats")
    return report


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_the_allow_listed_snapshot_gives_the_same_report(path):
    # A check that reads a field the allow-list drops changes some scenario's report here.
    whole = load_snapshot(path)
    assert _report(for_ticket(copy.deepcopy(whole)), path) == _report(whole, path)


def test_fields_no_check_reads_are_not_written():
    snap = load_snapshot(next(p for p in scenario_paths() if p.stem == "healthy-nlb"))
    inst = snap.oci["instances"][0]
    inst["metadata"] = {"user_data": "I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogVVNFUkRBVEE=", "ssh_authorized_keys": "ssh-rsa K"}
    inst["extendedMetadata"] = {"vault": {"token": "EXTMETA"}}
    inst["freeformTags"] = {"db-password": "FREEFORM"}
    inst["definedTags"] = {"ops": {"owner-key": "DEFINED"}}
    svc = next(o for o in snap.kubernetes if o["kind"] == "Service")
    svc["metadata"]["annotations"] = {"oci.oraclecloud.com/load-balancer-type": "nlb", "team/notes": "ANNOTNOTE",
                                      "kubectl.kubernetes.io/last-applied-configuration": "LASTAPPLIED"}
    pod = next(o for o in snap.kubernetes if o["kind"] == "Pod")
    pod["spec"]["containers"][0]["env"] = [{"name": "MODE", "value": "ENVLITERAL"}]
    pod["metadata"]["managedFields"] = [{"manager": "MANAGED"}]
    out = for_ticket(snap).to_dict()
    text = json.dumps(out)
    for gone in ("I2Nsb3VkLWNvbmZpZw", "ssh-rsa", "EXTMETA", "FREEFORM", "DEFINED", "ANNOTNOTE", "LASTAPPLIED",
                 "ENVLITERAL", "MANAGED"):
        assert gone not in text, gone
    kept_svc = next(o for o in out["kubernetes"] if o["kind"] == "Service")
    assert kept_svc["metadata"]["annotations"] == {"oci.oraclecloud.com/load-balancer-type": "nlb"}
    kept_pod = next(o for o in out["kubernetes"] if o["kind"] == "Pod")
    assert kept_pod["spec"]["containers"][0]["env"] == [{"name": "MODE"}]
    assert out["oci"]["instances"][0]["availabilityDomain"] == inst["availabilityDomain"]


def test_an_unknown_kind_keeps_only_its_identity():
    obj = {"apiVersion": "x.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"},
           "spec": {"password": "WIDGETPW"}}
    assert keep_object(obj) == {"apiVersion": "x.io/v1", "kind": "Widget",
                                "metadata": {"name": "w", "namespace": "default"}}


def test_argument_lists_mask_the_word_after_a_credential_flag():
    args = ["--db-password", "ARGPW1", "--token=ARGPW2", "-v", "--port", "5432", "mysql -pARGPW3"]
    assert redact_argv(args) == ["--db-password", MASK, f"--token={MASK}", "-v", "--port", "5432", f"mysql -p{MASK}"]


def test_a_fleet_report_over_the_cut_down_snapshot_is_the_same():
    from okedoctor.fleet.generate import generate_fleet
    from okedoctor.fleet.run import diagnose_fleet, exposed_services

    whole, _ = generate_fleet(services=30, nodes=6)
    cut = for_ticket(copy.deepcopy(whole))

    def verdicts(snap):
        fleet = diagnose_fleet(snap, REGISTRY, exposed_services(snap, None, False))
        return [(str(r.target), r.verdict, [f.to_dict() for f in r.findings]) for r in fleet.services]

    assert verdicts(cut) == verdicts(whole)


def test_a_public_certificate_survives_the_ticket_whole_and_a_private_key_does_not():
    from okedoctor.ticket import redact_all

    pem = "-----BEGIN CERTIFICATE-----\nMIIBtoken=\nAAAAsecret==\n-----END CERTIFICATE-----\n"
    assert redact_all(pem) == pem  # base64 that reads like `token=` is not a credential here
    key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n"
    assert "MHcCAQEE" not in redact_all(key) and "MHcCAQEE" not in redact_all(pem + key)
