"""What the facts can say about each hop of the chain, before any check judges it.

A check finds faults; it cannot tell "healthy" from "never looked at". This module does: for
each hop it says whether the hop exists for this Service (a ClusterIP Service has no load
balancer, a private LB no internet hop), whether the chain reaches it (no LB, so no internet
hop), and whether the facts it needs were observed. The runner draws a hop `ok` only when
nothing here objects and a check ran on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from okedoctor.facts import KUBERNETES, LIVE_INTERNET, OCI, Facts, per_target
from okedoctor.model import Hop, HopState, HopView

NOT_EXPOSED_TYPES = ("ClusterIP", "ExternalName")


@per_target
def public_addresses(facts: Facts) -> list[str]:
    """`ip:port` for each public IP of the LB (else each ingress IP) and each listener/Service port."""
    ref = facts.load_balancer
    svc = facts.service or {}
    ports = {int(p["port"]) for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port")}
    if ref:
        ips = ref.public_ips
        ports |= {int(lis["port"]) for lis in ref.listeners.values() if lis.get("port")}
    else:
        ingress = (svc.get("status") or {}).get("loadBalancer", {}).get("ingress") or []
        ips = [i["ip"] for i in ingress if i.get("ip")]
    return [f"{ip}:{port}" for ip in ips for port in sorted(ports)]


def probed_addresses(facts: Facts) -> Iterator[tuple[str, dict[str, Any]]]:
    """(address, what a client on the internet saw) for each public address that was probed."""
    for address in public_addresses(facts):
        seen = facts.internet(address)
        if seen is not None:
            yield address, seen


def answers_end_to_end(facts: Facts) -> bool:
    """Every probed public address answered HTTP below 500: the whole path, app included, works."""
    seen = [s for _, s in probed_addresses(facts)]
    return bool(seen) and all(isinstance(s.get("status"), int) and s["status"] < 500 for s in seen)


def coverage(facts: Facts) -> dict[Hop, HopView]:
    """The hops the facts rule out or could not observe; a hop absent here may be judged `ok`."""
    kube_gap = facts.unavailable(KUBERNETES)
    if kube_gap or not facts.service:
        why = f"Kubernetes facts not read: {kube_gap.reason}" if kube_gap else "the Service was not read"
        return {hop: HopView(HopState.UNKNOWN, why) for hop in Hop if hop is not Hop.CLUSTER}
    out: dict[Hop, HopView] = {}
    if not facts.nodes:
        out[Hop.NODE] = HopView(HopState.UNKNOWN, "no Node object was read")
    stype = (facts.service.get("spec") or {}).get("type") or "ClusterIP"
    if stype in NOT_EXPOSED_TYPES and not facts.load_balancer:
        why = f"a {stype} Service is not exposed outside the cluster"
        for hop in (Hop.INTERNET, Hop.LOADBALANCER, Hop.NODEPORT):
            out[hop] = HopView(HopState.NOT_APPLICABLE, why)
        return out
    out.update(_outer_hops(facts, stype))
    return out


def _outer_hops(facts: Facts, stype: str) -> dict[Hop, HopView]:
    out: dict[Hop, HopView] = {}
    ref = facts.load_balancer
    oci_gap = facts.unavailable(OCI)
    unread = HopView(HopState.UNKNOWN, f"OCI facts not read: {oci_gap.reason}") if oci_gap else None
    # The CCM owes a LoadBalancer Service an LB: once OCI was read and none exists, the chain
    # ends there; a NodePort Service may have a hand-made one nobody found.
    ends = ref is None and stype == "LoadBalancer" and not oci_gap
    if ref is None:
        if unread:
            lb_view = unread
        elif stype == "LoadBalancer":
            lb_view = HopView(HopState.UNKNOWN, "no load balancer was found for this Service")
        else:
            lb_view = HopView(HopState.UNKNOWN, lb_search_hint(facts))
        out[Hop.LOADBALANCER] = lb_view
        out[Hop.NODEPORT] = HopView(HopState.NOT_REACHED, "no load balancer sends to the NodePorts") if ends \
            else lb_view
    elif unread:
        out[Hop.NODEPORT] = unread
    internet = _internet_hop(facts, None if ends else out.get(Hop.LOADBALANCER))
    if internet:
        out[Hop.INTERNET] = internet
    return out


def _internet_hop(facts: Facts, lb_view: HopView | None) -> HopView | None:
    """`lb_view`: why the LB hop is unknown, when the public address depends on an LB nobody found."""
    ref = facts.load_balancer
    if ref is not None and ref.is_private:
        return HopView(HopState.NOT_APPLICABLE, "the load balancer is private: it has no internet address")
    addresses = public_addresses(facts)
    if any(True for _ in probed_addresses(facts)):
        return None
    if not addresses:
        if lb_view is not None and lb_view.state is HopState.UNKNOWN:
            return lb_view
        return HopView(HopState.NOT_REACHED, "the Service has no public address")
    gap = facts.unavailable(LIVE_INTERNET)
    why = gap.reason if gap else "no client outside observed it"
    return HopView(HopState.UNKNOWN, f"{', '.join(addresses[:4])} not probed: {why}")


def lb_search_hint(facts: Facts) -> str:
    """Why no load balancer fronts the Service, where it was looked for, and how to name one made by hand."""
    return facts.lb_search.hint or ("no load balancer was found that sends to this Service's NodePorts; "
                                    "pass --lb-ocid OCID if one was made by hand")
