"""OKD-LB-010: a CCM-made LB whose health checker is not what the controller sets."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.health import unserved_health_port
from okedoctor.chain.lb import (
    HEALTH_PATH,
    backend_set_update_command,
    expected_health_port,
    is_local,
    port_pairs,
)
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.kube import ready_endpoint_nodes
from okedoctor.model import Finding, Fix, Hop, Severity


class HealthCheckerDiffersFromCcm(Check):
    """The health checker of a CCM-made load balancer is not the one the controller sets.

    What it checks
        For a load balancer made by the cloud controller manager: every backend set's health
        checker must be HTTP GET /healthz expecting 200, on kube-proxy's 10256 for
        externalTrafficPolicy Cluster or on spec.healthCheckNodePort for Local. (A port that
        nothing serves at all is OKD-LB-009.)

    Why it breaks
        The controller writes this checker and rewrites it on every successful sync, so a
        different one means its syncs fail (read the Service's events) or someone edited the
        LB in the console since. The classic case: the Service was switched to
        externalTrafficPolicy Local but the checker still probes 10256, which every healthy
        node answers with 200: nodes without a pod stay in rotation and drop the connections
        sent to them, an intermittent failure.

    How to fix
        Fix the failing sync named in the Service's events; the controller then restores the
        checker. To repair it at once, the printed backend-set update sets the expected port
        and path (the controller would overwrite any other value anyway).
    """

    code = "OKD-LB-010"
    name = "health-checker-differs-from-ccm"
    hop = Hop.LOADBALANCER
    severity = Severity.WARNING
    needs = ("kubernetes", OCI)

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref = facts.load_balancer
        svc = facts.service
        if not ref or not svc or not ref.ccm_managed:
            return
        want = expected_health_port(svc)
        for pair in port_pairs(facts):
            if not pair.backend_set or not pair.backend_set_name or unserved_health_port(facts, pair):
                continue
            hc = pair.backend_set.get("healthChecker") or {}
            got = {"protocol": hc.get("protocol"), "port": hc.get("port"), "urlPath": hc.get("urlPath")}
            expected = {"protocol": "HTTP", "port": want, "urlPath": HEALTH_PATH}
            if got == expected:
                continue
            local = is_local(svc)
            effect = ""
            if local and hc.get("port") != want:
                without = sorted({n["metadata"]["name"] for n in facts.nodes} - set(ready_endpoint_nodes(facts, svc)))
                effect = (f" With externalTrafficPolicy Local this keeps nodes without a ready pod "
                          f"({', '.join(without) or 'none now'}) in rotation; connections sent there are dropped.")
            failures = [e.get("message") for e in facts.events_for(svc) if e.get("reason") == "SyncLoadBalancerFailed"]
            meta = svc["metadata"]
            fixed = dict(pair.backend_set, healthChecker=dict(hc, protocol="HTTP", urlPath=HEALTH_PATH, returnCode=200))
            yield self.finding(
                f"Backend set {pair.backend_set_name} checks {got['protocol']} {got['urlPath'] or ''} on port "
                f"{got['port']}; the cloud controller manager sets HTTP {HEALTH_PATH} on {want} "
                f"(externalTrafficPolicy {'Local' if local else 'Cluster'}).{effect}",
                evidence={"lb": ref.id, "backendSet": pair.backend_set_name, "healthChecker": got,
                          "expected": expected, "externalTrafficPolicy": "Local" if local else "Cluster",
                          "healthCheckNodePort": (svc.get("spec") or {}).get("healthCheckNodePort"),
                          "lastSyncFailure": failures[-1] if failures else None},
                fix=Fix(summary="Fix the failing sync in the Service's events so the controller restores the checker; "
                                "the command sets it now.",
                        commands=(f"kubectl describe service -n {meta.get('namespace')} {meta.get('name')}",
                                  backend_set_update_command(ref, pair.backend_set_name, fixed, health_port=want))),
                subject=f"{ref.id}/{pair.backend_set_name}",
            )
