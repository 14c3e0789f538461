"""Every shipped scenario is served complete: the typed clients read back every object and resource."""

from __future__ import annotations

import oci
import pytest
from kubernetes import client

from okedoctor.sim import Simulator
from tests.conftest import scenario_paths
from tests.sim.conftest import direct_client, fast_load

# kind -> the typed call that lists it across namespaces (the pydantic models validate each item).
LISTERS = {
    "Pod": ("CoreV1Api", "list_pod_for_all_namespaces"), "Service": ("CoreV1Api", "list_service_for_all_namespaces"),
    "Endpoints": ("CoreV1Api", "list_endpoints_for_all_namespaces"), "Node": ("CoreV1Api", "list_node"),
    "Namespace": ("CoreV1Api", "list_namespace"), "Event": ("CoreV1Api", "list_event_for_all_namespaces"),
    "ConfigMap": ("CoreV1Api", "list_config_map_for_all_namespaces"),
    "Secret": ("CoreV1Api", "list_secret_for_all_namespaces"),
    "PersistentVolumeClaim": ("CoreV1Api", "list_persistent_volume_claim_for_all_namespaces"),
    "Deployment": ("AppsV1Api", "list_deployment_for_all_namespaces"),
    "ReplicaSet": ("AppsV1Api", "list_replica_set_for_all_namespaces"),
    "EndpointSlice": ("DiscoveryV1Api", "list_endpoint_slice_for_all_namespaces"),
    "StorageClass": ("StorageV1Api", "list_storage_class"),
}


SIGNERS: dict[str, oci.signer.Signer] = {}


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_scenario_is_served_complete(path, tmp_path):
    snap = fast_load(path)
    with Simulator(snap, tmp_path / "w") as sim:
        api = direct_client(sim)
        for kind, (cls, method) in LISTERS.items():
            versions = ("v1", "apps/v1", "discovery.k8s.io/v1", "storage.k8s.io/v1", "events.k8s.io/v1")
            # (an events.k8s.io Event is also a core Event: one storage, two APIs)
            want = sorted({o["metadata"]["name"] for o in snap.kubernetes
                           if o["kind"] == kind and o["apiVersion"] in versions})
            if not want and kind not in ("Pod", "Service"):
                continue  # an empty list proves nothing more than the pods' and services' do
            got = sorted(o.metadata.name for o in getattr(getattr(client, cls)(api), method)().items)
            assert got == want, f"{path.name}: {kind}"
        cfg = oci.config.from_file(sim.env["OCI_CLI_CONFIG_FILE"], sim.env["OCI_CLI_PROFILE"])
        # Loading an RSA key costs ~80 ms: one signer per key (the fingerprint names it).
        signer = SIGNERS.get(cfg["fingerprint"])
        if signer is None:
            signer = SIGNERS[cfg["fingerprint"]] = oci.signer.Signer.from_config(cfg)
        kw = {"service_endpoint": sim.env["OKEDOCTOR_OCI_ENDPOINT"], "retry_strategy": oci.retry.NoneRetryStrategy(),
              "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(), "signer": signer}
        nlb = oci.network_load_balancer.NetworkLoadBalancerClient(cfg, **kw)
        lb = oci.load_balancer.LoadBalancerClient(cfg, **kw)
        vn = oci.core.VirtualNetworkClient(cfg, **kw)
        compute = oci.core.ComputeClient(cfg, **kw)
        section = snap.oci or {}
        for body in section.get("networkLoadBalancers") or []:
            assert nlb.get_network_load_balancer(body["id"]).data.id == body["id"]
        for body in section.get("loadBalancers") or []:
            assert lb.get_load_balancer(body["id"]).data.id == body["id"]
        for name, call in (("subnets", vn.get_subnet), ("securityLists", vn.get_security_list),
                           ("networkSecurityGroups", vn.get_network_security_group), ("vnics", vn.get_vnic),
                           ("routeTables", vn.get_route_table), ("instances", compute.get_instance)):
            for body in section.get(name) or []:
                assert call(body["id"]).data.id == body["id"], f"{path.name}: {name}"
