"""Diagnose a URL: the longer chain DNS -> Internet -> LB -> NodePort -> Node -> Ingress -> Pod.

The walk (okedoctor/chain/route.py) finds the Service whose LB holds the name's address (the
edge) and, through an ingress controller's rule, the backend Service. Each hop is then checked
on the Service it belongs to: the internet, LB, NodePort and node hops on the edge Service,
the pod hop on the backend Service, the DNS and ingress hops on the walk itself. A hop the walk
does not reach is `notReached`, with the reason; one that does not exist (the ingress hop of
a Service that is no controller) is `notApplicable`.

The OCI Native Ingress Controller's LB is owned by no Service: its walk has no edge Service, the
internet and LB hops are checked on that LB (the LB hop by the native checks, OKD-NIC-*, which
know its pod backends), and the NodePort and node hops do not exist on that path.
"""

from __future__ import annotations

import time
from dataclasses import replace

from okedoctor.chain import coverage
from okedoctor.chain import route as routes
from okedoctor.facts import Facts
from okedoctor.model import URL_CHAIN, Finding, Hop, HopState, HopView, Report, Skipped, Target
from okedoctor.policy import Policy
from okedoctor.registry import Registry
from okedoctor.runner import build_report, judge_hops, load_errors, run_group
from okedoctor.safeout import clean_value

EDGE_HOPS = frozenset((Hop.INTERNET, Hop.LOADBALANCER, Hop.NODEPORT, Hop.NODE))
WALK_HOPS = frozenset((Hop.DNS, Hop.INGRESS, Hop.CLUSTER))
NATIVE_CODES = "OKD-NIC-"


def _target_of(service: dict, url: str) -> Target:
    meta = service.get("metadata") or {}
    return Target(meta.get("namespace") or "default", meta.get("name", ""), url=url)


def diagnose_url(facts: Facts, registry: Registry, *, stats: dict | None = None,
                 policy: Policy | None = None) -> Report:
    policy = policy or Policy()
    started = time.perf_counter()
    walk = routes.walk(facts)
    assert walk is not None, "diagnose_url needs a URL target"
    url = walk.url.text
    findings, skipped, checked, ran = run_group(facts, registry, WALK_HOPS, policy)
    skipped[:0] = load_errors(registry)
    covered = _walk_coverage(walk)
    end_to_end = False
    backend = walk.backend if walk.stop is None else None
    for service, hops in ((walk.edge, EDGE_HOPS), (backend, frozenset((Hop.POD,)))):
        if service is None:
            continue
        part = facts.retarget(_target_of(service, url))
        got = run_group(part, registry, hops, policy)
        _merge(findings, skipped, checked, got)
        ran += got[3]
        covered.update({hop: view for hop, view in coverage.coverage(part).items() if hop in hops})
        if hops is EDGE_HOPS:
            end_to_end = coverage.answers_end_to_end(part)
    if walk.native_class is not None:
        end_to_end, more = _native_lb(facts, registry, policy, walk, (findings, skipped, checked), covered)
        ran += more
    end = facts.retarget(_target_of(walk.backend, url)) if walk.backend else facts.retarget(Target("", "", url=url))
    if facts.target.route:  # `ingress/NAME`: the report names the object it was asked about
        end = end.retarget(replace(end.target, route=facts.target.route))
    labels = ((end.service or {}).get("metadata") or {}).get("labels") or {}
    findings, silenced = policy.apply(findings, end.target.namespace, end.target.service, labels)
    hops_judged = judge_hops(findings, skipped, checked, covered, end_to_end=end_to_end, drawn=URL_CHAIN)
    report = build_report(end, findings, skipped, hops_judged, context=None, stats=stats, ran=ran,
                          started=started, registry=registry, policy=policy, silenced=silenced, drawn=URL_CHAIN)
    # Hosts, paths and names in the walk come from the cluster: cleaned like the rest of the report.
    report.route = clean_value(walk.to_dict())
    return report


def _merge(findings: list[Finding], skipped: list[Skipped], checked: set[Hop],
           got: tuple[list[Finding], list[Skipped], set[Hop], int]) -> None:
    findings.extend(got[0])
    skipped.extend(got[1])
    checked.update(got[2])


def _native_lb(facts: Facts, registry: Registry, policy: Policy, walk: routes.Walk,
               acc: tuple[list[Finding], list[Skipped], set[Hop]], covered: dict[Hop, HopView]) -> tuple[bool, int]:
    """The native LB's hops: the internet hop by every internet check on that LB, the LB hop by the
    native checks only (the others expect NodePort backends: here they are pod IPs)."""
    backend = _target_of(walk.backend, walk.url.text) if walk.backend else Target("", "", url=walk.url.text)
    part = facts.retarget(backend, lb_ocid=walk.lb_id)
    native = replace(registry, checks=[c for c in registry.checks if c.code.startswith(NATIVE_CODES)])
    ran = 0
    for hops, reg in ((frozenset((Hop.INTERNET,)), registry), (frozenset((Hop.LOADBALANCER,)), native)):
        got = run_group(part, reg, hops, policy)
        _merge(*acc, got)
        ran += got[3]
    why = (f"the OCI Native Ingress Controller's LB {walk.lb_id} sends to the pods' IPs: "
           "the request crosses no NodePort and no node")
    for hop in (Hop.NODEPORT, Hop.NODE):
        covered[hop] = HopView(HopState.NOT_APPLICABLE, why)
    if part.load_balancer is None:
        gap = part.unavailable("oci")
        reason = (f"OCI facts not read: {gap.reason}" if gap
                  else f"the LB {walk.lb_id} the IngressClass names was not read")
        for hop in (Hop.INTERNET, Hop.LOADBALANCER):
            covered.setdefault(hop, HopView(HopState.UNKNOWN, reason))
    else:
        view = coverage.coverage(part).get(Hop.INTERNET)
        if view is not None and view.state is not HopState.UNKNOWN:
            covered.setdefault(Hop.INTERNET, view)
    return coverage.answers_end_to_end(part), ran


def _walk_coverage(walk: routes.Walk) -> dict[Hop, HopView]:
    """What the walk rules out: the hops after where it stopped, and an ingress hop with no controller."""
    out: dict[Hop, HopView] = {}
    if not walk.resolved:
        out[Hop.DNS] = HopView(HopState.UNKNOWN, walk.why)
    if walk.stop is not None:
        after = URL_CHAIN[URL_CHAIN.index(walk.stop) + 1:]
        out.update({hop: HopView(HopState.NOT_REACHED, walk.why) for hop in after})
    if walk.edge is not None and walk.controller is None:
        name = routes.ref(walk.edge)
        out[Hop.INGRESS] = HopView(HopState.NOT_APPLICABLE,
                                   f"Service {name} runs no ingress controller: the LB sends straight to it")
    return out
