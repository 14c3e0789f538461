"""OKD-LB-005: a listener whose backend set is missing or has no backend at all."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.lb import (
    NODE_MISSING_FROM_BACKENDS,
    backend_set_update_command,
    backends,
    kind_name,
    missing_nodes,
    node_backends,
    node_ips,
    port_pairs,
)
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop


class ListenerWithoutBackends(Check):
    """A listener sends to a backend set that does not exist or that holds no backend.

    What it checks
        Every listener's defaultBackendSetName against the LB's backend sets, and whether that
        backend set has at least one backend.

    Why it breaks
        A listener with nothing behind it accepts (L7) or forwards (NLB) connections to
        nowhere: clients get resets, 502s or timeouts while the LB itself looks ACTIVE. A
        cloud-controller-made LB gets an empty backend set when no node qualifies (nodes
        without spec.providerID are skipped: then OKD-LB-008 names them); a hand-made one when
        its backend list was emptied (an automation that ran with an empty node list, nodes
        removed by hand).

    How to fix
        Add the worker nodes back as backends on the Service's NodePort (the printed command
        uses every node's InternalIP and the live NodePort), or, for a cloud-controller-made
        LB, fix why the nodes do not qualify (OKD-LB-008): the controller would remove
        backends added by hand.
    """

    code = "OKD-LB-005"
    name = "listener-without-backends"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        if not ref:
            return
        node_ports = {p.backend_set_name: p.node_port for p in port_pairs(facts)}
        for name, listener in sorted(ref.listeners.items()):
            set_name = listener.get("defaultBackendSetName")
            backend_set = ref.backend_sets.get(set_name or "")
            if backend_set is not None and backends(backend_set):
                continue
            problem = "does not exist" if backend_set is None else "has no backend"
            node_port = node_ports.get(set_name)
            commands = []
            if backend_set is not None and node_port:
                # One update of the whole list: a create per node conflicts while the first one runs.
                commands.append(backend_set_update_command(
                    ref, set_name, backend_set, new_backends=node_backends(ref, facts, sorted(node_ips(facts)),
                                                                           node_port)))
            caused_by = NODE_MISSING_FROM_BACKENDS if missing_nodes(facts, backend_set) else None
            if caused_by:
                # The cloud controller manager owns this backend set: backends added by hand would be
                # removed at its next sync, so the fix is why it leaves the nodes out.
                fix = Fix(summary=(f"Fix {caused_by} first: the cloud controller manager builds backend set {set_name} "
                                   "from the nodes that qualify, and removes backends added by hand."),
                          commands=("kubectl get nodes -o custom-columns=NAME:.metadata.name,"
                                    "PROVIDER_ID:.spec.providerID",))
            else:
                fix = Fix(summary=(f"Give the {kind_name(ref)}'s backend set {set_name} the worker nodes on NodePort "
                                   f"{node_port}." if commands else
                                   "Create the backend set or point the listener at an existing one."),
                          commands=tuple(commands))
            yield self.finding(
                f"Listener {name} (port {listener.get('port')}) sends to backend set {set_name}, which {problem}",
                evidence={"lb": ref.id, "listener": name, "backendSet": set_name,
                          "backendSets": sorted(ref.backend_sets), "liveNodePort": node_port},
                fix=fix,
                subject=f"{ref.id}/{name}",
                caused_by=caused_by,
            )
