"""The OCI resources okedoctor knows: one entry per `oci:` section of a snapshot, and the two LB flavours.

The snapshot format (validation), `Facts` (lookup by id), the live collector (SDK service, REST
path) and the simulator (what each API version serves) all read this catalogue, so adding an
OCI resource is one entry here plus the code that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OciService:
    """One OCI REST API: its version prefix, the SDK client that calls it, the IAM family it needs."""

    key: str
    version: str
    module: str
    client: str
    iam_family: str  # what the collector's policy statements name
    iam_aggregate: str | None = None  # the aggregate family a policy may name instead
    # What the SDK client class hands its BaseClient (tests/live/test_units.py compares them with
    # the installed SDK): the reader builds the BaseClient itself, so the service's models, a
    # third of a second of imports (oci.core alone 0.13 s), are never loaded.
    sdk_name: str = ""
    endpoint_template: str = ""
    endpoint_service_name: str | None = None

    @property
    def iam_families(self) -> tuple[str, ...]:
        return (self.iam_family,) + ((self.iam_aggregate,) if self.iam_aggregate else ())


SERVICES: dict[str, OciService] = {s.key: s for s in (
    OciService("nlb", "20200501", "oci.network_load_balancer", "NetworkLoadBalancerClient",
               "network-load-balancers", sdk_name="network_load_balancer",
               endpoint_template="https://network-load-balancer-api.{region}.oci.{secondLevelDomain}"),
    OciService("lb", "20170115", "oci.load_balancer", "LoadBalancerClient", "load-balancers",
               sdk_name="load_balancer", endpoint_template="https://iaas.{region}.{secondLevelDomain}"),
    OciService("vcn", "20160918", "oci.core", "VirtualNetworkClient", "virtual-network-family",
               sdk_name="virtual_network", endpoint_service_name="iaas",
               endpoint_template="https://iaas.{region}.{dualStack?ds.oci.:}{secondLevelDomain}"),
    OciService("compute", "20160918", "oci.core", "ComputeClient", "instance-family",
               sdk_name="compute", endpoint_service_name="iaas",
               endpoint_template="https://iaas.{region}.{dualStack?ds.oci.:}{secondLevelDomain}"),
    OciService("ce", "20180222", "oci.container_engine", "ContainerEngineClient", "clusters", "cluster-family",
               sdk_name="container_engine",
               endpoint_template="https://containerengine.{region}.oci.{secondLevelDomain}"),
    # The OCI Certificates service: an L7 listener's sslConfiguration.certificateIds name its certificates.
    OciService("certs", "20210224", "oci.certificates_management", "CertificatesManagementClient",
               "leaf-certificate-family", sdk_name="certificates_management",
               endpoint_template="https://certificatesmanagement.{region}.oci.{secondLevelDomain}"),
)}


@dataclass(frozen=True)
class OciResource:
    """One `oci:` section of a snapshot.

    A list section holds REST bodies (found by `id`); a keyed section maps a key (an NSG id,
    `<lbId>/<set>` or `<lbId>/<set>/<backend>`) to one answer of a sub-resource read.
    """

    section: str
    service: str  # a SERVICES key; for the LB sub-resources, the flavour's (see LbFlavor)
    path: str  # the REST path of one resource (or, keyed, of the sub-resource) under the API version
    keyed: bool = False
    indexed: bool = False  # its bodies are looked up by id (Facts.oci_resource)
    collected: bool = True  # read by the live collector (otherwise only served by the simulator)
    always: bool = True  # a collection that used OCI writes it, empty when nothing was found

    @property
    def kind(self) -> type:
        return dict if self.keyed else list

    @property
    def collection(self) -> str:
        """The path's first segment: what the simulator routes on."""
        return self.path.strip("/").split("/")[0]

    def get(self, ocid: str) -> tuple[str, dict[str, str]]:
        """(path template, path params) of one resource of this section (its OCID is the first parameter)."""
        param = self.path.split("{", 1)[1].split("}", 1)[0]
        return self.path, {param: ocid}

    @property
    def list_path(self) -> str:
        return "/" + self.collection


