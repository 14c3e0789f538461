"""OKD-NODE-009 on variations of the pod-network scenarios: which CNI, which leg, which side."""

from __future__ import annotations

from tests.checks.test_oci_lb import found, load, run
from tests.checks.test_oci_security import seclist

NODE_SL = "oke-nodeseclist"


def cross_node(builtin_registry, doc):
    return found(run(doc, builtin_registry), "OKD-NODE-009")


def expanded(name):
    return load(name)  # load_document expands the overlay, base included


def test_a_udp_8472_rule_between_the_workers_is_enough(builtin_registry):
    doc = expanded("flannel-vxlan-blocked")
    seclist(doc, NODE_SL)["ingressSecurityRules"].append(
        {"protocol": "17", "source": "10.0.10.0/24", "sourceType": "CIDR_BLOCK", "isStateless": False,
         "udpOptions": {"destinationPortRange": {"min": 8472, "max": 8472}}})
    assert not cross_node(builtin_registry, doc)


def test_pods_on_one_node_still_break_the_other_receiving_node(builtin_registry):
    doc = expanded("flannel-vxlan-blocked")
    for obj in doc["kubernetes"]:
        if obj["kind"] == "EndpointSlice":
            for ep in obj["endpoints"]:
                ep["nodeName"] = "10.0.10.5"
    (finding,) = cross_node(builtin_registry, doc)
    # 10.0.10.6 receives half of the connections and forwards all of them across: half of all time out.
    assert finding.evidence["blockedShare"] == "50%"
    assert finding.evidence["flows"] == ["10.0.10.6 -> 10.0.10.5", "10.0.10.5 -> 10.0.10.6"]


def test_no_cross_node_leg_with_externaltrafficpolicy_local(builtin_registry):
    doc = expanded("flannel-vxlan-blocked")
    svc = next(o for o in doc["kubernetes"] if o["kind"] == "Service")
    svc["spec"]["externalTrafficPolicy"] = "Local"
    assert not cross_node(builtin_registry, doc)


def test_an_unknown_overlay_is_not_judged(builtin_registry):
    # Pod IPs outside the VCN and no flannel annotations (Calico, Cilium...): its port is not known.
    doc = expanded("flannel-vxlan-blocked")
    for obj in doc["kubernetes"]:
        if obj["kind"] == "Node":
            obj["metadata"]["annotations"] = {k: v for k, v in obj["metadata"]["annotations"].items()
                                              if not k.startswith("flannel.alpha.coreos.com/")}
    assert not cross_node(builtin_registry, doc)


def test_worker_egress_narrowed_to_tcp_is_the_egress_side(builtin_registry):
    doc = expanded("healthy-flannel")
    seclist(doc, NODE_SL)["egressSecurityRules"] = [
        {"protocol": "6", "destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "isStateless": False}]
    (finding,) = cross_node(builtin_registry, doc)
    assert finding.evidence["direction"] == "EGRESS"
    assert "--egress-security-rules" in finding.fix.commands[0] and '"protocol":"17"' in finding.fix.commands[0]


def test_a_stateless_pod_subnet_rule_needs_its_return_rule(builtin_registry):
    doc = expanded("healthy-vcn-native")
    pods = seclist(doc, "oke-podseclist")
    pods["ingressSecurityRules"][0]["isStateless"] = True
    pods["egressSecurityRules"] = [r for r in pods["egressSecurityRules"] if r["destination"] != "0.0.0.0/0"]
    (finding,) = cross_node(builtin_registry, doc)
    assert "one way only" in finding.title and finding.evidence["onlyStatelessRule"]
    assert "--egress-security-rules" in finding.fix.commands[0] and '"isStateless":true' in finding.fix.commands[0]


def test_healthy_clusters_of_both_cnis_have_no_finding(builtin_registry):
    assert not cross_node(builtin_registry, expanded("healthy-flannel"))
    assert not cross_node(builtin_registry, expanded("healthy-vcn-native"))


def test_host_network_pods_are_reached_without_the_overlay(builtin_registry):
    doc = expanded("flannel-vxlan-blocked")
    for obj in doc["kubernetes"]:
        if obj["kind"] == "Pod":
            obj["spec"]["hostNetwork"] = True
    assert not cross_node(builtin_registry, doc)


def _with_flannel(doc):
    for obj in doc["kubernetes"]:
        if obj["kind"] == "Node":
            obj["metadata"].setdefault("annotations", {})["flannel.alpha.coreos.com/backend-type"] = "vxlan"
    return doc


def test_workers_in_an_nsg_get_the_rule_from_their_own_nsg(builtin_registry):
    nsg = "ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaaworkersnsg"
    doc = _with_flannel(expanded("nsg-mode-health-rule-deleted"))
    seclist(doc, NODE_SL)["ingressSecurityRules"] = [
        r for r in seclist(doc, NODE_SL)["ingressSecurityRules"] if r["source"] != "10.0.10.0/24"]
    assert not cross_node(builtin_registry, doc)  # the NSG's "worker to worker" rule names the NSG itself
    rules = doc["oci"]["networkSecurityGroupRules"][nsg]
    rules[:] = [r for r in rules if r["id"] != "0F9E8D"]
    (finding,) = cross_node(builtin_registry, doc)
    assert finding.fix.commands[0].startswith(f"oci network nsg rules add --nsg-id {nsg} ")
    assert f'"source":"{nsg}","sourceType":"NETWORK_SECURITY_GROUP"' in finding.fix.commands[0]
    assert '"udpOptions":{"destinationPortRange":{"min":8472,"max":8472}}' in finding.fix.commands[0]


def test_malformed_addresses_in_a_file_are_not_judged_nor_fatal(builtin_registry):
    doc = expanded("pod-subnet-blocks-workers")
    for obj in doc["kubernetes"]:
        if obj["kind"] == "Pod":
            obj["status"]["podIP"] = "not-an-ip"
    report = run(doc, builtin_registry)
    assert not found(report, "OKD-NODE-009") and not [s for s in report.skipped if s.kind.value == "error"]
