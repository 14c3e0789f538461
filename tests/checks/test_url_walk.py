"""The URL target: how okedoctor walks a name to a backend Service, matches ingress rules the way
the controllers do, and judges the certificate at the edge."""

from __future__ import annotations

import copy

import pytest

from okedoctor.chain import ingress as ing
from okedoctor.chain import tls
from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.errors import UsageError
from okedoctor.options import parse_target
from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli

HEALTHY = SCENARIOS_DIR / "healthy-ingress-nginx-url.yaml"


@pytest.mark.parametrize(("ptype", "rule", "path", "hit"), [
    ("Prefix", "/cart", "/cart", True),
    ("Prefix", "/cart", "/cart/items", True),
    ("Prefix", "/cart", "/carts", False),  # whole path elements, not characters
    ("Prefix", "/", "/anything", True),
    ("Exact", "/", "/cart", False),
    ("Exact", "/cart", "/cart", True),
    ("ImplementationSpecific", "/car", "/carts", True),  # a string prefix for ingress-nginx
])
def test_paths_match_as_the_ingress_api_says(ptype, rule, path, hit):
    assert ing.path_matches(ptype, rule, path) is hit


def test_wildcard_hosts_cover_one_label_only():
    assert ing.host_matches("*.example.com", "shop.example.com")
    assert not ing.host_matches("*.example.com", "a.shop.example.com")
    assert not ing.host_matches("*.example.com", "example.com")
    assert tls.name_matches("*.example.com", "SHOP.example.com.")


def _rule(path: str, ptype: str, host: str | None = "shop.example.com") -> ing.RulePath:
    route = {"kind": "Ingress", "metadata": {"name": "r", "namespace": "shop"}}
    return ing.RulePath(route, host, path, ptype, "svc", 80)


def test_the_longest_match_wins_and_exact_beats_prefix_on_a_tie():
    rules = [_rule("/", "Prefix"), _rule("/cart", "Prefix"), _rule("/cart", "Exact")]
    assert ing.best_match(rules, "shop.example.com", "/cart") is rules[2]
    assert ing.best_match(rules, "shop.example.com", "/cart/x") is rules[1]
    assert ing.best_match(rules, "shop.example.com", "/about") is rules[0]
    assert ing.best_match(rules, "other.example.com", "/cart") is None


def _url_snapshot(edit) -> object:
    doc = load_snapshot(HEALTHY).to_dict()
    doc = copy.deepcopy(doc)
    edit(doc)
    return snapshot_from_dict(doc)


def _report(snap, builtin_registry):
    return diagnose_snapshot(snap, resolve_target(snap, None, None, "test"), builtin_registry)


def _objects(doc, kind):
    return [o for o in doc["kubernetes"] if o["kind"] == kind]


def test_an_ingress_without_class_and_no_default_class_is_ignored(builtin_registry):
    def edit(doc):
        _objects(doc, "Ingress")[0]["spec"].pop("ingressClassName")
        _objects(doc, "IngressClass")[0]["metadata"]["annotations"] = {}
    report = _report(_url_snapshot(edit), builtin_registry)
    (cause,) = [f for f in report.findings if f.code == "OKD-ING-002"]
    assert "no IngressClass is marked default" in cause.title and cause.root_cause
    assert report.to_dict()["hops"]["ingress"] == "error"


def test_the_default_class_serves_an_ingress_without_class(builtin_registry):
    def edit(doc):
        _objects(doc, "Ingress")[0]["spec"].pop("ingressClassName")
    report = _report(_url_snapshot(edit), builtin_registry)
    assert report.verdict.value == "ok" and report.to_dict()["hops"]["ingress"] == "ok"


def test_a_certificate_expiring_within_14_days_is_a_warning_with_its_date(builtin_registry):
    def edit(doc):
        doc["live"]["internet"]["203.0.113.10:443"]["tls"]["notAfter"] = "2026-12-10T12:00:00Z"
    report = _report(_url_snapshot(edit), builtin_registry)
    (f,) = [f for f in report.findings if f.code == "OKD-TLS-001"]
    assert f.severity.value == "warning" and "2026-12-10T12:00:00Z" in f.title
    assert report.verdict.value == "warning"


def test_443_speaking_plain_http_is_reported(builtin_registry):
    def edit(doc):
        del doc["live"]["internet"]["203.0.113.10:443"]["tls"]
    report = _report(_url_snapshot(edit), builtin_registry)
    (f,) = [f for f in report.findings if f.code == "OKD-TLS-004"]
    assert f.evidence["spoke"] == "plain HTTP" and f.root_cause


