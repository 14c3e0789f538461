"""The real oci SDK clients against the simulator: the file's resources come back as SDK models."""

from __future__ import annotations

import configparser
from pathlib import Path

import oci
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from okedoctor.sim import Simulator
from tests.sim.conftest import healthy

COMP = "ocid1.compartment.oc1..aaaaaaaademocompartment"
NLB = "ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaaappnlb"
LB = "ocid1.loadbalancer.oc1.ap-tokyo-1.aaaaaaaaapplb"
NSG = "ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaalbnsg"
RT = "ocid1.routetable.oc1.ap-tokyo-1.aaaaaaaapublicrt"


def oci_snapshot():
    snap = healthy()
    snap.oci["loadBalancers"] = [{
        "id": LB, "compartmentId": COMP, "displayName": "default/web/1f2e3d4c", "lifecycleState": "ACTIVE",
        "shapeName": "flexible", "isPrivate": False, "timeCreated": "2026-11-01T09:00:30.000Z",
        "ipAddresses": [{"ipAddress": "203.0.113.20", "isPublic": True}],
        "subnetIds": ["ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaalbsubnet"], "networkSecurityGroupIds": [NSG],
        "listeners": {"TCP-443": {"name": "TCP-443", "defaultBackendSetName": "TCP-443", "port": 443,
                                  "protocol": "TCP"}},
        "backendSets": {"TCP-443": {
            "name": "TCP-443", "policy": "ROUND_ROBIN",
            "backends": [{"name": "10.0.10.5:30443", "ipAddress": "10.0.10.5", "port": 30443, "weight": 1,
                          "drain": False, "backup": False, "offline": False}],
            "healthChecker": {"protocol": "HTTP", "urlPath": "/healthz", "port": 10256, "returnCode": 200,
                              "retries": 3, "timeoutInMillis": 3000, "intervalInMillis": 10000}}},
        "freeformTags": {}, "definedTags": {}}]
    snap.oci["backendSetHealth"][f"{LB}/TCP-443"] = {
        "status": "CRITICAL", "warningStateBackendNames": [], "criticalStateBackendNames": ["10.0.10.5:30443"],
        "unknownStateBackendNames": [], "totalBackendCount": 1}
    snap.oci["networkSecurityGroups"] = [{
        "id": NSG, "compartmentId": COMP, "vcnId": "ocid1.vcn.oc1.ap-tokyo-1.aaaaaaaademovcn",
        "displayName": "oke-lb-nsg", "lifecycleState": "AVAILABLE", "timeCreated": "2026-10-01T07:50:00.000Z"}]
    snap.oci["networkSecurityGroupRules"] = {NSG: [
        {"id": "04ABEC", "direction": "INGRESS", "protocol": "6", "source": "0.0.0.0/0",
         "sourceType": "CIDR_BLOCK", "isStateless": False, "isValid": True,
         "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}}},
        {"id": "0E1F2A", "direction": "EGRESS", "protocol": "6", "destination": "10.0.10.0/24",
         "destinationType": "CIDR_BLOCK", "isStateless": False, "isValid": True,
         "tcpOptions": {"destinationPortRange": {"min": 30000, "max": 32767}}}]}
    snap.oci["routeTables"] = [{
        "id": RT, "compartmentId": COMP, "vcnId": "ocid1.vcn.oc1.ap-tokyo-1.aaaaaaaademovcn",
        "displayName": "public", "lifecycleState": "AVAILABLE",
        "routeRules": [{"destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK",
                        "networkEntityId": "ocid1.internetgateway.oc1.ap-tokyo-1.aaaaaaaaigw"}]}]
    return snap


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with Simulator(oci_snapshot(), tmp_path_factory.mktemp("oci")) as sim:
        yield sim


def client(cls, sim: Simulator, config: dict | None = None):
    cfg = config or oci.config.from_file(sim.env["OCI_CLI_CONFIG_FILE"], sim.env["OCI_CLI_PROFILE"])
    return cls(cfg, service_endpoint=sim.env["OKEDOCTOR_OCI_ENDPOINT"], retry_strategy=oci.retry.NoneRetryStrategy(),
               circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(), timeout=(2, 5))


def test_config_file_is_valid_for_the_sdk(running):
    cfg = oci.config.from_file(running.env["OCI_CLI_CONFIG_FILE"], running.env["OCI_CLI_PROFILE"])
    oci.config.validate_config(cfg)
    assert cfg["region"] == "ap-tokyo-1"


def test_network_load_balancer(running):
    nlb = client(oci.network_load_balancer.NetworkLoadBalancerClient, running)
    listed = nlb.list_network_load_balancers(compartment_id=COMP).data
    assert [n.id for n in listed.items] == [NLB]
    assert nlb.list_network_load_balancers(compartment_id="ocid1.compartment.oc1..other").data.items == []
    assert nlb.list_network_load_balancers(compartment_id=COMP, display_name="nope").data.items == []
    got = nlb.get_network_load_balancer(NLB)
    assert got.request_id and got.data.lifecycle_state == "ACTIVE"
    bset = got.data.backend_sets["TCP-80"]
    assert bset.health_checker.port == 10256 and [b.port for b in bset.backends] == [31880, 31880]
    assert nlb.get_backend_set_health(NLB, "TCP-80").data.status == "OK"
    # The backend name holds a colon; the SDK sends it URL-encoded.
    assert nlb.get_backend_health(NLB, "TCP-80", "10.0.10.6:31880").data.health_check_results[0] \
        .health_check_status == "OK"
    assert [ls.port for ls in nlb.list_listeners(NLB).data.items] == [80]
    assert nlb.get_health_checker(NLB, "TCP-80").data.url_path == "/healthz"


def test_load_balancer(running):
    lb = client(oci.load_balancer.LoadBalancerClient, running)
    listed = lb.list_load_balancers(COMP).data
    assert isinstance(listed, list) and [x.display_name for x in listed] == ["default/web/1f2e3d4c"]
    got = lb.get_load_balancer(LB).data
    assert got.backend_sets["TCP-443"].backends[0].drain is False
    health = lb.get_backend_set_health(LB, "TCP-443").data
    assert health.status == "CRITICAL" and health.critical_state_backend_names == ["10.0.10.5:30443"]


def test_virtual_network(running):
    vn = client(oci.core.VirtualNetworkClient, running)
    assert vn.get_subnet("ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaaworkersubnet").data.cidr_block == "10.0.10.0/24"
    seclist = vn.get_security_list("ocid1.securitylist.oc1.ap-tokyo-1.aaaaaaaalbseclist").data
    assert seclist.ingress_security_rules[0].tcp_options.destination_port_range.min == 80
    assert vn.get_network_security_group(NSG).data.display_name == "oke-lb-nsg"
    rules = vn.list_network_security_group_security_rules(NSG).data
    assert [r.direction for r in rules] == ["INGRESS", "EGRESS"]
    assert [r.id for r in vn.list_network_security_group_security_rules(NSG, direction="EGRESS").data] == \
        ["0E1F2A"]
    assert vn.get_route_table(RT).data.route_rules[0].destination == "0.0.0.0/0"
    assert vn.get_vnic("ocid1.vnic.oc1.ap-tokyo-1.aaaaaaaavnic2").data.private_ip == "10.0.10.6"


def test_compute_and_pagination(running):
    compute = client(oci.core.ComputeClient, running)
    assert compute.get_instance("ocid1.instance.oc1.ap-tokyo-1.aaaaaaaanode1").data.shape == "VM.Standard.E4.Flex"
    one = compute.list_vnic_attachments(COMP, instance_id="ocid1.instance.oc1.ap-tokyo-1.aaaaaaaanode2").data
    assert [a.vnic_id for a in one] == ["ocid1.vnic.oc1.ap-tokyo-1.aaaaaaaavnic2"]
    before = len(running.requests)
    every = oci.pagination.list_call_get_all_results(compute.list_vnic_attachments, COMP, limit=1).data
    assert [a.id[-7:] for a in every] == ["attach1", "attach2"]
    pages = [r for r in running.requests[before:] if r["path"] == "/20160918/vnicAttachments"]
    assert len(pages) == 2 and "page=" not in pages[0]["query"] and "page=" in pages[1]["query"]


def test_missing_resource_is_404_not_authorized_or_not_found(running):
    vn = client(oci.core.VirtualNetworkClient, running)
    with pytest.raises(oci.exceptions.ServiceError) as err:
        vn.get_subnet("ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaagone")
    assert (err.value.status, err.value.code) == (404, "NotAuthorizedOrNotFound")
    assert err.value.request_id


def test_a_request_signed_with_another_key_is_refused(running, tmp_path: Path):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "other.pem").write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    parser = configparser.ConfigParser()
    parser.read(running.env["OCI_CLI_CONFIG_FILE"])
    cfg = dict(parser["DEFAULT"], key_file=str(tmp_path / "other.pem"))  # same keyId, wrong key
    vn = client(oci.core.VirtualNetworkClient, running, cfg)
    with pytest.raises(oci.exceptions.ServiceError) as err:
        vn.get_subnet("ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaaworkersubnet")
    assert (err.value.status, err.value.code) == (401, "NotAuthenticated")


