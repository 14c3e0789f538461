"""A fleet report's reads, counted in memory (no socket): bounded as Services grow, none repeated.

The generated fleets are collected through the read seam with `collect_fleet`, and the reads
are counted per kind. What a user notices: a report over many Services makes a number of
requests that grows with the Services and nodes (one probe, one LB health read... per Service),
never with their product, and never asks the same URL twice.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from okedoctor.fleet.generate import generate_fleet
from okedoctor.fleet.run import diagnose_fleet, exposed_services
from okedoctor.live.collector import collect_fleet
from okedoctor.options import LiveOptions
from tests.collect.memory_wires import Reads, memory_wires
from tests.collect.test_plan_in_memory import kubeconfig


def _collect(services: int, nodes: int, pods: int, tmp_path):
    snap, expected = generate_fleet(services, nodes, pods)
    reads = Reads()
    opts = LiveOptions(kubeconfig=kubeconfig(snap, tmp_path / f"kubeconfig-{services}"), timeout=120)
    result = collect_fleet(None, opts, all_namespaces=True, wires=memory_wires(snap, reads))
    return result, reads, expected


@pytest.fixture(scope="module")
def growth(tmp_path_factory):
    """(services, reads) for fleets of 20 and 60 Services over 4 and 12 nodes, 5 pods each."""
    tmp = tmp_path_factory.mktemp("fleet-reads")
    return {n: _collect(n, n // 5, 5, tmp) for n in (20, 60)}


def _per_kind(reads: Reads) -> Counter:
    kinds: Counter = Counter()
    for api, what, _ in reads.seen:
        if api == "kubernetes" and what.endswith("/log"):
            kinds["log"] += 1
        elif api == "oci" and what.startswith(("/instances", "/vnicAttachments", "/privateIps")):
            kinds["worker-list"] += 1
        elif api == "oci" and what.startswith("/vnics/"):
            kinds["vnic-get"] += 1
        else:
            kinds[api] += 1
    return kinds


def test_no_url_is_read_twice(growth):
    for _, reads, _ in growth.values():
        urls = Counter((api, what, query) for api, what, query in reads.seen if api != "internet")
        assert [u for u, n in urls.items() if n > 1] == []


def test_requests_grow_at_most_linearly_with_services(growth):
    small, large = (_per_kind(growth[n][1]) for n in (20, 60))
    # Three times the Services and nodes: at most three times the requests of every kind...
    for kind in large:
        assert large[kind] <= 3 * max(1, small[kind]), (kind, small[kind], large[kind])
    # ...and far from one read per pod, node and Service: one probe per Service at most, and
    # the workers' instances and attachments listed per compartment, not per node.
    assert large["exec"] <= 60
    assert large["worker-list"] <= 2 * small["worker-list"] <= 6
    # OCI has no ListVnics: the workers' VNICs come from their subnet's private IPs and the NSGs'
    # member lists, not from one GetVnic per worker.
    assert large["vnic-get"] == small["vnic-get"] == 0


WORKERS_NSG = "ocid1.networksecuritygroup.oc1.ap-tokyo-1.fleetworkers"


def _with_worker_nsgs(snap):
    """Half the workers in an NSG of the workers' VCN (which allows the LB subnet in), one NSG of
    another VCN that must not be listed for members."""
    oci = snap.oci
    subnet = next(s for s in oci["subnets"] if s["cidrBlock"] == "10.0.8.0/21")
    for nsg_id, vcn in ((WORKERS_NSG, subnet["vcnId"]), (WORKERS_NSG + "other", "ocid1.vcn.oc1.ap-tokyo-1.other")):
        oci["networkSecurityGroups"].append({"id": nsg_id, "compartmentId": subnet["compartmentId"], "vcnId": vcn,
                                             "displayName": "workers", "lifecycleState": "AVAILABLE"})
        oci.setdefault("networkSecurityGroupRules", {})[nsg_id] = [
            {"id": "A1", "direction": "INGRESS", "protocol": "all", "source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK",
             "isStateless": False}]
    for vnic in oci["vnics"][::2]:
        vnic["nsgIds"] = [WORKERS_NSG]
    return snap


def test_listed_vnics_say_what_getvnic_says(tmp_path, builtin_registry):
    """The VNICs a fleet run builds from the lists hold each worker's subnet, address and NSGs
    as the file's GetVnic answers do, the NSG's rules are read, and the verdicts are the file's."""
    snap = _with_worker_nsgs(generate_fleet(10, 6, 2)[0])
    reads = Reads()
    opts = LiveOptions(kubeconfig=kubeconfig(snap, tmp_path / "kubeconfig"), timeout=120)
    result = collect_fleet(None, opts, all_namespaces=True, wires=memory_wires(snap, reads))

    def view(vnics):
        return sorted((v["id"], v["subnetId"], v["privateIp"], tuple(v.get("nsgIds") or ())) for v in vnics)

    assert view(result.snapshot.oci["vnics"]) == view(snap.oci["vnics"])
    assert [w for api, w, _ in reads.seen if api == "oci" and w.startswith("/vnics/")] == []
    members = [w for api, w, _ in reads.seen if api == "oci" and w.endswith("/vnics")]
    assert members == [f"/networkSecurityGroups/{WORKERS_NSG}/vnics"]
    assert WORKERS_NSG in result.snapshot.oci["networkSecurityGroupRules"]
    targets = exposed_services(snap, None, False)
    live = diagnose_fleet(result.snapshot, builtin_registry, targets)
    from_file = diagnose_fleet(snap, builtin_registry, targets)
    assert [r.verdict for r in live.services] == [r.verdict for r in from_file.services]