def test_a_name_that_does_not_resolve_lists_the_cluster_load_balancers(builtin_registry):
    def edit(doc):
        doc["live"]["dns"] = {}
    report = _report(_url_snapshot(edit), builtin_registry).to_dict()
    (f,) = [f for f in report["findings"] if f["code"] == "OKD-DNS-001"]
    assert "203.0.113.10" in str(f["evidence"]["loadBalancerServices"])
    assert report["hops"]["pod"] == "notReached" and report["verdict"] == "failure"


def test_a_name_never_resolved_leaves_the_dns_hop_unknown(builtin_registry):
    def edit(doc):
        del doc["live"]["dns"]
    report = _report(_url_snapshot(edit), builtin_registry)
    assert report.to_dict()["hops"]["dns"] == "unknown" and report.verdict.value == "unknown"


def test_a_service_that_is_no_controller_has_no_ingress_hop(builtin_registry):
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml").to_dict()
    snap["live"]["dns"] = {"app.example.com": ["203.0.113.10"]}
    snap["target"] = {"url": "http://app.example.com/"}
    report = _report(snapshot_from_dict(snap), builtin_registry).to_dict()
    assert report["hops"]["ingress"] == "notApplicable"
    assert report["target"] == {"namespace": "default", "service": "app", "url": "http://app.example.com/"}
    assert report["verdict"] == "ok"


def test_targets_parse_urls_hosts_and_routes():
    assert parse_target("https://Shop.Example.com/cart", None).url == "https://shop.example.com/cart"
    assert parse_target("shop.example.com", None).url == "https://shop.example.com/"
    assert parse_target("ingress/storefront", "shop").route == "ingress/storefront"
    with pytest.raises(UsageError):
        parse_target("ftp://shop.example.com/", None)
    with pytest.raises(UsageError):
        parse_target("deploy/web", None)


def test_an_ingress_target_walks_its_first_rule(builtin_registry):
    by_ingress = run_cli("diagnose", "ingress/storefront", "-n", "shop", "--from", str(HEALTHY), "-o", "json")
    assert by_ingress.code == 0, by_ingress.stderr
    assert by_ingress.json["target"]["url"] == "https://shop.example.com/"
    assert by_ingress.json["route"]["backendService"] == "shop/storefront"
    missing = run_cli("diagnose", "ingress/nope", "-n", "shop", "--from", str(HEALTHY))
    assert missing.code == 64 and "Ingress shop/nope is not in" in missing.stderr


def test_the_text_report_draws_the_longer_chain():
    out = run_cli("diagnose", "--from", str(SCENARIOS_DIR / "dns-stale-lb-address.yaml"))
    assert out.code == 2
    assert "DNS ✖ ──▶ Internet – ──▶ LB – ──▶ NodePort – ──▶ Node – ──▶ Ingress – ──▶ Pod –" in out.stdout


def test_an_istio_gateway_routes_by_httproute(builtin_registry):
    def edit(doc):
        svc = next(o for o in _objects(doc, "Service") if o["metadata"]["name"] == "ingress-nginx-controller")
        svc["spec"]["selector"] = {"istio": "ingressgateway"}
        for pod in _objects(doc, "Pod"):
            if pod["metadata"]["namespace"] == "ingress-nginx":
                pod["metadata"]["labels"] = {"istio": "ingressgateway"}
                for c in pod["spec"]["containers"]:
                    c["image"] = "docker.io/istio/proxyv2:1.23.0"
        doc["kubernetes"] = [o for o in doc["kubernetes"] if o["kind"] != "Ingress"]
        doc["kubernetes"].append({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "storefront", "namespace": "shop"},
            "spec": {"hostnames": ["shop.example.com"], "rules": [
                {"matches": [{"path": {"type": "PathPrefix", "value": "/cart"}}],
                 "backendRefs": [{"name": "storefront", "port": 80}]},
                {"matches": [{"path": {"type": "Exact", "value": "/about"}}],
                 "backendRefs": [{"name": "about", "port": 80}]}]}})
    report = _report(_url_snapshot(edit), builtin_registry).to_dict()
    assert report["route"]["controller"] == "istio"
    assert report["route"]["rule"]["object"] == "httproute/shop/storefront"
    assert report["route"]["backendService"] == "shop/storefront"
    assert report["verdict"] == "ok" and report["hops"]["ingress"] == "ok"


@pytest.mark.parametrize("name", ["healthy-ingress-nginx-url", "dns-stale-lb-address", "ingress-wrong-class"])
def test_url_reports_validate_against_the_shipped_schema(name):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "okedoctor/schema/report-v1.json").read_text())
    out = run_cli("diagnose", "--from", str(SCENARIOS_DIR / f"{name}.yaml"), "-o", "json")
    jsonschema.validate(out.json, schema)
    assert set(out.json["hops"]) == {"dns", "internet", "loadbalancer", "nodeport", "node", "ingress", "pod"}
