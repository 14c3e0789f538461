"""The simulator's OCI writes, through the real oci SDK: ETag / If-Match, 400 on unknown fields,
work requests that run for a while, and 409 for a second change to a load balancer meanwhile."""

from __future__ import annotations

import time

import oci
import pytest

from okedoctor.sim import Simulator
from okedoctor.sim.ociwrite import WORK_SECONDS
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.sim.test_sim_oci_sdk import client

SL = "ocid1.securitylist.oc1.ap-tokyo-1.aaaaaaaanodeseclist"
NLB = "ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaaappnlb"


@pytest.fixture()
def sim(tmp_path):
    with Simulator(load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml"), tmp_path, keep_requests=True) as s:
        yield s


def test_security_list_update_honours_if_match(sim):
    vn = client(oci.core.VirtualNetworkClient, sim)
    read = vn.get_security_list(SL)
    assert read.headers.get("etag")
    rules = read.data.ingress_security_rules
    details = oci.core.models.UpdateSecurityListDetails(ingress_security_rules=rules[:1])
    with pytest.raises(oci.exceptions.ServiceError) as stale:
        vn.update_security_list(SL, details, if_match="not-the-etag")
    assert stale.value.status == 412 and stale.value.code == "NoEtagMatch"
    done = vn.update_security_list(SL, details, if_match=read.headers["etag"])
    assert len(done.data.ingress_security_rules) == 1
    assert done.headers["etag"] != read.headers["etag"]
    # the ETag of the first read is spent: a second update with it would wipe the first's change
    with pytest.raises(oci.exceptions.ServiceError) as again:
        vn.update_security_list(SL, details, if_match=read.headers["etag"])
    assert again.value.status == 412
    logged = [r for r in sim.requests if r["method"] == "PUT"]
    assert len(logged) == 3 and '"ingressSecurityRules"' in logged[-1]["body"]


def test_unknown_fields_are_refused(sim):
    base = client(oci.core.VirtualNetworkClient, sim).base_client
    with pytest.raises(oci.exceptions.ServiceError) as bad:
        base.call_api(resource_path="/securityLists/{id}", method="PUT", path_params={"id": SL},
                      header_params={"content-type": "application/json"}, body={"ingressRules": []})
    assert bad.value.status == 400 and "ingressRules" in bad.value.message


def test_backend_set_update_runs_as_a_work_request(sim):
    nlb = client(oci.network_load_balancer.NetworkLoadBalancerClient, sim)
    bset = nlb.get_network_load_balancer(NLB).data.backend_sets["TCP-80"]
    details = oci.network_load_balancer.models.UpdateBackendSetDetails(
        backends=[oci.network_load_balancer.models.BackendDetails(ip_address="10.0.10.5", port=31880)],
        health_checker=oci.network_load_balancer.models.HealthCheckerDetails(
            protocol=bset.health_checker.protocol, port=bset.health_checker.port,
            url_path=bset.health_checker.url_path))
    accepted = nlb.update_backend_set(NLB, details, "TCP-80")
    assert accepted.status == 202
    wr_id = accepted.headers["opc-work-request-id"]
    assert nlb.get_work_request(wr_id).data.status == "IN_PROGRESS"
    with pytest.raises(oci.exceptions.ServiceError) as busy:
        nlb.update_backend_set(NLB, details, "TCP-80")
    assert busy.value.status == 409
    time.sleep(WORK_SECONDS + 0.1)
    assert nlb.get_work_request(wr_id).data.status == "SUCCEEDED"
    got = nlb.get_network_load_balancer(NLB).data.backend_sets["TCP-80"]
    assert [b.name for b in got.backends] == ["10.0.10.5:31880"]
    listed = nlb.list_work_requests("ocid1.compartment.oc1..aaaaaaaademocompartment")
    assert [w.id for w in listed.data.items] == [wr_id]
