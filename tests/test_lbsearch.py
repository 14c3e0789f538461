"""The pure search by backends (okedoctor/lbsearch.py) and the Facts API built on it."""

from __future__ import annotations

from okedoctor.facts import Facts
from okedoctor.lbsearch import search_by_backends
from okedoctor.model import Target
from okedoctor.snapshot import Snapshot

C = "ocid1.compartment.oc1..aaaaaaaaclustercomp"


def svc(name, node_port, port=80, ns="default", stype="NodePort", hc=None):
    spec = {"type": stype, "ports": [{"port": port, "protocol": "TCP", "nodePort": node_port}]}
    if hc:
        spec["healthCheckNodePort"] = hc
    return {"apiVersion": "v1", "kind": "Service", "spec": spec,
            "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}"}}


def node(ip, instance):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": ip},
            "spec": {"providerID": instance}, "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}


NODES = [node("10.0.10.5", "ocid1.instance.oc1..n1"), node("10.0.10.6", "ocid1.instance.oc1..n2")]


def nlb(ocid, port, listener=80, ips=("10.0.10.5", "10.0.10.6"), by_target=False):
    backends = [{"name": f"{ip}:{port}", "port": port,
                 **({"targetId": f"ocid1.instance.oc1..n{i + 1}", "ipAddress": "192.0.2.1"} if by_target
                    else {"ipAddress": ip})} for i, ip in enumerate(ips)]
    return {"id": ocid, "displayName": ocid.rsplit(".", 1)[-1], "compartmentId": C,
            "listeners": {"l": {"name": "l", "port": listener, "defaultBackendSetName": "bs"}},
            "backendSets": {"bs": {"name": "bs", "backends": backends}}}


def facts(services, nlbs=(), lbs=(), target="app", lb_search=None):
    context = {"compartmentId": C}
    if lb_search is not None:
        context["lbSearch"] = lb_search
    snap = Snapshot(kind="Snapshot", metadata={"name": "t"}, context=context,
                    target={"namespace": "default", "service": target},
                    kubernetes=[*services, *NODES], oci={"networkLoadBalancers": list(nlbs),
                                                         "loadBalancers": list(lbs)})
    return Facts(snap, Target("default", target))


def test_exact_nodeport_match_wins_and_others_are_left_to_their_service():
    services = [svc("app", 30417), svc("admin", 30590, port=8080)]
    f = facts(services, [nlb("ocid1.nlb.b-admin", 30590, 8080), nlb("ocid1.nlb.a-app", 30417)])
    assert f.load_balancer.id == "ocid1.nlb.a-app" and f.load_balancer.found_by == "backends"
    assert "NodePort 30417 of Service default/app" in f.load_balancer.note
    assert f.retarget(Target("default", "admin")).load_balancer.id == "ocid1.nlb.b-admin"


def test_nlb_backend_found_by_instance_ocid_alone():
    f = facts([svc("app", 30417)], [nlb("ocid1.nlb.x", 30417, by_target=True)])
    assert f.load_balancer.id == "ocid1.nlb.x"


def test_stale_port_lb_goes_to_the_only_service_nothing_else_explains():
    # admin has its own NLB; app has none: the NLB on a NodePort nobody uses is app's.
    services = [svc("app", 30417), svc("admin", 30590, port=8080)]
    nlbs = [nlb("ocid1.nlb.admin", 30590, 8080), nlb("ocid1.nlb.stale", 31880)]
    f = facts(services, nlbs)
    assert f.load_balancer.id == "ocid1.nlb.stale"
    assert "no Service uses any more" in f.load_balancer.note and "default/app" in f.load_balancer.note
    assert f.retarget(Target("default", "admin")).load_balancer.id == "ocid1.nlb.admin"


def test_stale_port_lb_goes_by_listener_port_when_several_services_have_none():
    services = [svc("app", 30417, port=80), svc("api", 30500, port=8443)]
    f = facts(services, [nlb("ocid1.nlb.stale", 31880, listener=8443)])
    assert f.load_balancer is None  # it listens on api's port, not app's
    assert f.retarget(Target("default", "api")).load_balancer.id == "ocid1.nlb.stale"


def test_ambiguous_stale_port_lb_is_not_attributed_but_named_in_the_hint():
    services = [svc("app", 30417, port=80), svc("web", 30418, port=80)]
    f = facts(services, [nlb("ocid1.nlb.stale", 31880)])
    assert f.load_balancer is None
    search = f.lb_search
    assert search.found_by is None and search.compartments == (C,)
    assert search.hint.startswith(f"no load balancer found for this Service in compartment {C}; pass --lb-ocid")
    assert "ocid1.nlb.stale" in search.hint and "default/web" in search.hint


def test_a_port_another_service_uses_is_never_stale():
    services = [svc("app", 30417), svc("other", 31880, ns="team-b")]
    f = facts(services, [nlb("ocid1.nlb.x", 31880)])
    assert f.load_balancer is None  # it is team-b/other's, on its NodePort
    assert facts(services[:1], [nlb("ocid1.nlb.x", 31880)]).load_balancer.id == "ocid1.nlb.x"
    hc_only = [svc("app", 30417), svc("local", 30600, hc=31880)]
    assert facts(hc_only, [nlb("ocid1.nlb.x", 31880)]).load_balancer is None


