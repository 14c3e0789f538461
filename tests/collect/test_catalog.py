"""The OCI catalogue and the LB flavour registry: what the readers of each rely on."""

from __future__ import annotations

import pytest

from okedoctor.facts import Facts
from okedoctor.model import Target
from okedoctor.oci_catalog import CATALOG, FLAVORS, INDEXED_SECTIONS, flavor_for_annotation, flavor_of_ocid
from okedoctor.sim.ociapi import COLLECTIONS
from okedoctor.snapshot import Snapshot, snapshot_from_dict


def test_the_simulator_serves_every_listed_section_under_its_service_version():
    from okedoctor.oci_catalog import SERVICES

    for res in CATALOG:
        if not res.keyed:
            assert res.collection in COLLECTIONS[SERVICES[res.service].version], res.section


@pytest.mark.parametrize("res", [r for r in CATALOG if r.section not in ("vcns", "nodePools")],
                         ids=lambda r: r.section)
def test_snapshot_validation_follows_the_catalogue(res):
    wrong = {} if res.kind is list else []
    doc = {"apiVersion": "okedoctor/v1", "kind": "Snapshot", "oci": {res.section: wrong}}
    with pytest.raises(Exception, match=f"oci.{res.section} must be a {res.kind.__name__}"):
        snapshot_from_dict(doc)


def test_facts_find_by_id_exactly_the_indexed_sections():
    oci = {r.section: [{"id": f"ocid1.{r.section}"}] for r in CATALOG if not r.keyed}
    facts = Facts(Snapshot(oci=oci), Target("default", "app"))
    found = {r.section for r in CATALOG if not r.keyed and facts.oci_resource(f"ocid1.{r.section}")}
    assert found == set(INDEXED_SECTIONS)


def test_flavours_name_what_the_oci_cli_and_the_ccm_use():
    nlb, lb = FLAVORS["nlb"], FLAVORS["lb"]
    assert (nlb.cli_group, nlb.id_flag, nlb.kind_name) == ("oci nlb", "--network-load-balancer-id", "NLB")
    assert (lb.cli_group, lb.id_flag, lb.kind_name) == ("oci lb", "--load-balancer-id", "load balancer")
    assert nlb.get("ocid1.networkloadbalancer.x") == ("/networkLoadBalancers/{networkLoadBalancerId}",
                                                       {"networkLoadBalancerId": "ocid1.networkloadbalancer.x"})
    assert lb.sub_path("backendHealth", "L", backendSetName="s", backendName="b")[0] == \
        "/loadBalancers/{loadBalancerId}/backendSets/{backendSetName}/backends/{backendName}/health"
    assert nlb.ccm_name_matches("ns/app/u-1", "ns", "app", "u-1")
    assert not nlb.ccm_name_matches("u-1", "ns", "app", "u-1")
    assert lb.ccm_name_matches("prefix-u-1", "ns", "app", "u-1")
    assert not lb.ccm_name_matches("u-2", "ns", "app", "u-1")
    assert flavor_of_ocid("ocid1.networkloadbalancer.oc1..x") is nlb and flavor_of_ocid("ocid1.loadbalancer.x") is lb
    assert flavor_for_annotation("NLB") is nlb and flavor_for_annotation(None) is lb