def test_unsigned_and_mutating_requests(running):
    import httpx

    base = running.env["OKEDOCTOR_OCI_ENDPOINT"]
    resp = httpx.get(f"{base}/20160918/subnets/ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaaworkersubnet")
    assert resp.status_code == 401 and resp.json()["code"] == "NotAuthenticated"
    assert resp.headers["opc-request-id"]
    # A signed DELETE is recorded and refused; nothing in the file changes.
    signer = oci.signer.Signer.from_config(
        oci.config.from_file(running.env["OCI_CLI_CONFIG_FILE"], running.env["OCI_CLI_PROFILE"]))
    import oci._vendor.requests as vreq

    resp = vreq.delete(f"{base}/20200501/networkLoadBalancers/{NLB}", auth=signer)
    assert resp.status_code == 405
    assert any(r["api"] == "oci" and r["method"] == "DELETE" for r in running.requests)


def test_a_section_the_file_lacks_was_not_observed(tmp_path):
    snap = healthy()
    del snap.oci["vnicAttachments"]  # nobody looked: not the same as "there are none"
    with Simulator(snap, tmp_path / "w") as sim:
        compute = client(oci.core.ComputeClient, sim)
        with pytest.raises(oci.exceptions.ServiceError) as err:
            compute.list_vnic_attachments(COMP)
        assert err.value.status == 404 and "not observed" in err.value.message
        lb = client(oci.load_balancer.LoadBalancerClient, sim)
        assert lb.list_load_balancers(COMP).data == []  # `loadBalancers: []`: observed, none
        vn = client(oci.core.VirtualNetworkClient, sim)
        with pytest.raises(oci.exceptions.ServiceError) as err:
            vn.get_route_table(RT)
        assert "not observed" in err.value.message
