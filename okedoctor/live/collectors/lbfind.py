"""Which load balancer fronts the Service.

In order: --lb-ocid; the CCM's display name in the compartment it makes LBs in; every LB/NLB of
the searched compartments by loose name or ingress IP; last, by backends (this cluster's nodes
on this Service's, or a stale, NodePort).
"""

from __future__ import annotations

import functools
from typing import Any

from okedoctor.facts import KUBERNETES, OCI
from okedoctor.lbsearch import (
    index_backends,
    needs_worker_subnets,
    node_identities,
    node_ports,
    search_by_backends,
)
from okedoctor.live import oci_api
from okedoctor.live.collectors.kube import KubeCollector
from okedoctor.live.collectors.oci import COMPARTMENT_ANNOTATION, WORKERS_KEY, OciReads
from okedoctor.live.collectors.state import RunState
from okedoctor.live.shapes import first_truthy, with_kind
from okedoctor.oci_catalog import FLAVORS, LB, NLB, VNIC_ATTACHMENTS, flavor_for_annotation, flavor_of_ocid

LB_TYPE_ANNOTATION = "oci.oraclecloud.com/load-balancer-type"
REGION_LABEL = "topology.kubernetes.io/region"
EXPOSED = ("NodePort", "LoadBalancer")  # only these can have a load balancer to look for