CATALOG: tuple[OciResource, ...] = (
    OciResource("networkLoadBalancers", "nlb", "/networkLoadBalancers/{networkLoadBalancerId}", indexed=True),
    OciResource("loadBalancers", "lb", "/loadBalancers/{loadBalancerId}", indexed=True),
    OciResource("subnets", "vcn", "/subnets/{subnetId}", indexed=True),
    OciResource("securityLists", "vcn", "/securityLists/{securityListId}", indexed=True),
    OciResource("networkSecurityGroups", "vcn", "/networkSecurityGroups/{networkSecurityGroupId}", indexed=True),
    OciResource("instances", "compute", "/instances/{instanceId}", indexed=True),
    OciResource("vnicAttachments", "compute", "/vnicAttachments/{vnicAttachmentId}"),
    OciResource("vnics", "vcn", "/vnics/{vnicId}", indexed=True),
    OciResource("routeTables", "vcn", "/routeTables/{rtId}", indexed=True),
    # Keyed answers of sub-resource reads; the LB ones hang under either flavour's path.
    OciResource("backendSetHealth", "lb", "/backendSets/{backendSetName}/health", keyed=True),
    OciResource("backendHealth", "lb", "/backendSets/{backendSetName}/backends/{backendName}/health", keyed=True),
    OciResource("networkSecurityGroupRules", "vcn",
                "/networkSecurityGroups/{networkSecurityGroupId}/securityRules", keyed=True),
    OciResource("clusters", "ce", "/clusters/{clusterId}", always=False),  # only when GetCluster answered
    # The ETag of each security list as read: its printed update passes it as --if-match, so a
    # rule added after the diagnosis (the CCM in SL-All mode) is not silently wiped.
    OciResource("etags", "vcn", "/securityLists/{securityListId}", keyed=True, always=False),
    # Read only when an L7 listener references one (sslConfiguration.certificateIds).
    OciResource("certificates", "certs", "/certificates/{certificateId}", indexed=True, always=False),
    OciResource("vcns", "vcn", "/vcns/{vcnId}", collected=False),
    OciResource("nodePools", "ce", "/nodePools/{nodePoolId}", collected=False),
    # Listed per subnet by a fleet run to find each worker VNIC's address (OCI has no ListVnics);
    # the VNICs it builds from them go into `vnics`.
    OciResource("privateIps", "vcn", "/privateIps/{privateIpId}", collected=False),
)
RESOURCES: dict[str, OciResource] = {r.section: r for r in CATALOG}

NETWORK_LOAD_BALANCERS = "networkLoadBalancers"
LOAD_BALANCERS = "loadBalancers"
SUBNETS = "subnets"
SECURITY_LISTS = "securityLists"
NETWORK_SECURITY_GROUPS = "networkSecurityGroups"
INSTANCES = "instances"
VNICS = "vnics"
ROUTE_TABLES = "routeTables"
VNIC_ATTACHMENTS = "vnicAttachments"
CLUSTERS = "clusters"
BACKEND_SET_HEALTH = "backendSetHealth"
BACKEND_HEALTH = "backendHealth"
NSG_RULES = "networkSecurityGroupRules"
ETAGS = "etags"
CERTIFICATES = "certificates"
PRIVATE_IPS = "privateIps"
# ListNetworkSecurityGroupVnics: the VNICs in one NSG (a sub-resource list, no section of its own).
NSG_VNICS_PATH = "/networkSecurityGroups/{networkSecurityGroupId}/vnics"

# What a snapshot's `oci:` may hold, and the shape each section must have.
SECTION_KINDS: dict[str, type] = {r.section: r.kind for r in CATALOG}
INDEXED_SECTIONS: tuple[str, ...] = tuple(r.section for r in CATALOG if r.indexed)
# The sections a live collection that used OCI always writes.
COLLECTED_SECTIONS: tuple[str, ...] = tuple(r.section for r in CATALOG if r.collected and r.always)