def test_pods_endpoints_and_slices_are_listed_once_per_namespace(growth):
    _, reads, _ = growth[60]
    lists = Counter((what, query) for api, what, query in reads.seen if api == "kubernetes")
    namespaces = {f"team-{n}" for n in range(10)}
    for ns in namespaces:  # six Services each, one list of each kind, no label selector
        assert lists[(f"/api/v1/namespaces/{ns}/pods", "")] == 1
        assert lists[(f"/api/v1/namespaces/{ns}/endpoints", "")] == 1
        assert lists[(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", "")] == 1
    per_service = [w for w, q in lists if "/endpoints/" in w or "labelSelector" in q]
    assert per_service == []


def test_the_fewer_reads_give_the_verdicts_of_the_file(growth, builtin_registry):
    result, _, expected = growth[60]
    report = diagnose_fleet(result.snapshot, builtin_registry, exposed_services(result.snapshot, None, False))
    got = {f"{r.target.namespace}/{r.target.service}": r.verdict.value for r in report.services}
    assert got == {k: e.verdict for k, e in expected.items()}


def test_a_service_left_unprobed_claims_nothing_of_its_other_pods(growth):
    """One pod per Service is probed; the others carry no answer, so no check calls them ok."""
    result, reads, _ = growth[60]
    probed = Counter(what.split("/pods/")[1].split("/")[0].rsplit("-p", 1)[0]
                     for api, what, _ in reads.seen if api == "exec")
    assert probed and max(probed.values()) == 1
    answered = [k for k, v in (result.snapshot.live.get("containers") or {}).items() if "localhost" in v]
    assert len(answered) == sum(probed.values())
    assert json.dumps(result.stats["api_requests"])  # counted per API, as the report's stats say


def test_a_service_with_an_open_probe_finding_gets_every_pod_probed(tmp_path, builtin_registry):
    """One probe per Service is enough to find a broken image, not to prove it fixed: the pod that
    answered 500 last run may not be the one probed now. A Service whose previous run left an
    in-pod finding open is probed in every pod, and until that happens its finding stays open."""
    from dataclasses import replace

    from okedoctor.fleet import state as fleet_state
    from okedoctor.fleet.run import probe_codes

    snap, _ = generate_fleet(6, 2, 3)
    target = exposed_services(snap, None, False)[0]
    key = f"{target.namespace}/{target.service}"
    code = sorted(probe_codes(builtin_registry))[0]
    previous = {"services": {key: {f"{code}|deployment/x": {"code": code, "severity": "error"}}}}
    opts = LiveOptions(kubeconfig=kubeconfig(snap, tmp_path / "kubeconfig"), timeout=120)
    opts = replace(opts, probe_all_pods_of=fleet_state.open_probe_findings(previous, probe_codes(builtin_registry)))
    reads = Reads()
    result = collect_fleet(None, opts, all_namespaces=True, wires=memory_wires(snap, reads))
    probed = Counter(what.split("/pods/")[1].split("/")[0] for api, what, _ in reads.seen
                     if api == "exec" and f"/namespaces/{target.namespace}/" in what)
    mine = [p["metadata"]["name"] for p in snap.kubernetes if p["kind"] == "Pod"
            and p["metadata"]["namespace"] == target.namespace
            and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in
                    (next(s for s in snap.kubernetes if s["kind"] == "Service"
                          and s["metadata"]["name"] == target.service
                          and s["metadata"]["namespace"] == target.namespace)["spec"]["selector"]).items())]
    assert set(mine) <= set(probed) and len(mine) == 3
    fleet = diagnose_fleet(result.snapshot, builtin_registry, exposed_services(result.snapshot, None, False))
    assert key not in fleet.partly_probed
    # The Services with several ready pods were probed in one: a previous probe finding of theirs
    # is not resolved by this run.
    assert fleet.partly_probed
    other = sorted(fleet.partly_probed)[0]
    fleet.listed = {f"{r.target.namespace}/{r.target.service}": "LoadBalancer" for r in fleet.services}
    changes = fleet_state.compare(fleet, {"services": {other: {f"{code}|deployment/y": {"code": code}}}})
    assert not changes.resolved
    assert [e["why"] for e in changes.unverified[other]] == ["not-probed"]