class LbFinder:
    def __init__(self, state: RunState, reads: OciReads, kube: KubeCollector):
        self.s, self.r, self.kube, self.engine = state, reads, kube, state.engine

    # ---- the cluster's compartments -----------------------------------------------------
    def cluster_future(self):
        """ContainerEngine GetCluster, from the cluster OCID of the kubeconfig: the cluster's own compartment."""
        cluster = self.s.kt.cluster or ""
        if not cluster.startswith("ocid1.cluster") or self.s.opts.lb_ocid:
            return None  # --lb-ocid names the LB: no compartment to search
        return self.engine.once(("cluster", cluster), OCI, self.r.cluster, cluster)

    def compartments(self, svc: dict, nodes: list[dict], cluster_fut) -> None:
        """The compartments to list LBs/NLBs in, each with where it came from (context.lbSearch)."""
        s = self.s
        sources: dict[str, list[str]] = {}

        def add(compartment: str | None, source: str) -> None:
            if compartment and source not in sources.setdefault(compartment, []):
                sources[compartment].append(source)

        annotated = (svc["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION)
        add(annotated, "service-annotation")
        if (svc.get("spec") or {}).get("type") == "NodePort" and not s.opts.lb_ocid:
            self._prefetch_lists(annotated, nodes)
        cluster_note = None
        if cluster_fut is not None:
            try:
                got = self.engine.result(cluster_fut)
            except TimeoutError:
                got = "GetCluster did not answer before the deadline"
            if isinstance(got, dict):
                add(got.get("compartmentId"), "cluster")
                if got.get("compartmentId") and s.cluster_body is None:
                    s.cluster_body = got
            else:
                cluster_note = got
        for node in nodes:
            add((node["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION), "node-annotation")
        for extra in s.opts.compartment_ids:
            add(extra, "--compartment-id")
        cluster_compartment = s.cluster_body.get("compartmentId") if s.cluster_body else None
        # The CCM lists in one compartment: the Service's annotation, else the cluster's.
        s.compartment = annotated or cluster_compartment or first_truthy(sources)
        s.lb_search = {"compartments": [{"id": c, "from": src} for c, src in sources.items()]}
        if cluster_note:
            s.lb_search["clusterCompartment"] = cluster_note

    def _prefetch_lists(self, annotated: str | None, nodes: list[dict]) -> None:
        """A NodePort Service has no LB by the CCM's name: its LB is searched in the lists of every
        compartment. Those the Service, the nodes and --compartment-id name are listed now, beside
        GetCluster, not after it (one round trip less before the internet probe can start); `_lists`
        shares them by key and adds the cluster's compartment when it differs."""
        known = [annotated, *((n["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION) for n in nodes),
                 *self.s.opts.compartment_ids]
        for c in dict.fromkeys(c for c in known if c):
            for f in FLAVORS.values():
                self.engine.once(("lb-list", f.key, c), OCI, _value_or_error, self.r.read, 2, f.key, f.list_path,
                                 None, {"compartmentId": c}, True)
        # The search by backends then needs the cluster's Services (to tell a stale NodePort): listed
        # beside the LB lists rather than after them, one round trip less before the LB is read.
        self._services_future(2)

    def _services_future(self, depth: int):
        """The cluster's Services, listed once per run (None when the run has them already)."""
        if self.s.cluster_services is not None:
            return None
        return self.engine.once(("services", None), KUBERNETES, functools.partial(
            self.kube.optional, "services", self.kube.k.services, None, depth))

    # ---- the lookup ---------------------------------------------------------------------
    def find(self, svc: dict) -> dict | None:
        s = self.s
        meta = svc["metadata"]
        flavor = flavor_for_annotation((meta.get("annotations") or {}).get(LB_TYPE_ANNOTATION))
        if s.opts.lb_ocid:
            flavor = flavor_of_ocid(s.opts.lb_ocid)
            return self.r.fan_out(flavor, self.r.section(flavor.section, s.opts.lb_ocid, 2), 3)
        svc_type = (svc.get("spec") or {}).get("type")
        if svc_type not in EXPOSED:
            return None  # no load balancer can send to it
        base = 2
        if not s.compartment:  # no annotation: the cluster's compartment is the workers' instances'
            ids = [n for n in s.node_instances if n]
            instance = self.r.instance(ids[0]) if ids else None
            s.compartment = (instance or {}).get("compartmentId")
            if s.compartment:
                s.lb_search = {"compartments": [{"id": s.compartment, "from": ["worker-instances"]}]}
            base = 3
        if not s.compartment:
            s.note(OCI, "unavailable", "cannot tell the load balancer's compartment: neither the cluster "
                   f"(GetCluster), the Service nor the nodes name it ({COMPARTMENT_ANNOTATION}); pass "
                   "--compartment-id or --lb-ocid")
            return None
        uid, ns, name = meta.get("uid", ""), meta.get("namespace", ""), meta["name"]
        depth = base
        if svc_type == "LoadBalancer":  # the cloud controller manager's LB, by its name, where it makes it
            listed = self._by_display_name(flavor, ns, name, uid, base)
            match = [b for b in listed if flavor.ccm_name_matches(b.get("displayName", ""), ns, name, uid)]
            if match:
                self._searched("display-name")
                return self.r.fan_out(flavor, match[0], base + 1, refetch=self._refetch(flavor))
            depth = base + 1
        return self._search(svc, ns, name, uid, depth)

    def _by_display_name(self, flavor, ns: str, name: str, uid: str, depth: int) -> list[dict]:
        """The LBs of the CCM's compartment named as the CCM names this Service's. A fleet run lists the
        compartment's LBs once (paged) for every Service instead of one filtered list per Service."""
        query = {"compartmentId": self.s.compartment}
        if not self.s.fleet:
            query["displayName"] = flavor.ccm_display_name(ns, name, uid)
            return self.r.read(depth, flavor.key, flavor.list_path, None, query, listing=True)
        fut = self.engine.once(("lb-list", flavor.key, self.s.compartment), OCI, _value_or_error, self.r.read,
                               depth, flavor.key, flavor.list_path, None, query, True)
        got = self.engine.result(fut)
        if isinstance(got, Exception):
            raise got  # each Service's guard records it: the Services that needed the list, no other
        return got or []

    def _refetch(self, flavor) -> bool:
        """Whether an NLB found in a list is read again. The list's NetworkLoadBalancerSummary has
        every field of the NetworkLoadBalancer (the SDK's models hold the same attributes), so a
        fleet run, one GET per Service, keeps the list body; a single diagnosis reads it, beside
        its fan-out (no longer chain), as it always has."""
        return flavor is NLB and not self.s.fleet

    def _searched(self, found_by: str | None) -> None:
        with self.s.lock:
            if self.s.lb_search is not None:
                self.s.lb_search["foundBy"] = found_by

    def _lists(self, depth: int) -> dict[str, list[dict]]:
        """Every LB and NLB of the searched compartments, listed once per run (shared by a fleet report:
        each list holds every LB with all its backends, tens of MB for 300 NLBs)."""
        comps = [c["id"] for c in (self.s.lb_search or {}).get("compartments") or []] or [self.s.compartment]
        # Shared with the display-name lookup of a fleet run (same key): a failure comes back as a value.
        futs = {(f, c): self.engine.once(("lb-list", f.key, c), OCI, _value_or_error, self.r.read, depth, f.key,
                                         f.list_path, None, {"compartmentId": c}, True)
                for c in comps for f in FLAVORS.values()}
        got: dict[str, list[dict]] = {f: [] for f in FLAVORS}
        for (f, _), fut in futs.items():
            listed = self.engine.result(fut)
            if isinstance(listed, Exception):
                listed = self.r.guard(_raise, listed)  # noted as the guard notes any OCI failure
            seen = {b.get("id") for b in got[f.key]}
            got[f.key] += [b for b in listed or [] if b.get("id") not in seen]
        return got

    def _services(self, svc: dict, services_fut) -> list[dict]:
        services = self.s.cluster_services
        if services_fut is not None:
            try:
                services = self.engine.result(services_fut)
            except TimeoutError:
                services = None
        return [svc] if services is None else services  # without them a stale NodePort looks like another's

    def _search(self, svc: dict, ns: str, name: str, uid: str, depth: int) -> dict | None:
        """No LB by the CCM's name: list both kinds in every compartment; match the name loosely or the
        ingress IP, else by backends (this cluster's nodes on this Service's, or a stale, NodePort)."""
        # The cluster's Services tell a stale NodePort from another Service's (NodePorts are cluster-wide).
        services_fut = self._services_future(depth)
        lists = self._lists(depth)
        nlbs, lbs = lists[NLB.key], lists[LB.key]
        ips = {i.get("ip") for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []}
        ips.discard(None)
        for f in FLAVORS.values():
            for body in lists[f.key]:
                addrs = {a.get("ipAddress") for a in body.get("ipAddresses") or []}
                by_name = f.ccm_name_matches(body.get("displayName", ""), ns, name, uid)
                if by_name or (ips & addrs):
                    self._searched("display-name" if by_name else "ingress-ip")
                    return self.r.fan_out(f, body, depth + 1, refetch=self._refetch(f))
        others = [with_kind(o, "v1", "Service") for o in self._services(svc, services_fut)
                  if node_ports(o) and (o["metadata"].get("namespace"), o["metadata"]["name"]) != (ns, name)]
        index, foreign = self._backend_index(others + [svc], nlbs, lbs)
        found = search_by_backends(svc, others + [svc], self.s.nodes, nlbs, lbs, index=index)
        if not found.matches and (node_ports(svc) & foreign if foreign is not None
                                  else needs_worker_subnets(svc, self.s.nodes, nlbs, lbs)):
            # Backends on this Service's NodePort that are no node: were they nodes (replaced by an
            # upgrade)? The workers' subnets say; they are read for the diagnosis anyway.
            found = search_by_backends(svc, others + [svc], self.s.nodes, nlbs, lbs, self._worker_cidrs(depth),
                                       index=index)
        chosen = found.matches[0] if found.matches else None
        self._keep_cluster_lbs(lists, found.cluster_lbs, chosen)
        if found.cluster_lbs:
            self.s.put("otherServices", others)
        self._searched("backends" if chosen else None)
        if chosen is None:
            return None
        flavor = FLAVORS[chosen.flavor]
        return self.r.fan_out(flavor, chosen.body, depth + 1, refetch=self._refetch(flavor))

    def _backend_index(self, services: list[dict], nlbs: list[dict], lbs: list[dict]):
        """(index_backends, the ports some backend that is no node listens on), built once for every
        Service of a fleet run (the same Services, nodes and LB lists): per Service, walking every
        backend of every LB grew as Services x LBs x nodes. (None, None) in a single diagnosis."""
        if not self.s.fleet or self.s.cluster_services is None:
            return None, None
        comps = tuple(c["id"] for c in (self.s.lb_search or {}).get("compartments") or [])

        def build():
            ips, instances = node_identities(self.s.nodes)
            foreign = {int(b.get("port") or 0) for body in [*nlbs, *lbs]
                       for bs in (body.get("backendSets") or {}).values() for b in bs.get("backends") or []
                       if b.get("ipAddress") not in ips and b.get("targetId") not in instances}
            return index_backends(services, self.s.nodes, nlbs, lbs), foreign

        return self.engine.shared(("backend-index", comps or self.s.compartment), build)

    def _keep_cluster_lbs(self, lists: dict[str, list[dict]], cluster_lbs: Any, chosen) -> None:
        """What the search decided from, so that --from the snapshot decides the same: every LB/NLB
        sending to this cluster's nodes (list bodies: no read per LB)."""
        for f in FLAVORS.values():
            for body in lists[f.key]:
                if body.get("id") in cluster_lbs and (chosen is None or body.get("id") != chosen.id):
                    self.s.add(f.section, body)

    def _worker_cidrs(self, depth: int) -> list[str]:
        """The CIDRs of the workers' subnets, from the worker reads (waited for, not repeated)."""
        s = self.s
        try:
            self.engine.result(self.engine.once(WORKERS_KEY, OCI, self.r.workers, s.nodes))
        except TimeoutError:
            return []
        with s.lock:
            mine = set(s.node_instances)
            sids = list(dict.fromkeys(a["subnetId"] for a in s.oci[VNIC_ATTACHMENTS]
                                      if a.get("instanceId") in mine and a.get("subnetId")))
        cidrs: list[str] = []
        for sid in sids:
            subnet = self.r.guard(self.r.shared_subnet, sid, depth)
            cidrs += [c for c in ((subnet or {}).get("ipv4CidrBlocks") or [(subnet or {}).get("cidrBlock")]) if c]
        return cidrs


def _value_or_error(fn, *args):
    """fn's answer, or the OCI error it raised, returned to every Service that shares the read."""
    try:
        return fn(*args)
    except (oci_api.OciDenied, oci_api.OciUnavailable, oci_api.OciNotFound) as exc:
        return exc


def _raise(exc: Exception):
    raise exc
