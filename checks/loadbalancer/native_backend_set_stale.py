"""OKD-NIC-001: the native ingress LB's backend set for the rule does not hold the Service's pods."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import native as nat
from okedoctor.chain import route as routes
from okedoctor.check import Check, CheckSkipped
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class NativeBackendSetStale(Check):
    """The OCI Native Ingress Controller's LB does not send the rule to the Service's pods.

    What it checks
        For a URL served by the OCI Native Ingress Controller's LB, the backend set the controller
        makes for the rule's Service and port (`bs_` + a hash of namespace, name and port): that it
        exists, and that its backends are the Service's endpoint pods' IPs on the target port. A ready
        pod missing from it, or a backend that is no endpoint any more, is reported with both lists.
    Why it breaks
        The controller's backend loop rewrites the set from the Service's Endpoints; when a sync
        fails (a Service port it cannot resolve, an OCI work request that failed, the controller
        down or without permission) the set keeps the IPs of pods that are gone and lacks the new
        ones, so after a rollout the LB sends to addresses nothing answers, or to none.
    How to fix
        Look at the IngressClass's events (BackendReconcileFailed) and the controller's pods, fix
        what they name, then let it sync again (restart the controller). The printed commands show
        the backend set as the LB has it.
    """

    code = "OKD-NIC-001"
    name = "native-backend-set-stale"
    hop = Hop.LOADBALANCER
    # OCI is read only for a URL through the native LB: a Service diagnosis never lists these as skipped.
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.native_class is None:
            return
        target = nat.rule_target(facts, walk)
        if target is None:
            raise CheckSkipped("the walk reached no backend Service port on the native LB, or the LB was not read")
        svc = f"{target.service['metadata'].get('namespace', 'default')}/{target.service['metadata']['name']}"
        evidence = {"loadBalancer": target.ref.id, "backendSet": target.backend_set, "service": svc,
                    "servicePort": target.port.get("port"),
                    "expected": [{"pod": b.pod, "backend": b.name, "ready": b.ready} for b in target.expected],
                    "listed": sorted(target.listed)}
        fix = Fix(f"Find why the controller did not sync backend set {target.backend_set} (the IngressClass's "
                  "events, the controller's logs), fix it, and let it sync again.",
                  nat.inspect_commands(target, walk.native_class))
        if target.body is None:
            yield self.finding(f"the native ingress LB has no backend set {target.backend_set} for Service {svc} "
                               f"port {target.port.get('port')}: the rule sends nowhere",
                               subject=f"{target.ref.id}/{target.backend_set}", evidence=evidence, fix=fix)
            return
        ready = [b for b in target.expected if b.ready]
        missing = [b for b in ready if b.name not in target.listed]
        stale = sorted(target.listed - {b.name for b in target.expected})
        if not missing and not stale:
            return
        severity = Severity.ERROR if ready and len(missing) == len(ready) else Severity.WARNING
        parts = ([f"lacks ready pod(s) {', '.join(f'{b.pod} ({b.name})' for b in missing)}"] if missing else []) + \
                ([f"still sends to {', '.join(stale)}, no endpoint of the Service"] if stale else [])
        yield self.finding(f"backend set {target.backend_set} of the native ingress LB (Service {svc}) "
                           + " and ".join(parts),
                           subject=f"{target.ref.id}/{target.backend_set}",
                           evidence={**evidence, "missing": [b.name for b in missing], "stale": stale},
                           fix=fix, severity=severity)
