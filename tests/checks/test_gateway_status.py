"""What a Gateway API controller wrote on the route and the Gateway a URL goes through: a route
it does not accept (OKD-ING-009, 404), a backend it cannot use (OKD-ING-010, 500), a Gateway or
listener it did not program (OKD-ING-011), and the walk following a backendRef's namespace."""

from __future__ import annotations

import copy

import yaml

from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.snapshot import load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR


def _doc(name: str) -> dict:
    return copy.deepcopy(load_snapshot(SCENARIOS_DIR / f"{name}.yaml").to_dict())


def _report(doc: dict, registry):
    snap = snapshot_from_dict(doc, "test")
    return diagnose_snapshot(snap, resolve_target(snap, None, None, "test"), registry)


def _one(doc: dict, kind: str, name: str) -> dict:
    return next(o for o in doc["kubernetes"] if o["kind"] == kind and o["metadata"]["name"] == name)


def _route_conditions(doc: dict, *conds: dict) -> None:
    route = _one(doc, "HTTPRoute", "storefront")
    route["status"]["parents"][0]["conditions"] = list(conds)


def _by_code(report) -> dict:
    return {f.code: f for f in report.findings}


ACCEPTED = {"type": "Accepted", "status": "True", "reason": "Accepted"}
RESOLVED = {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"}


def test_the_healthy_envoy_gateway_url_raises_none_of_them(builtin_registry):
    report = _report(_doc("healthy-envoy-gateway-url"), builtin_registry)
    assert not {"OKD-ING-009", "OKD-ING-010", "OKD-ING-011"} & set(_by_code(report))
    assert report.hops["ingress"].state.value == "ok"


def test_a_route_on_another_namespace_backend_reaches_it_through_the_walk(builtin_registry):
    report = _report(_doc("httproute-refnotpermitted"), builtin_registry)
    assert report.route["backendService"] == "shop/storefront"
    assert report.route["rule"]["serviceNamespace"] == "shop"
    assert "OKD-ING-003" not in _by_code(report)


def test_refnotpermitted_prints_the_reference_grant_in_the_backend_namespace(builtin_registry):
    finding = _by_code(_report(_doc("httproute-refnotpermitted"), builtin_registry))["OKD-ING-010"]
    grant = yaml.safe_load(finding.fix.patch)
    assert grant["kind"] == "ReferenceGrant" and grant["metadata"]["namespace"] == "shop"
    assert grant["spec"]["from"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "web"}]
    assert grant["spec"]["to"] == [{"group": "", "kind": "Service", "name": "storefront"}]
    assert "500" in finding.title and finding.root_cause


def test_backend_not_found_is_left_to_ing_003_when_the_walk_sees_it_missing(builtin_registry):
    doc = _doc("healthy-envoy-gateway-url")
    route = _one(doc, "HTTPRoute", "storefront")
    route["spec"]["rules"][0]["backendRefs"][0]["name"] = "storefront-v2"
    _route_conditions(doc, ACCEPTED, {"type": "ResolvedRefs", "status": "False", "reason": "BackendNotFound",
                                      "message": "Service shop/storefront-v2 not found"})
    codes = _by_code(_report(doc, builtin_registry))
    assert "OKD-ING-003" in codes and "OKD-ING-010" not in codes


def test_invalid_kind_asks_for_a_service_ref(builtin_registry):
    doc = _doc("healthy-envoy-gateway-url")
    _route_conditions(doc, ACCEPTED, {"type": "ResolvedRefs", "status": "False", "reason": "InvalidKind"})
    _one(doc, "HTTPRoute", "storefront")["spec"]["rules"][0]["backendRefs"][0]["kind"] = "Backend"
    finding = _by_code(_report(doc, builtin_registry))["OKD-ING-010"]
    assert "kind: Service" in finding.fix.summary and "Backend storefront" in finding.fix.summary


def test_not_allowed_by_listeners_patches_every_listener_of_the_parent(builtin_registry):
    report = _report(_doc("httproute-not-allowed-by-listeners"), builtin_registry)
    codes = _by_code(report)
    finding = codes["OKD-ING-009"]
    assert "404" in finding.title and finding.root_cause
    cmd = finding.fix.commands[0]
    assert cmd.startswith("kubectl patch gateway -n default eg --type=json")
    assert '"path":"/spec/listeners/0/allowedRoutes/namespaces","value":{"from":"All"}' in cmd
    assert '"path":"/spec/listeners/1/allowedRoutes/namespaces"' in cmd
    assert codes["OKD-ING-007"].caused_by == "OKD-ING-009"


