"""The ingress controller's own failures: an annotation it refuses (OKD-ING-006), its own 404/503
page while the rule and the backend are fine (OKD-ING-007), another controller's annotations
(OKD-ING-008), and what a live URL run keeps of the controller's log."""

from __future__ import annotations

import copy

import pytest

from okedoctor.chain import admission
from okedoctor.chain import ingress as ing
from okedoctor.chain.answers import controller_wrote
from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.facts import Facts
from okedoctor.live import urlcollect
from okedoctor.live.kube_reads import Forbidden
from okedoctor.model import Target
from okedoctor.snapshot import Snapshot, load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR

NGINX = next(k for k in ing.CONTROLLERS if k.name == "ingress-nginx")
RISKY = ("E1201 03:40:12.627508       7 store.go:938] annotation group ConfigurationSnippet contains risky "
         "annotation based on ingress configuration")
ACCESS = '203.0.113.77 - - [01/Dec/2026:03:48:51 +0000] "GET /cart?token=abc HTTP/2.0" 404 146 "-" "curl/8.5.0"'


def _doc(name: str) -> dict:
    return copy.deepcopy(load_snapshot(SCENARIOS_DIR / f"{name}.yaml").to_dict())


def _report(doc: dict, registry):
    snap = snapshot_from_dict(doc)
    return diagnose_snapshot(snap, resolve_target(snap, None, None, "test"), registry)


def _codes(report) -> dict[str, object]:
    return {f.code: f for f in report.findings}


def _ingress(annotations: dict[str, str], name: str = "storefront") -> dict:
    return {"kind": "Ingress", "metadata": {"name": name, "namespace": "shop", "annotations": annotations}}


def _facts(lines: str, events: list[dict] | None = None) -> tuple[Facts, list[dict]]:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ctl", "namespace": "ingress-nginx"},
           "spec": {"containers": [{"name": "controller"}]}}
    snap = Snapshot(kind="Snapshot", metadata={}, kubernetes=[pod, *(events or [])],
                    live={"containers": {"ingress-nginx/ctl/controller": {"logs": lines}}})
    return Facts(snap, Target("shop", "storefront")), [pod]


def test_only_warning_and_error_lines_of_a_controller_log_are_kept():
    text = "\n".join(["I1201 starting", RISKY, ACCESS, 'nginx: [emerg] unknown directive "location1"',
                      '{"level":"error","error":"middleware \\"m@kubernetescrd\\" does not exist"}',
                      'time="x" level=warning msg="Endpoints not available"', '{"level":"info","message":"ok"}'])
    kept = admission.problem_lines(text)
    assert kept == [RISKY, 'nginx: [emerg] unknown directive "location1"',
                    '{"level":"error","error":"middleware \\"m@kubernetescrd\\" does not exist"}',
                    'time="x" level=warning msg="Endpoints not available"']


@pytest.mark.parametrize(("controller", "answer", "own"), [
    ("ingress-nginx", {"status": 404, "body": "<hr><center>nginx</center>"}, True),
    ("ingress-nginx", {"status": 404, "body": "default backend - 404"}, True),
    ("ingress-nginx", {"status": 503, "body": "<title>503 Service Temporarily Unavailable</title>"}, True),
    ("ingress-nginx", {"status": 404, "body": '{"error": "no such cart"}'}, False),  # the app's own 404
    ("traefik", {"status": 404, "body": "404 page not found\n"}, True),
    ("traefik", {"status": 503, "body": "no available server"}, True),
    ("envoy-gateway", {"status": 503, "body": "no healthy upstream"}, True),
    ("envoy-gateway", {"status": 404, "body": "", "headers": {"Server": "envoy"}}, True),
    ("envoy-gateway", {"status": 404, "body": "", "headers": {"server": "gunicorn"}}, False),
    ("traefik", {"status": 502, "body": "Bad Gateway"}, False),
])
def test_the_controllers_own_pages_are_told_from_the_apps(controller, answer, own):
    assert (controller_wrote(controller, answer) is not None) is own


def test_a_risky_group_line_is_tied_to_the_ingress_carrying_that_annotation_only():
    facts, pods = _facts(RISKY + "\n")
    snippet = _ingress({admission.NGINX_PREFIX + "configuration-snippet": "more_set_headers x;"})
    plain = _ingress({admission.NGINX_PREFIX + "proxy-body-size": "8m"}, "other")
    (r,) = admission.rejections(facts, NGINX, pods, [snippet, plain])
    assert r.ingress is snippet and r.drops_ingress and r.annotation.endswith("configuration-snippet")


