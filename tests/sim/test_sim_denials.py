"""A file's recorded denials (`collection`) are served as the real APIs deny: kubectl, the kubernetes
client and the oci SDK meet the same 403 Forbidden / 404 NotAuthorizedOrNotFound the user met."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import oci
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from okedoctor.sim import Simulator
from okedoctor.sim.denials import denial_faults, kube_path
from tests.sim.conftest import POD_A, direct_client, healthy

USER = 'User "ocid1.user.oc1..aaaaaaaaokedoctorsimuser"'
SUBNET = "ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaalbsubnet"


def denied_snapshot():
    snap = healthy()
    snap.collection = {
        "kubernetes.secrets": {"kind": "denied", "reason": (
            'forbidden to read secrets: needs RBAC rule {apiGroups: [""], resources: [secrets], verbs: [get]} '
            "in namespace default (ClusterRole okedoctor-reader in deploy/rbac.yaml)")},
        "live.probe": {"kind": "denied", "reason": "forbidden to read pods/exec"},  # no rule: the fact says
        "kubernetes.deployments": {"kind": "denied", "reason": (
            "forbidden to read deployments: needs RBAC rule {apiGroups: [apps], resources: [deployments], "
            "verbs: [list]} in namespace default")},
        "oci": {"kind": "denied", "reason": (
            "OCI answered 404 NotAuthorizedOrNotFound reading virtual-network-family: needs the IAM policy "
            "statement `Allow group x to read virtual-network-family in tenancy`")},
        "live.containers": {"kind": "unavailable", "reason": "reading logs failed: 503"},  # not a denial
    }
    return snap


@pytest.fixture(scope="module")
def denied(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(denied_snapshot(), tmp_path_factory.mktemp("denied")) as sim:
        yield sim


def test_kubernetes_reads_the_file_records_as_denied_are_forbidden(denied: Simulator):
    core = client.CoreV1Api(direct_client(denied))
    with pytest.raises(ApiException) as err:
        core.read_namespaced_secret("app-db", "default")
    body = json.loads(err.value.body)
    assert (err.value.status, body["reason"], body["code"]) == (403, "Forbidden", 403)
    assert body["message"] == (f'secrets "app-db" is forbidden: {USER} cannot get resource "secrets" '
                               'in API group "" in the namespace "default"')
    with pytest.raises(ApiException) as err:
        core.list_secret_for_all_namespaces()
    assert err.value.status == 403 and "at the cluster scope" in json.loads(err.value.body)["message"]
    with pytest.raises(ApiException) as err:
        client.AppsV1Api(direct_client(denied)).list_namespaced_deployment("default")
    assert json.loads(err.value.body)["message"] == (
        f'deployments.apps is forbidden: {USER} cannot list resource "deployments" in API group "apps" '
        'in the namespace "default"')
    # The exec WebSocket is refused before the upgrade, as the API server's authorizer does.
    with pytest.raises(ApiException, match="403"):
        stream(core.connect_get_namespaced_pod_exec, POD_A, "default", command=["true"], stderr=True,
               stdin=False, stdout=True, tty=False)
    # What the file does not deny is served; an `unavailable` gap is not a denial.
    assert len(core.list_namespaced_pod("default").items) == 2
    assert "listening" in core.read_namespaced_pod_log(POD_A, "default", container="web")
    assert {r["denied"] for r in denied.requests if "denied" in r} == {
        "kubernetes.secrets", "kubernetes.deployments", "live.probe"}


def test_oci_reads_of_a_denied_iam_family_are_not_authorized_or_not_found(denied: Simulator):
    cfg = oci.config.from_file(denied.env["OCI_CLI_CONFIG_FILE"], denied.env["OCI_CLI_PROFILE"])
    kwargs = {"service_endpoint": denied.env["OKEDOCTOR_OCI_ENDPOINT"], "timeout": (2, 2),
              "retry_strategy": oci.retry.NoneRetryStrategy()}
    vn = oci.core.VirtualNetworkClient(cfg, **kwargs)
    with pytest.raises(oci.exceptions.ServiceError) as err:
        vn.get_subnet(SUBNET)
    assert (err.value.status, err.value.code) == (404, "NotAuthorizedOrNotFound")
    nlb = oci.network_load_balancer.NetworkLoadBalancerClient(cfg, **kwargs)
    assert nlb.list_network_load_balancers(compartment_id="ocid1.compartment.oc1..aaaaaaaademocompartment").data


def test_kubectl_meets_the_recorded_denial(denied: Simulator, tmp_path: Path):
    kubectl = shutil.which("kubectl") or "/usr/bin/kubectl"
    if not Path(kubectl).exists():
        pytest.skip("kubectl is not installed here")
    env = {**os.environ, **denied.env, "HOME": str(tmp_path)}
    out = subprocess.run([kubectl, "--cache-dir", str(tmp_path / "cache"), "get", "secret", "app-db"], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert f'Error from server (Forbidden): secrets "app-db" is forbidden: {USER} cannot get resource' in out.stderr


def test_denial_paths_match_the_reads_and_nothing_else():
    secrets = re.compile(kube_path("", "secrets"))
    assert secrets.search("/api/v1/namespaces/default/secrets/app-db")
    assert secrets.search("/api/v1/secrets")
    assert not secrets.search("/api/v1/namespaces/default/configmaps/secrets")
    exec_ = re.compile(kube_path("", "pods/exec"))
    assert exec_.search("/api/v1/namespaces/default/pods/web-0/exec")
    assert not exec_.search("/api/v1/namespaces/default/pods/web-0/log")
    assert not exec_.search("/api/v1/namespaces/default/pods")
    anygroup = re.compile(kube_path(None, "deployments"))
    assert anygroup.search("/apis/apps/v1/namespaces/default/deployments")
    faults = denial_faults({"oci": {"kind": "denied", "reason": "reading instance-family and load-balancers"}})
    assert [(f.api, f.status) for f in faults] == [("oci", 404), ("oci", 404)]
    assert any(f.path.search("/20160918/vnicAttachments") for f in faults)
    assert not any(f.path.search("/20160918/subnets/x") for f in faults)
    assert not denial_faults({"oci": {"kind": "disabled", "reason": "no OCI config"}})
    nlb_only = denial_faults({"oci": {"kind": "denied", "reason": "reading network-load-balancers: ..."}})
    assert [f.path.pattern for f in nlb_only] == ["^/20200501/"]
