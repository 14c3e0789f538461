"""The OCI reads around a load balancer and the workers: health, subnets, security lists, NSGs, VNICs.

Every read goes through `OciWire` (`OciReader` against OCI, or a snapshot in memory) and fills
the `oci:` section the catalogue names for it.
"""

from __future__ import annotations

from typing import Any, Protocol

from okedoctor.facts import OCI, OCI_CERTIFICATES
from okedoctor.live import oci_api
from okedoctor.live.collectors.state import RunState
from okedoctor.live.collectors.vnics import LISTED_DEPTH as LISTED_VNIC_DEPTH
from okedoctor.live.collectors.vnics import listed_vnics
from okedoctor.netrules import has_igw_default_route
from okedoctor.oci_catalog import (
    BACKEND_HEALTH,
    BACKEND_SET_HEALTH,
    CERTIFICATES,
    CLUSTERS,
    ETAGS,
    INSTANCES,
    NETWORK_SECURITY_GROUPS,
    NSG_RULES,
    RESOURCES,
    ROUTE_TABLES,
    SECURITY_LISTS,
    SUBNETS,
    VNIC_ATTACHMENTS,
    VNICS,
    LbFlavor,
)

COMPARTMENT_ANNOTATION = "oci.oraclecloud.com/compartment-id"
# The shared read of every worker's OCI facts (see OciReads.workers).
WORKERS_KEY = ("workers",)


class OciWire(Protocol):
    """The read seam of the OCI REST APIs: one GET, and a list followed across its pages."""

    def get(self, service: str, path: str, path_params: dict[str, str] | None = None,
            query: dict[str, Any] | None = None) -> tuple[Any, dict[str, str]]: ...

    def list_all(self, service: str, path: str, path_params: dict[str, str] | None = None,
                 query: dict[str, Any] | None = None) -> list[Any]: ...


def listener_certificate_ids(body: dict) -> list[str]:
    """The OCI Certificates OCIDs an L7 LB's listeners serve (sslConfiguration.certificateIds)."""
    out: list[str] = []
    for listener in (body.get("listeners") or {}).values():
        for cert in ((listener or {}).get("sslConfiguration") or {}).get("certificateIds") or []:
            if str(cert) not in out:
                out.append(str(cert))
    return out


