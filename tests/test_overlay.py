"""Scenario overlays (`base: NAME` plus a patch) and `okedoctor scenario expand`.

The golden reports prove that every shipped overlay expands to the cluster its scenario was
written for; these tests pin what a user writing or reading an overlay relies on: the expanded
file is an ordinary snapshot the loader reads identically, each edit does what
docs/snapshot-format.md says, and a malformed overlay is one line and exit 64.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import yaml

from okedoctor.errors import UsageError
from okedoctor.overlay import BASES_DIR, load_document, merge_patch
from okedoctor.snapshot import load_snapshot, parse_snapshot
from tests.conftest import ROOT, SCENARIOS_DIR, scenario_paths
from tests.conftest import run_main as run

NLB = "ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaaappnlb"




def write(tmp_path, text, name="o.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_expand_prints_the_snapshot_the_loader_reads(path, fmt, capsys):
    code, out, err = run(["scenario", "expand", path.stem, "-o", fmt], capsys)
    assert code in (0, None), err
    expanded = parse_snapshot(out, f"expand {path.stem}")
    assert "base" not in (json.loads(out) if fmt == "json" else yaml.safe_load(out))
    assert expanded.to_dict() == load_snapshot(path).to_dict()


def test_most_shipped_scenarios_are_small_overlays():
    overlays = [p for p in scenario_paths() if "base" in yaml.safe_load(p.read_text())]
    assert len(overlays) >= len(scenario_paths()) - 5
    assert sorted(p.stem for p in BASES_DIR.glob("*.yaml")) == [
        "envoy-gateway", "ingress-nginx", "lb-https", "lb-local", "native-ingress", "nlb-cluster", "traefik"]
    assert not [p for p in scenario_paths() if p.parent != SCENARIOS_DIR], "a base was taken for a scenario"


def test_a_base_is_itself_a_healthy_snapshot(capsys):
    code, out, _ = run(["diagnose", "--from", str(BASES_DIR / "nlb-cluster.yaml")], capsys)
    assert code == 0
    assert "Internet ✔ ──▶ LB ✔ ──▶ NodePort ✔ ──▶ Node ✔ ──▶ Pod ✔" in out


def test_merge_patch_follows_rfc_7386():
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    assert merge_patch(target, {"a": "z", "c": {"f": None}, "l": [3]}) == {"a": "z", "c": {"d": "e"}, "l": [3]}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}, "the target is left alone"
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}


def test_each_edit_does_what_the_docs_say(tmp_path):
    path = write(tmp_path, f"""\
        apiVersion: okedoctor/v1
        kind: Scenario
        base: nlb-cluster
        metadata: {{name: edited, description: null}}
        target: {{lbOcid: x}}
        kubernetes:
          - patch:
              kind: Service
              metadata: {{name: app, namespace: default, annotations: {{oci.oraclecloud.com/load-balancer-type: null}}}}
              spec: {{externalTrafficPolicy: Local}}
          - delete: {{kind: Node, name: 10.0.10.6}}
          - add: {{apiVersion: v1, kind: ConfigMap, metadata: {{name: cfg, namespace: default}}, data: {{k: v}}}}
            after: {{kind: Namespace, name: default}}
          - add: {{apiVersion: v1, kind: Secret, metadata: {{name: s, namespace: default}}}}
          - replace: {{apiVersion: v1, kind: Endpoints, metadata: {{name: app, namespace: default}}, subsets: []}}
        oci:
          networkLoadBalancers:
            - patch: {{id: {NLB}, lifecycleState: FAILED}}
          backendHealth: {{"{NLB}/TCP-80/10.0.10.6:31880": null}}
          networkSecurityGroups: null
        live: {{internet: {{"203.0.113.10:80": {{error: timeout, status: null, body: null}}}}}}
        expect: {{verdict: failure}}
    """)
    base = load_document(BASES_DIR / "nlb-cluster.yaml")
    snap = load_snapshot(path)
    assert snap.metadata == {"name": "edited"} and snap.target == {"namespace": "default", "service": "app",
                                                                    "lbOcid": "x"}
    kube = {(o["kind"], o["metadata"]["name"]): o for o in snap.kubernetes}
    svc = kube[("Service", "app")]
    assert svc["spec"]["externalTrafficPolicy"] == "Local" and svc["spec"]["ports"][0]["nodePort"] == 31880
    assert "annotations" in svc["metadata"] and not svc["metadata"]["annotations"]
    assert ("Node", "10.0.10.6") not in kube and ("Node", "10.0.10.5") in kube
    assert [o["kind"] for o in snap.kubernetes][:2] == ["Namespace", "ConfigMap"], "add after places it"
    assert snap.kubernetes[-1]["kind"] == "Secret", "add without a place appends"
    assert kube[("Endpoints", "app")] == {"apiVersion": "v1", "kind": "Endpoints",
                                         "metadata": {"name": "app", "namespace": "default"}, "subsets": []}
    nlb = snap.oci["networkLoadBalancers"][0]
    assert nlb["lifecycleState"] == "FAILED" and nlb["listeners"] == base["oci"]["networkLoadBalancers"][0]["listeners"]
    assert list(snap.oci["backendHealth"]) == [f"{NLB}/TCP-80/10.0.10.5:31880"]
    assert "networkSecurityGroups" not in snap.oci and snap.oci["subnets"] == base["oci"]["subnets"]
    assert snap.live["internet"] == {"203.0.113.10:80": {"error": "timeout"}}
    assert snap.live["containers"] == base["live"]["containers"], "live is merged, not replaced"
    assert snap.kind == "Scenario" and snap.expect == {"verdict": "failure"}


def test_a_base_may_be_a_file_next_to_the_overlay(tmp_path, capsys):
    write(tmp_path, """\
        apiVersion: okedoctor/v1
        kind: Snapshot
        base: nlb-cluster
        context: {kubeContext: my-cluster}
    """, "mine.yaml")
    path = write(tmp_path, """\
        apiVersion: okedoctor/v1
        kind: Snapshot
        base: ./mine.yaml
        kubernetes:
          - delete: {kind: Pod, namespace: default, name: app-7d9f8b6c5d-q7w4n}
    """)
    snap = load_snapshot(path)
    assert snap.context["kubeContext"] == "my-cluster"
    assert [o["metadata"]["name"] for o in snap.kubernetes if o["kind"] == "Pod"] == ["app-7d9f8b6c5d-k2x8p"]
    code, out, _ = run(["scenario", "expand", str(path)], capsys)
    assert code in (0, None)
    doc = yaml.safe_load(out)
    assert doc["context"]["kubeContext"] == "my-cluster"
    assert [o["metadata"]["name"] for o in doc["kubernetes"] if o["kind"] == "Pod"] == ["app-7d9f8b6c5d-k2x8p"]


@pytest.mark.parametrize("body, message", [
    ("base: no-such-cluster",
     "unknown base 'no-such-cluster'; the shipped bases are: envoy-gateway, ingress-nginx, lb-https, lb-local, "
     "native-ingress, nlb-cluster, traefik"),
    ("base: ./missing.yaml", "base file not found"),
    ("base: nlb-cluster\nkubernetes:\n  - delete: {kind: Pod, namespace: default, name: ghost}",
     "kubernetes[0]: delete: the base holds no Pod default/ghost"),
    ("base: nlb-cluster\nkubernetes:\n  - patch: {kind: Service, metadata: {name: app, namespace: shop}}",
     "kubernetes[0]: patch: the base holds no Service shop/app"),
    ("base: nlb-cluster\nkubernetes:\n  - add: {apiVersion: v1, kind: Node, metadata: {name: 10.0.10.5}}",
     "kubernetes[0]: add: the base already holds Node 10.0.10.5; use patch or replace"),
    ("base: nlb-cluster\nkubernetes:\n  - add: {apiVersion: v1, kind: Node, metadata: {name: n}}\n"
     "    after: {kind: Node, name: ghost}", "kubernetes[0]: after: the base holds no Node ghost"),
    ("base: nlb-cluster\nkubernetes:\n  - remove: {kind: Node, name: 10.0.10.5}",
     "kubernetes[0]: an edit is one of patch, replace, add, delete"),
    ("base: nlb-cluster\nkubernetes: {kind: Node}", "kubernetes: in an overlay this is a list of edits"),
    ("base: nlb-cluster\noci:\n  subnets:\n    - patch: {id: ocid1.subnet.oc1..nope, cidrBlock: 10.0.0.0/8}",
     "oci.subnets[0]: patch: the base holds no ocid1.subnet.oc1..nope"),
    ("base: nlb-cluster\noci:\n  backendHealth: [{delete: {id: x}}]",
     "oci.backendHealth: the base's section is a mapping; merge-patch it"),
])
def test_a_malformed_overlay_is_one_line_and_exit_64(tmp_path, body, message):
    path = write(tmp_path, "apiVersion: okedoctor/v1\nkind: Scenario\n" + body + "\n")
    with pytest.raises(UsageError) as exc:
        load_snapshot(path)
    assert message in str(exc.value) and str(path) in str(exc.value)
    for argv in (["diagnose", "--from", str(path)], ["scenario", "expand", str(path)]):
        proc = subprocess.run([sys.executable, "-m", "okedoctor", *argv], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 64, proc.stderr
        assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_an_overlay_names_its_format_and_a_broken_base_names_the_overlay(tmp_path):
    path = write(tmp_path, "kind: Scenario\nbase: nlb-cluster\n")
    with pytest.raises(UsageError, match="unknown apiVersion None; this okedoctor reads okedoctor/v1"):
        load_snapshot(path)
    write(tmp_path, "apiVersion: okedoctor/v1\nkind: [\n", "broken.yaml")
    path = write(tmp_path, "apiVersion: okedoctor/v1\nkind: Scenario\nbase: ./broken.yaml\n")
    with pytest.raises(UsageError, match=r"o.yaml: base .*broken.yaml: malformed YAML at line 3"):
        load_snapshot(path)


def test_a_base_that_includes_itself_is_refused(tmp_path):
    path = write(tmp_path, "apiVersion: okedoctor/v1\nkind: Snapshot\nbase: ./o.yaml\n")
    with pytest.raises(UsageError, match="includes itself"):
        load_snapshot(path)


def test_expand_of_an_unknown_name_is_one_line(capsys):
    code, _, err = run(["scenario", "expand", "no-such-scenario"], capsys)
    assert code == 64 and "no file and no shipped scenario named 'no-such-scenario'" in err