def test_backends_not_on_this_clusters_nodes_do_not_match():
    f = facts([svc("app", 30417)], [nlb("ocid1.nlb.x", 30417, ips=("10.9.9.9",))])
    assert f.load_balancer is None


def test_several_matches_pick_the_lowest_ocid_and_expose_all():
    f = facts([svc("app", 30417)], [nlb("ocid1.nlb.zz", 30417), nlb("ocid1.nlb.aa", 30417)])
    assert f.load_balancer.id == "ocid1.nlb.aa"
    assert [r.id for r in f.load_balancers] == ["ocid1.nlb.aa", "ocid1.nlb.zz"]
    assert [lb["id"] for lb in f.lb_search.to_dict()["loadBalancers"]] == ["ocid1.nlb.aa", "ocid1.nlb.zz"]


def test_exact_match_beats_a_stale_one():
    f = facts([svc("app", 30417)], [nlb("ocid1.nlb.a-stale", 31880), nlb("ocid1.nlb.b-exact", 30417)])
    assert [r.id for r in f.load_balancers] == ["ocid1.nlb.b-exact"]


def test_a_clusterip_service_is_never_matched():
    f = facts([svc("app", None, stype="ClusterIP")], [nlb("ocid1.nlb.x", 31880)])
    assert f.load_balancer is None
    assert search_by_backends(None, [], NODES, [nlb("ocid1.nlb.x", 31880)], []).cluster_lbs == ("ocid1.nlb.x",)


def test_the_ccm_name_still_comes_first():
    ccm = nlb("ocid1.nlb.zccm", 30417)
    ccm["displayName"] = "default/app/uid-app"
    f = facts([svc("app", 30417, stype="LoadBalancer")], [nlb("ocid1.nlb.aaa", 30417), ccm])
    assert f.load_balancer.id == "ocid1.nlb.zccm" and f.load_balancer.found_by == "display-name"
    assert f.lb_search.found_by == "display-name" and f.lb_search.hint is None


def test_searched_compartments_come_from_context_lb_search():
    other = "ocid1.compartment.oc1..aaaaaaaanodes"
    f = facts([svc("app", 30417)], lb_search={"compartments": [{"id": C, "from": ["cluster"]},
                                                               {"id": other, "from": ["nodes"]}]})
    assert f.lb_search.compartments == (C, other)
    assert f.lb_search.hint == (f"no load balancer found for this Service in compartments {C}, {other}; "
                                "pass --lb-ocid OCID if one was made by hand")


def test_backends_of_replaced_nodes_in_the_worker_subnet_on_the_nodeport_match_last():
    services = [svc("app", 31880)]
    old = nlb("ocid1.nlb.old", 31880, ips=("10.0.10.3", "10.0.10.4"))
    found = search_by_backends(services[0], services, NODES, [old], [], ["10.0.10.0/24"])
    assert [(m.id, m.how) for m in found.matches] == [("ocid1.nlb.old", "former-nodes")]
    assert "none is a node any more" in found.matches[0].note
    assert not search_by_backends(services[0], services, NODES, [old], [], ["10.0.99.0/24"]).matches
    assert not search_by_backends(services[0], services, NODES, [old], []).matches  # subnets not read
    other_port = nlb("ocid1.nlb.old", 31999, ips=("10.0.10.3",))
    assert not search_by_backends(services[0], services, NODES, [other_port], [], ["10.0.10.0/24"]).matches
    exact = nlb("ocid1.nlb.z-exact", 31880)
    found = search_by_backends(services[0], services, NODES, [old, exact], [], ["10.0.10.0/24"])
    assert [m.id for m in found.matches] == ["ocid1.nlb.z-exact"]  # a node match wins outright


def test_a_ccm_lb_of_another_service_is_never_taken_for_a_stale_hand_made_one():
    services = [svc("app", 30417), svc("web", 30500, stype="LoadBalancer")]
    ccm = nlb("ocid1.nlb.ccm", 31880)
    ccm["displayName"] = "default/web/uid-web"  # web's own NLB, its backends not yet on web's new NodePort
    assert facts(services, [ccm]).load_balancer is None
    assert facts(services[:1], [ccm]).load_balancer.id == "ocid1.nlb.ccm"  # web unknown: a stale hand-made one


def test_the_context_finding_says_which_lb_was_diagnosed_and_how_it_was_found():
    from okedoctor_checks.cluster.kube_context import KubeContext

    f = facts([svc("app", 30417)], [nlb("ocid1.nlb.zz", 30417), nlb("ocid1.nlb.aa", 30417)])
    (finding,) = KubeContext().run(f)
    assert finding.evidence["loadBalancer"].startswith("ocid1.nlb.aa (found by backends: its backends are")
    assert finding.evidence["otherLoadBalancers"] == ["ocid1.nlb.zz"]
    assert finding.evidence["compartmentsSearched"] == [C]