class OciReads:
    def __init__(self, state: RunState, wire: OciWire):
        self.s, self.wire, self.engine = state, wire, state.engine

    # ---- requests and their failures ----------------------------------------------------
    def read(self, depth: int, service: str, path: str, params: dict | None = None, query: dict | None = None,
             listing: bool = False):
        self.engine.reach(depth)  # the wire counts each attempt, retries included
        if listing:
            return self.wire.list_all(service, path, params, query)
        return self.wire.get(service, path, params, query)[0]

    def section(self, section: str, ocid: str, depth: int):
        """GET one resource of a catalogue section."""
        res = RESOURCES[section]
        return self.read(depth, res.service, *res.get(ocid))

    def guard(self, fn, *args):
        """OCI errors become a denied/unavailable note on the `oci` fact; the collection goes on."""
        s = self.s
        try:
            return fn(*args)
        except oci_api.OciDenied as exc:
            cluster = s.kt.cluster if s.kt.cluster.startswith("ocid1.cluster") else None
            stmt = s.oci_setup.statement(exc.service, s.compartment, cluster)
            s.note(OCI, "denied", f"OCI answered {exc.status} {exc.code or ''} reading "
                   f"{oci_api.IAM_FAMILY[exc.service]}: needs the IAM policy statement `{stmt}`")
        except oci_api.OciUnavailable as exc:
            s.note(OCI, "unavailable", str(exc))
        except oci_api.OciNotFound:
            pass
        except TimeoutError:
            pass  # the deadline: wait_all reports the fact as cut
        return None

    def guard_aux(self, fn, *args):
        """Reads no check depends on (route tables): kept when readable, silently absent otherwise.

        OCI answers "not allowed" and "not there" alike (404), and a gap here must neither skip
        the OCI checks nor raise an access-denied finding for a read nothing needed.
        """
        try:
            return fn(*args)
        except (oci_api.OciDenied, oci_api.OciUnavailable, oci_api.OciNotFound, TimeoutError):
            return None

    # ---- the cluster --------------------------------------------------------------------
    def cluster(self, cluster: str) -> dict | str:
        """The Cluster body, or why it could not be read (a missing cluster compartment is not fatal)."""
        try:
            return self.section(CLUSTERS, cluster, 1)
        except oci_api.OciDenied as exc:
            return (f"GetCluster answered {exc.status} {exc.code or ''}: needs the IAM policy statement "
                    f"`{self.s.oci_setup.statement(RESOURCES[CLUSTERS].service, None, cluster)}`")
        except (oci_api.OciUnavailable, oci_api.OciNotFound) as exc:
            return f"GetCluster failed: {exc}"

    # ---- a load balancer ----------------------------------------------------------------
    def fan_out(self, flavor: LbFlavor, body: dict, depth: int, refetch: bool = False) -> dict:
        """The LB's body, backend-set health, subnets and NSGs."""
        e = self.engine
        self.s.lb_depth = depth
        lb_id = body["id"]
        if refetch:  # a list gives summaries: store the full body, fetched beside the fan-out
            e.submit(OCI, self.guard, lambda: self.s.add(flavor.section, self.section(flavor.section, lb_id, depth)))
        else:
            self.s.add(flavor.section, body)
        for bs_name, bs in (body.get("backendSets") or {}).items():
            e.submit(OCI, self.guard, self._backend_set, flavor, lb_id, bs_name, bs, depth)
        subnet_ids = [body["subnetId"]] if body.get("subnetId") else list(body.get("subnetIds") or [])
        for sid in subnet_ids:
            e.submit(OCI, self.guard, self.subnet, sid, depth, True)
        for nsg in body.get("networkSecurityGroupIds") or []:
            self._nsg(nsg, depth)
        for cert in listener_certificate_ids(body):
            e.once(("certificate", cert), OCI, self._certificate, cert, depth)
        return body

    def _certificate(self, ocid: str, depth: int) -> None:
        """An OCI Certificates certificate a listener serves, beside the LB's other reads (no longer
        chain). Its failure is the certificate's alone: the LB's own facts stay observed, and the
        TLS checks' silence on it is unknown, with the reason (never taken as a valid certificate)."""
        service = RESOURCES[CERTIFICATES].service
        try:
            self.s.add(CERTIFICATES, self.section(CERTIFICATES, ocid, depth))
        except (oci_api.OciDenied, oci_api.OciNotFound) as exc:
            # OCI answers "not allowed" and "not there" alike (404 NotAuthorizedOrNotFound).
            cluster = self.s.kt.cluster if self.s.kt.cluster.startswith("ocid1.cluster") else None
            stmt = self.s.oci_setup.statement(service, self.s.compartment, cluster) if self.s.oci_setup else ""
            status = f"{exc.status} {exc.code or ''}".strip() if isinstance(exc, oci_api.OciDenied) else "404"
            self.s.note(OCI_CERTIFICATES, "denied", f"OCI answered {status} reading certificate {ocid} "
                        f"({oci_api.IAM_FAMILY[service]}): it was deleted, or the read needs the IAM policy "
                        f"statement `{stmt}`")
        except oci_api.OciUnavailable as exc:
            self.s.note(OCI_CERTIFICATES, "unavailable", f"certificate {ocid}: {exc}")
        except TimeoutError:
            pass  # the deadline: the certificate is then missing, and Facts says it was not read

    def _backend_set(self, flavor: LbFlavor, lb_id: str, bs_name: str, bs: dict, depth: int) -> None:
        path, params = flavor.sub_path(BACKEND_SET_HEALTH, lb_id, backendSetName=bs_name)
        health = self.read(depth, flavor.key, path, params)
        self.s.put_keyed(BACKEND_SET_HEALTH, f"{lb_id}/{bs_name}", health)
        if (health or {}).get("status") == "OK":
            return
        for backend in bs.get("backends") or []:
            self.engine.submit(OCI, self.guard, self._backend, flavor, lb_id, bs_name, backend["name"], depth + 1)

    def _backend(self, flavor: LbFlavor, lb_id: str, bs_name: str, backend: str, depth: int) -> None:
        path, params = flavor.sub_path(BACKEND_HEALTH, lb_id, backendSetName=bs_name, backendName=backend)
        self.s.put_keyed(BACKEND_HEALTH, f"{lb_id}/{bs_name}/{backend}", self.read(depth, flavor.key, path, params))

    # ---- the network --------------------------------------------------------------------
    def shared_subnet(self, sid: str, depth: int) -> dict | None:
        """A subnet, read once per run whoever asks first (the LB, a worker, the backend search)."""
        return self.engine.shared(("subnet", sid), self.section, SUBNETS, sid, depth)

    def subnet(self, sid: str, depth: int, with_routes: bool) -> None:
        subnet = self.shared_subnet(sid, depth)
        if not subnet:
            return
        self.s.add(SUBNETS, subnet)
        for sl in subnet.get("securityListIds") or []:
            self.engine.once(("seclist", sl), OCI, self.guard, self._security_list, sl, depth + 1)
        if with_routes and subnet.get("routeTableId"):
            rt = subnet["routeTableId"]
            self.engine.once(("rt", rt), OCI, self.guard_aux, self._route_table, rt, subnet, depth + 1)

    def _route_table(self, rt: str, subnet: dict, depth: int) -> None:
        """The subnet's route table; when it has no internet gateway route, the VCN's tables that do.

        The fix of such a subnet names a table to switch to, so it must be one the snapshot holds.
        """
        table = self.section(ROUTE_TABLES, rt, depth)
        self.s.add(ROUTE_TABLES, table)
        if not table or has_igw_default_route(table) or not subnet.get("vcnId"):
            return
        query = {"compartmentId": subnet.get("compartmentId"), "vcnId": subnet["vcnId"]}
        listed = self.read(depth, RESOURCES[ROUTE_TABLES].service, RESOURCES[ROUTE_TABLES].list_path, None, query,
                           listing=True) or []
        for other in listed:
            if other.get("id") != rt and has_igw_default_route(other):
                self.s.add(ROUTE_TABLES, other)

    def _security_list(self, ocid: str, depth: int) -> None:
        """A security list and its ETag: the printed update passes it as --if-match."""
        self.engine.reach(depth)
        body, headers = self.wire.get(RESOURCES[SECURITY_LISTS].service, *RESOURCES[SECURITY_LISTS].get(ocid))
        self.s.add(SECURITY_LISTS, body)
        etag = next((v for k, v in (headers or {}).items() if k.lower() == "etag"), None)
        if body and etag:
            self.s.put_keyed(ETAGS, ocid, etag)

    def _fetch_into(self, section: str, ocid: str, depth: int) -> None:
        self.s.add(section, self.section(section, ocid, depth))

    def _nsg(self, nsg: str, depth: int) -> None:
        self.engine.once(("nsg", nsg), OCI, self.guard, self._fetch_into, NETWORK_SECURITY_GROUPS, nsg, depth)
        self.engine.once(("nsgrules", nsg), OCI, self.guard, self._nsg_rules, nsg, depth)

    def _nsg_rules(self, nsg: str, depth: int) -> None:
        res = RESOURCES[NSG_RULES]
        path, params = res.get(nsg)
        self.s.put_keyed(NSG_RULES, nsg, self.read(depth, res.service, path, params, None, listing=True))

    # ---- the workers --------------------------------------------------------------------
    def workers(self, nodes: list[dict]) -> None:
        """Every worker's instance, VNICs, subnet and NSGs (the shared read `WORKERS_KEY`): done
        when each worker's own reads are, so a Service waiting on it waits for all of them."""
        futs = [self.engine.submit(OCI, self.guard, self.worker, node) for node in nodes]
        for fut in futs:
            self.engine.result(fut)

    def worker(self, node: dict) -> None:
        """The worker's instance, VNICs, subnet and NSGs, from its providerID."""
        instance_id = (node.get("spec") or {}).get("providerID", "")
        if not instance_id.startswith("ocid1.instance"):
            return
        compartment = (node["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION)
        depth = 2
        listed = self._listed_worker(instance_id, compartment or self.s.compartment) if self.s.fleet else None
        if listed is not None:
            instance, attachments = listed
            self.s.add(INSTANCES, instance)
            self._attached(attachments, depth, self._listed_vnics(compartment or self.s.compartment))
            return
        if compartment:
            self.engine.submit(OCI, self.guard, self.instance, instance_id)
        else:  # the instance names the compartment the attachments are listed in
            instance = self.instance(instance_id)
            compartment = (instance or {}).get("compartmentId")
            depth = 3
            if not compartment:
                return
        res = RESOURCES[VNIC_ATTACHMENTS]
        attachments = self.read(depth, res.service, res.list_path, None,
                                {"compartmentId": compartment, "instanceId": instance_id}, listing=True)
        self._attached(attachments, depth)

    def _attached(self, attachments: list[dict], depth: int, listed: dict[str, dict] | None = None) -> None:
        """The worker's attachments (read at `depth`), then its attached VNICs (from the fleet's
        lists when they hold it, else read) and their subnets."""
        self.s.add(VNIC_ATTACHMENTS, attachments)
        for att in attachments:
            if att.get("lifecycleState") not in (None, "ATTACHED"):
                continue
            if att.get("subnetId"):
                self.engine.submit(OCI, self.guard, self.subnet, att["subnetId"], depth + 1, False)
            if listed is not None and att.get("vnicId") in listed:
                self._have_vnic(listed[att["vnicId"]], LISTED_VNIC_DEPTH)
            else:
                self.engine.submit(OCI, self.guard, self._vnic, att["vnicId"], depth + 1)

    def _listed_vnics(self, compartment: str | None) -> dict[str, dict] | None:
        """The compartment's worker VNICs from lists (see collectors/vnics.py), once per run; None
        when they could not be listed: each VNIC is then read on its own."""
        if not compartment:
            return None

        def read() -> dict[str, dict] | None:
            attached = self._compartment_list(VNIC_ATTACHMENTS, compartment, "instanceId")
            if attached is None:
                return None
            return listed_vnics(self, compartment, [a for items in attached.values() for a in items])

        try:
            return self.engine.result(self.engine.once(("vnic-lists", compartment), OCI, read))
        except TimeoutError:
            return None

    def _listed_worker(self, instance_id: str, compartment: str | None) -> tuple[dict, list[dict]] | None:
        """A fleet run's worker from its compartment's instance and VNIC-attachment lists (two paged
        lists per compartment instead of two reads per node); None when either list failed or does
        not hold the instance (a worker in another compartment): it is then read on its own."""
        if not compartment:
            return None
        by_id = self._compartment_list(INSTANCES, compartment, "id")
        attached = self._compartment_list(VNIC_ATTACHMENTS, compartment, "instanceId")
        if not by_id or attached is None or instance_id not in by_id:
            return None
        return by_id[instance_id][0], attached.get(instance_id, [])

    def _compartment_list(self, section: str, compartment: str, by: str) -> dict[str, list[dict]] | None:
        def read() -> dict[str, list[dict]] | None:
            res = RESOURCES[section]
            try:
                items = self.read(2, res.service, res.list_path, None, {"compartmentId": compartment}, listing=True)
            except (oci_api.OciDenied, oci_api.OciUnavailable, oci_api.OciNotFound):
                return None  # each worker is read on its own, and reports its own failure
            index: dict[str, list[dict]] = {}
            for item in items:
                index.setdefault(str(item.get(by)), []).append(item)
            return index

        try:
            return self.engine.result(self.engine.once(("compartment-list", section, compartment), OCI, read))
        except TimeoutError:
            return None

    def instance(self, instance_id: str) -> dict | None:
        """The worker's instance; read once, whether the LB lookup or the worker asks first."""
        instance = self.engine.shared(("instance", instance_id), self.section, INSTANCES, instance_id, 2)
        self.s.add(INSTANCES, instance)
        return instance

    def _vnic(self, vnic_id: str, depth: int) -> None:
        self._have_vnic(self.section(VNICS, vnic_id, depth), depth)

    def _have_vnic(self, vnic: dict | None, depth: int) -> None:
        """A VNIC read at `depth`, and its NSGs."""
        self.s.add(VNICS, vnic)
        for nsg in (vnic or {}).get("nsgIds") or []:
            self._nsg(nsg, depth + 1)
