"""The manifests in deploy/ are valid Kubernetes objects (strict: no unknown fields)."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import ROOT

kubernetes_validate = pytest.importorskip("kubernetes_validate")
MANIFESTS = sorted((ROOT / "deploy").glob("*.yaml"))


def documents():
    for path in MANIFESTS:
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                yield pytest.param(doc, id=f"{path.name}#{i}-{doc.get('kind')}")


@pytest.mark.parametrize("doc", list(documents()))
def test_manifest_is_valid_for_kubernetes_1_31(doc):
    kubernetes_validate.validate(doc, "1.31", strict=True)


def test_cronjob_holds_no_secret_and_runs_read_only():
    docs = [d for p in MANIFESTS for d in yaml.safe_load_all(p.read_text()) if d]
    assert not [d for d in docs if d["kind"] == "Secret"], "no Secret belongs in deploy/"
    cron = next(d for d in docs if d["kind"] == "CronJob")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert "report" in args and "--auth=oke_workload_identity" in args
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert "valueFrom" in env["OKEDOCTOR_WEBHOOK_URL"], "the webhook URL must come from a Secret reference"
    sa = pod["serviceAccountName"]
    assert any(d["kind"] == "ServiceAccount" and d["metadata"]["name"] == sa for d in docs), \
        "deploy/rbac.yaml must define the CronJob's ServiceAccount"


def test_only_the_opt_in_fix_role_writes_and_only_what_fix_patches():
    from okedoctor.actions import _PATHS

    docs = {p.name: [d for d in yaml.safe_load_all(p.read_text()) if d] for p in MANIFESTS}
    writes = {"create", "update", "patch", "delete", "deletecollection", "*"}
    for name, items in docs.items():
        for d in items:
            for rule in d.get("rules") or []:
                verbs = set(rule["verbs"]) & writes
                if name == "rbac-exec.yaml" and rule["resources"] == ["pods/exec"]:
                    continue  # exec is `create` on pods/exec: the opt-in probe
                assert not verbs or name == "rbac-fix.yaml", f"{name} grants {verbs}"
    [role] = docs["rbac-fix.yaml"]
    granted = {(g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
               if rule["verbs"] == ["patch"]}
    patched = {(path.split("/")[2] if path.startswith("/apis/") else "", path.rsplit("/", 2)[-2])
               for _, path in _PATHS.values()}
    assert granted == patched
