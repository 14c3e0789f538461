"""The OCI phase of one Service: what the cluster says of region and compartment, the workers, the LB."""

from __future__ import annotations

from concurrent.futures import Future

from okedoctor.facts import OCI
from okedoctor.live import oci_api
from okedoctor.live.collectors.kube import KubeCollector
from okedoctor.live.collectors.lbfind import EXPOSED, REGION_LABEL, LbFinder
from okedoctor.live.collectors.oci import COMPARTMENT_ANNOTATION, WORKERS_KEY, OciReads
from okedoctor.live.collectors.state import RunState
from okedoctor.live.collectors.wires import Wires
from okedoctor.live.engine import OCI_API
from okedoctor.live.shapes import first_truthy


class OciCollector:
    def __init__(self, state: RunState, wires: Wires, kube: KubeCollector, setup_fut: Future):
        self.s, self.wires, self.kube, self.setup_fut = state, wires, kube, setup_fut
        self.engine = state.engine

    def run(self, svc: dict) -> dict | None:
        """Find the LB/NLB, then fan out to its health, subnets and NSGs and to the workers' network."""
        s, e = self.s, self.engine
        setup = e.result(self.setup_fut)  # raises a UsageError/CollectionError from setup
        # What the cluster says of its region and compartment, known with or without OCI access.
        nodes = e.result(s.futs["nodes"]) or []
        s.compartment = (svc["metadata"].get("annotations") or {}).get(COMPARTMENT_ANNOTATION) or \
            first_truthy(n["metadata"].get("annotations", {}).get(COMPARTMENT_ANNOTATION) for n in nodes)
        s.region = s.region or first_truthy(n["metadata"].get("labels", {}).get(REGION_LABEL) for n in nodes)
        if isinstance(setup, oci_api.OciDisabled):
            s.note(OCI, "disabled", str(setup))
            return None
        if isinstance(setup, Exception):
            s.note(OCI, "unavailable", str(setup))
            return None
        s.nodes = nodes
        s.region = setup.region or s.region
        s.oci_setup = setup
        s.oci_used = True
        s.node_instances = [(n.get("spec") or {}).get("providerID", "") for n in nodes
                            if (n.get("spec") or {}).get("providerID", "").startswith("ocid1.instance")]
        # One reader per run and region, shared by the Services of a fleet: its SDK clients (a
        # session, a connection and a signer each) were made again for every Service.
        wire = e.shared(("oci-wire", s.region), self.wires.oci, setup, s.region, s.opts, lambda: e.count(OCI_API))
        reads = OciReads(s, wire)
        finder = LbFinder(s, reads, self.kube)
        exposed = (svc.get("spec") or {}).get("type") in EXPOSED
        cluster_fut = finder.cluster_future() if exposed else None
        # One shared read for every worker: each Service of a fleet waits on one key, not on one
        # per node (that was Services x nodes bookkeeping, quadratic at a thousand of each).
        e.once(WORKERS_KEY, OCI, reads.workers, nodes)
        if exposed:
            finder.compartments(svc, nodes, cluster_fut)
        return reads.guard(finder.find, svc)