def test_a_line_naming_another_ingress_is_not_tied_to_this_one():
    line = ('E1201 00:00:00.0 7 store.go:1] "error" ingress="shop/blog" err="nginx.ingress.kubernetes.io/'
            'server-snippet annotation contains invalid word location"\n')
    facts, pods = _facts(line)
    assert admission.rejections(facts, NGINX, pods, [_ingress({admission.NGINX_PREFIX + "server-snippet": "x"})]) == []


def test_snippets_disabled_means_the_annotation_is_ignored_not_the_ingress_dropped():
    facts, pods = _facts("W1201 00:00:00.0 7 store.go:1] nginx.ingress.kubernetes.io/configuration-snippet annotation "
                         "cannot be used. Snippet directives are disabled by the Ingress administrator\n")
    (r,) = admission.rejections(facts, NGINX, pods, [_ingress({admission.NGINX_PREFIX + "configuration-snippet": "x"})])
    assert not r.drops_ingress


def test_a_warning_event_naming_an_annotation_is_a_rejection_too():
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "shop"}, "type": "Warning",
             "reason": "AnnotationRejected", "involvedObject": {"kind": "Ingress", "namespace": "shop",
                                                                 "name": "storefront"},
             "message": "nginx.ingress.kubernetes.io/auth-url: contains invalid value"}
    facts, pods = _facts("", [event])
    ingress = _ingress({admission.NGINX_PREFIX + "auth-url": "http://auth"})
    ingress["apiVersion"] = "networking.k8s.io/v1"
    (r,) = admission.rejections(facts, NGINX, pods, [ingress])
    assert r.source == "event AnnotationRejected" and r.annotation == admission.NGINX_PREFIX + "auth-url"


def test_the_rejected_snippet_fix_removes_it_and_gives_the_configmap_change_with_its_caveat(builtin_registry):
    report = _report(_doc("ingress-annotation-rejected"), builtin_registry)
    f = _codes(report)["OKD-ING-006"]
    assert f.fix.commands[0] == ("kubectl annotate ingress -n shop storefront "
                                 "nginx.ingress.kubernetes.io/configuration-snippet-")
    assert '"annotations-risk-level":"Critical"' in f.fix.commands[1] and "CVE-2021-25742" in f.fix.summary
    assert "more_set_headers" not in str(f.evidence)  # the snippet's text never reaches the report


def test_without_the_log_line_the_404_is_the_controllers_own_root_cause(builtin_registry):
    doc = _doc("ingress-annotation-rejected")
    for entry in doc["live"]["containers"].values():
        entry.pop("logs", None)
    codes = _codes(_report(doc, builtin_registry))
    assert "OKD-ING-006" not in codes and codes["OKD-ING-007"].root_cause


def test_a_404_is_not_the_controllers_while_the_backend_has_no_ready_endpoint(builtin_registry):
    doc = _doc("ingress-controller-stale-config")
    for obj in doc["kubernetes"]:
        if obj["kind"] == "Endpoints" and obj["metadata"]["name"] == "storefront":
            for subset in obj["subsets"]:
                subset["notReadyAddresses"] = subset.pop("addresses")
    assert "OKD-ING-007" not in _codes(_report(doc, builtin_registry))


def test_a_denied_endpointslice_list_explains_the_503_and_gives_the_rule(builtin_registry):
    """ingress-nginx whose account may not list EndpointSlices answers 503 for a Service with ready
    pods: the fix names the account and the kind, checks it with `kubectl auth can-i`, and gives the rule."""
    f = _codes(_report(_doc("ingress-controller-503-endpointslices-forbidden"), builtin_registry))["OKD-ING-007"]
    assert f.root_cause and f.evidence["status"] == 503
    assert f.evidence["forbidden"] == ["list endpointslices.discovery.k8s.io "
                                       "(system:serviceaccount:ingress-nginx:ingress-nginx)"]
    assert "ingress-nginx/ingress-nginx may not read endpointslices.discovery.k8s.io" in f.fix.summary
    assert ("kubectl auth can-i list endpointslices.discovery.k8s.io "
            "--as=system:serviceaccount:ingress-nginx:ingress-nginx") in f.fix.commands
    assert '- apiGroups: ["discovery.k8s.io"]\n  resources: [endpointslices]\n  verbs: [get, list, watch]' \
        in f.fix.patch


