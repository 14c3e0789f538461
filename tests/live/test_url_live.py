"""A URL live over the simulator: the resolver setting, the certificate the simulator makes from
the file, and `snapshot URL` recording what `diagnose --from` reads back."""

from __future__ import annotations

from okedoctor.live.resolve import parse_dns, resolve
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli


def test_the_simulator_resolver_replaces_the_machine_one(monkeypatch):
    monkeypatch.setenv("OKEDOCTOR_DNS", "shop.example.com=203.0.113.10 2001:db8::10,gone.example.com=")
    assert resolve("Shop.Example.com.") == ["203.0.113.10", "2001:db8::10"]
    assert resolve("gone.example.com") == [] and resolve("localhost") == []  # never asks the system
    assert parse_dns("") == {}


def test_snapshot_of_a_url_records_dns_and_the_certificate(sim_env, tmp_path):
    path = SCENARIOS_DIR / "ingress-tls-secret-missing.yaml"
    sim_env(load_snapshot(path), tmp_path / "sim")
    out = tmp_path / "url.yaml"
    snap_run = run_cli("snapshot", "https://shop.example.com/cart", "-f", str(out))
    assert snap_run.code == 0, snap_run.stderr
    snap = load_snapshot(out)
    assert snap.target == {"url": "https://shop.example.com/cart"}
    assert snap.live["dns"] == {"shop.example.com": ["203.0.113.10"]}
    cert = snap.live["internet"]["203.0.113.10:443"]["tls"]
    assert cert["sans"] == ["ingress.local"] and cert["verifyError"] == "self-signed certificate"
    assert cert["subject"] == "O=Acme Co, CN=Kubernetes Ingress Controller Fake Certificate"
    assert not [o for o in snap.kubernetes if o["kind"] == "Secret" and o["metadata"]["name"] == "storefront-tls"]
    again = run_cli("diagnose", "--from", str(out), "-o", "json")
    assert again.code == 2
    assert {f["code"] for f in again.json["findings"] if f["rootCause"]} == {"OKD-ING-004"}


def test_an_ingress_target_live_walks_its_first_rule_as_the_file_does(sim_env, tmp_path):
    """`ingress/NAME` live: the Ingress is read, the URL of its first host rule walked; the report is
    the file's (ingress/NAME --from FILE), route and target included."""
    from tests.live.test_live_scenarios import comparable, differences

    path = SCENARIOS_DIR / "ingress-backend-port-name.yaml"
    from_file = run_cli("diagnose", "ingress/storefront", "-n", "shop", "--from", str(path), "-o", "json")
    sim = sim_env(load_snapshot(path), tmp_path / "sim")
    live = run_cli("diagnose", "ingress/storefront", "-n", "shop", "-o", "json", "--timeout", "30")
    assert live.code == from_file.code == 2, live.stderr
    assert live.json["target"]["route"] == "ingress/storefront"
    replace = {sim.kube_url: load_snapshot(path).context.get("server") or sim.kube_url}
    want, got = comparable(from_file.stdout, {}), comparable(live.stdout, replace)
    assert not differences(want, got), differences(want, got)
    assert any(r["path"] == "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/storefront" for r in sim.requests)


def test_a_missing_ingress_live_is_a_one_line_usage_error(sim_env, tmp_path):
    sim_env(load_snapshot(SCENARIOS_DIR / "healthy-ingress-nginx-url.yaml"), tmp_path / "sim")
    run = run_cli("diagnose", "ingress/nope", "-n", "shop")
    assert run.code == 64 and len(run.stderr.strip().splitlines()) == 1 and "shop/nope" in run.stderr
    run = run_cli("diagnose", "httproute/nope", "-n", "shop")
    assert run.code == 64 and "HTTPRoute shop/nope" in run.stderr
