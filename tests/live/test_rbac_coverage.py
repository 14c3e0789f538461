"""deploy/rbac.yaml allows every Kubernetes read a diagnosis makes and nothing that writes; exec is
granted only by the separate deploy/rbac-exec.yaml."""

from __future__ import annotations

import re

import yaml

from okedoctor.live.kube import RBAC
from okedoctor.snapshot import load_snapshot
from tests.conftest import ROOT, SCENARIOS_DIR
from tests.live.conftest import run_cli

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"}


def roles() -> dict[str, list[dict]]:
    docs = [d for name in ("rbac.yaml", "rbac-exec.yaml")
            for d in yaml.safe_load_all((ROOT / "deploy" / name).read_text()) if d]
    return {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] == "ClusterRole"}


def allowed(rules: list[dict], group: str, resource: str, verb: str) -> bool:
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules)


def attributes(path: str, exec_ws: bool) -> tuple[str, str, str]:
    """(apiGroup, resource, verb) the API server authorizes a GET of `path` as."""
    m = re.fullmatch(r"/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/([^/]+))?(?:/([^/]+))?(?:/([^/]+))?(?:/([^/]+))?",
                     path)
    assert m, path
    group, ns, resource, name, sub = m.groups()
    if ns and resource is None:  # GET /api/v1/namespaces/NAME
        return "", "namespaces", "get"
    if sub:
        resource = f"{resource}/{sub}"
    verb = "create" if exec_ws else ("get" if name else "list")
    return group or "", resource, verb


def test_reader_and_exec_roles_cover_a_full_diagnosis(sim_env, tmp_path):
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    pod = next(o for o in snap.kubernetes if o["kind"] == "Pod")
    pod["status"]["containerStatuses"][0]["restartCount"] = 1  # running, restarted: logs and the probe
    sim = sim_env(snap, tmp_path / "sim")
    assert run_cli("diagnose", "svc/app", "-o", "json").code in (0, 1, 2)
    seen = _assert_allowed(sim.requests)
    assert {"services", "pods", "nodes", "pods/log", "pods/exec", "events"} <= seen


def test_the_reader_role_covers_a_url_diagnosis(sim_env, tmp_path):
    sim = sim_env(load_snapshot(SCENARIOS_DIR / "healthy-ingress-nginx-url.yaml"), tmp_path / "sim")
    assert run_cli("diagnose", "https://shop.example.com/cart", "-o", "json").code == 0
    seen = _assert_allowed(sim.requests)
    assert {"services", "ingresses", "ingressclasses", "httproutes", "gateways", "secrets"} <= seen


def _assert_allowed(requests) -> set[str]:
    rules = roles()
    seen = set()
    for req in (r for r in requests if r["api"] == "kubernetes"):
        exec_ws = req["path"].endswith("/exec")
        group, resource, verb = attributes(req["path"], exec_ws)
        seen.add(resource)
        role = "okedoctor-exec" if exec_ws else "okedoctor-reader"
        assert allowed(rules[role], group, resource, verb), f"{role} lacks {verb} {group}/{resource} ({req['path']})"
    return seen


def test_roles_do_not_write_and_exec_is_separate():
    rules = roles()
    for name, role_rules in rules.items():
        for rule in role_rules:
            writes = WRITE_VERBS & set(rule["verbs"])
            assert not writes or (name == "okedoctor-exec" and rule["resources"] == ["pods/exec"]), (name, rule)
    assert not any("pods/exec" in r["resources"] for r in rules["okedoctor-reader"])
    base = [d for d in yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text()) if d]
    assert not [d for d in base if "exec" in d["metadata"]["name"]], "exec must be opt-in (deploy/rbac-exec.yaml)"


def test_every_rule_named_in_a_denied_reason_is_in_the_manifest():
    rules = roles()
    for key, rule in RBAC.items():
        role = "okedoctor-exec" if key == "pods/exec" else "okedoctor-reader"
        for verb in rule.verbs:
            assert allowed(rules[role], rule.group, rule.resource, verb), (key, verb)