def collections_by_version() -> dict[str, tuple[str, ...]]:
    """API version -> the collections it serves (the simulator's routing table)."""
    out: dict[str, list[str]] = {}
    for r in CATALOG:
        if not r.keyed:
            out.setdefault(SERVICES[r.service].version, []).append(r.collection)
    return {v: tuple(c) for v, c in out.items()}


@dataclass(frozen=True)
class LbFlavor:
    """Network Load Balancer or (flexible) Load Balancer: everything that differs between the two."""

    key: str  # "nlb" / "lb": the flavour, the OCI service key and the Service annotation's value
    section: str  # the snapshot's `oci:` section
    id_param: str  # the REST path parameter of its OCID
    cli_group: str  # the oci CLI command group
    id_flag: str  # the oci CLI option that names one
    kind_name: str  # how a sentence names it
    short_name: str  # how a short label names it
    ocid_prefix: str
    items_body: bool  # lists answer {"items": [...]} rather than a bare array

    @property
    def service(self) -> OciService:
        return SERVICES[self.key]

    @property
    def resource(self) -> OciResource:
        return RESOURCES[self.section]

    @property
    def list_path(self) -> str:
        return self.resource.list_path

    def get(self, ocid: str) -> tuple[str, dict[str, str]]:
        """(path template, path params) of one LB/NLB."""
        return self.resource.get(ocid)

    def sub_path(self, section: str, ocid: str, **params: str) -> tuple[str, dict[str, str]]:
        """(path, params) of a keyed sub-resource (backendSetHealth, backendHealth) of one LB/NLB."""
        base, base_params = self.get(ocid)
        return base + RESOURCES[section].path, {**base_params, **params}

    def ccm_display_name(self, namespace: str, name: str, uid: str) -> str:
        """The display name the cloud controller manager gives the Service's LB (before any prefix)."""
        return f"{namespace}/{name}/{uid}" if self.key == "nlb" else uid

    def ccm_name_matches(self, display_name: str, namespace: str, name: str, uid: str | None) -> bool:
        """The CCM's name: NLB exactly `<ns>/<name>/<uid>`; LB `<uid>`, maybe prefixed (LOAD_BALANCER_PREFIX)."""
        if not uid or not display_name:
            return False
        if self.key == "nlb":
            return display_name == self.ccm_display_name(namespace, name, uid)
        return display_name.endswith(uid)


NLB = LbFlavor("nlb", NETWORK_LOAD_BALANCERS, "networkLoadBalancerId", "oci nlb", "--network-load-balancer-id",
               "NLB", "NLB", "ocid1.networkloadbalancer", items_body=True)
LB = LbFlavor("lb", LOAD_BALANCERS, "loadBalancerId", "oci lb", "--load-balancer-id",
              "load balancer", "LB", "ocid1.loadbalancer", items_body=False)
FLAVORS: dict[str, LbFlavor] = {NLB.key: NLB, LB.key: LB}
FLAVOR_BY_SECTION: dict[str, LbFlavor] = {f.section: f for f in FLAVORS.values()}
FLAVOR_BY_VERSION: dict[str, LbFlavor] = {f.service.version: f for f in FLAVORS.values()}


def flavor_of_ocid(ocid: str) -> LbFlavor:
    return NLB if ocid.startswith(NLB.ocid_prefix) else LB


def flavor_for_annotation(value: str | None) -> LbFlavor:
    """The flavour the CCM makes for a `oci.oraclecloud.com/load-balancer-type` value (case-insensitive)."""
    return NLB if (value or "").lower() == NLB.key else LB


def etag_of(body: dict) -> str:
    """The ETag the simulator gives a resource (and a scenario file records): a digest of its body.

    OCI's ETags are opaque; any change of the body changes this one, which is all If-Match needs.
    """
    import hashlib
    import json

    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