def test_a_section_name_narrows_the_patch_to_that_listener(builtin_registry):
    doc = _doc("httproute-not-allowed-by-listeners")
    route = _one(doc, "HTTPRoute", "storefront")
    route["spec"]["parentRefs"][0]["sectionName"] = "https"
    route["status"]["parents"][0]["parentRef"]["sectionName"] = "https"
    cmd = _by_code(_report(doc, builtin_registry))["OKD-ING-009"].fix.commands[0]
    assert "/spec/listeners/1/" in cmd and "/spec/listeners/0/" not in cmd


def test_no_matching_listener_hostname_names_the_listener_hostnames(builtin_registry):
    doc = _doc("healthy-envoy-gateway-url")
    _one(doc, "HTTPRoute", "storefront")["spec"]["hostnames"] = ["shop.example.com", "shop.example.org"]
    _route_conditions(doc, {"type": "Accepted", "status": "False", "reason": "NoMatchingListenerHostname"},
                      RESOLVED)
    finding = _by_code(_report(doc, builtin_registry))["OKD-ING-009"]
    assert "shop.example.com" in finding.fix.summary
    assert finding.evidence["listeners"][1]["hostname"] == "shop.example.com"


def test_no_matching_parent_points_section_name_at_a_listener_that_exists(builtin_registry):
    doc = _doc("healthy-envoy-gateway-url")
    route = _one(doc, "HTTPRoute", "storefront")
    route["spec"]["parentRefs"][0]["sectionName"] = "websecure"
    route["status"]["parents"][0]["parentRef"]["sectionName"] = "websecure"
    _route_conditions(doc, {"type": "Accepted", "status": "False", "reason": "NoMatchingParent"}, RESOLVED)
    finding = _by_code(_report(doc, builtin_registry))["OKD-ING-009"]
    assert "'websecure'" in finding.fix.summary and "http, https" in finding.fix.summary
    assert '"value":"http"' in finding.fix.commands[0]


def test_a_rejection_by_another_gateway_is_not_this_urls(builtin_registry):
    """The route attaches to two Gateways; the one not holding the URL's address refuses it."""
    doc = _doc("healthy-envoy-gateway-url")
    route = _one(doc, "HTTPRoute", "storefront")
    route["status"]["parents"].append({
        "parentRef": {"name": "internal", "namespace": "default"},
        "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
        "conditions": [{"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners"}]})
    report = _report(doc, builtin_registry)
    assert "OKD-ING-009" not in _by_code(report)
    assert report.hops["ingress"].state.value == "ok"


def test_a_listener_certificate_refnotpermitted_prints_the_secret_grant(builtin_registry):
    report = _report(_doc("gateway-certificate-refnotpermitted"), builtin_registry)
    codes = _by_code(report)
    finding = codes["OKD-ING-011"]
    assert finding.root_cause and "listener https" in finding.title
    grant = yaml.safe_load(finding.fix.patch)
    assert grant["metadata"]["namespace"] == "shop"
    assert grant["spec"]["from"][0]["kind"] == "Gateway" and grant["spec"]["from"][0]["namespace"] == "default"
    assert grant["spec"]["to"] == [{"group": "", "kind": "Secret", "name": "storefront-tls"}]
    assert codes["OKD-INET-001"].caused_by == "OKD-ING-011"


def test_an_http_url_is_not_blamed_on_the_broken_https_listener(builtin_registry):
    doc = _doc("gateway-certificate-refnotpermitted")
    doc["target"]["url"] = "http://shop.example.com/cart"
    assert "OKD-ING-011" not in _by_code(_report(doc, builtin_registry))


def test_a_gateway_no_controller_accepted_names_its_class(builtin_registry):
    doc = _doc("healthy-envoy-gateway-url")
    _one(doc, "Gateway", "eg")["status"]["conditions"] = [
        {"type": "Accepted", "status": "False", "reason": "NotReconciled"},
        {"type": "Programmed", "status": "False", "reason": "Pending"}]
    finding = _by_code(_report(doc, builtin_registry))["OKD-ING-011"]
    assert "not accepted (NotReconciled)" in finding.title
    assert "kubectl get gatewayclass eg -o yaml" in finding.fix.commands