def test_forbidden_lines_are_read_with_plain_or_escaped_quotes_once_each():
    plain = ('W1201 03:44:12.118201 7 reflector.go:561] failed to list *v1.Service: services is forbidden: User '
             '"system:serviceaccount:ing:ctl" cannot list resource "services" in API group "" at the cluster scope')
    escaped = ('E1201 03:44:12.118264 7 reflector.go:158] "Unhandled Error" err="failed to list *v1.EndpointSlice: '
               'endpointslices.discovery.k8s.io is forbidden: User \\"system:serviceaccount:ing:ctl\\" cannot '
               'list resource \\"endpointslices\\" in API group \\"discovery.k8s.io\\" at the cluster scope"')
    doc = _doc("ingress-controller-503-endpointslices-forbidden")
    for entry in doc["live"]["containers"].values():
        entry["logs"] = "\n".join([plain, escaped, plain, ACCESS]) + "\n"
    facts = Facts(snapshot_from_dict(doc), Target(None, None))
    pods = [o for o in facts.objects("Pod") if o["metadata"]["namespace"] == "ingress-nginx"]
    got = admission.rbac_denials(facts, pods)
    assert [(d.user, d.verb, d.kind) for d in got] == [
        ("system:serviceaccount:ing:ctl", "list", "services"),
        ("system:serviceaccount:ing:ctl", "list", "endpointslices.discovery.k8s.io")]


def test_a_denial_of_something_else_than_endpoints_claims_no_missing_endpoint(builtin_registry):
    doc = _doc("ingress-controller-503-endpointslices-forbidden")
    for entry in doc["live"]["containers"].values():
        entry["logs"] = entry["logs"].replace("endpointslices", "ingressclasses").replace(
            "discovery.k8s.io", "networking.k8s.io")
    f = _codes(_report(doc, builtin_registry))["OKD-ING-007"]
    assert "may not read ingressclasses.networking.k8s.io" in f.fix.summary
    assert "knows no endpoint" not in f.fix.summary and "does not run the configuration" in f.fix.summary


def test_the_apps_own_404_is_not_blamed_on_the_controller(builtin_registry):
    doc = _doc("ingress-controller-stale-config")
    for address in ("203.0.113.10:443", "203.0.113.10:80"):
        doc["live"]["internet"][address]["hosts"]["shop.example.com"] = {"status": 404, "body": '{"error":"no cart"}'}
    report = _report(doc, builtin_registry)
    assert "OKD-ING-007" not in _codes(report) and report.verdict.value == "ok"


def test_traefik_with_its_nginx_provider_reads_nginx_annotations(builtin_registry):
    doc = _doc("traefik-nginx-annotations")
    for obj in doc["kubernetes"]:
        if obj["kind"] == "Pod" and obj["metadata"]["namespace"] == "traefik":
            obj["spec"]["containers"][0]["args"].append("--providers.kubernetesingressnginx")
    assert _report(doc, builtin_registry).verdict.value == "ok"


class _Reads:
    """KubeReads' log read, answering from a dict (or raising)."""

    def __init__(self, logs: dict[str, str | Exception]):
        self.logs, self.asked = logs, []

    def log(self, ns, pod, container, previous, depth, attempts=3):
        self.asked.append((pod, attempts))
        got = self.logs[pod]
        if isinstance(got, Exception):
            raise got
        return got


def _pod(name: str, ready: bool) -> dict:
    return {"metadata": {"name": name, "namespace": "ingress-nginx"}, "spec": {"containers": [{"name": "controller"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_a_live_url_run_keeps_only_the_controllers_problem_lines_redacted_without_retries():
    reads = _Reads({"a": "I1201 up\n" + ACCESS + "\nE1201 x.go:1] login failed password=hunter2\n" + RISKY + "\n",
                    "b": Forbidden("pods/log")})
    got = urlcollect._controller_logs(reads, [_pod("b", False), _pod("a", True)])
    assert list(got) == ["ingress-nginx/a/controller"]
    text = got["ingress-nginx/a/controller"]
    assert "hunter2" not in text and "203.0.113.77" not in text and RISKY in text
    assert reads.asked[0] == ("a", 1)  # the ready pod first, one attempt


def test_the_controller_lines_do_not_replace_a_log_its_service_run_read_whole():
    snap = Snapshot(kind="Snapshot", metadata={}, live={"containers": {"ns/p/c": {"logs": "whole"}}})
    urlcollect._merge_logs(snap, {"ns/p/c": "lines", "ns/q/c": "other"})
    assert snap.live["containers"] == {"ns/p/c": {"logs": "whole"}, "ns/q/c": {"logs": "other"}}
