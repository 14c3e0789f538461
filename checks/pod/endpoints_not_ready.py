"""OKD-POD-002: the Service has no ready endpoint."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import endpoint_addresses, pod_ready, resolve_target_port, service_ports
from okedoctor.model import Finding, Fix, Hop


class EndpointsNotReady(Check):
    """The Service has no ready endpoint: its Endpoints/EndpointSlices are empty or all not-ready.

    What it checks
        The target Service's EndpointSlices (or Endpoints when there are no slices): how many
        addresses they list and how many are ready. It fires when none is ready, and names the
        finding that explains why (no pod selected, pods crashing, a named targetPort no
        container has...) so one broken pod gives one root cause.

    Why it breaks
        kube-proxy forwards NodePort and ClusterIP traffic only to ready endpoints. With none it
        rejects the connection: the load balancer (ETP Cluster) still sees kube-proxy healthy,
        but every client connection is refused or reset.

    How to fix
        Fix the cause named in the finding (its own entry has the exact commands). Then watch
        the endpoints fill: `kubectl get endpointslices -l kubernetes.io/service-name=NAME -w`.
    """

    code = "OKD-POD-002"
    name = "endpoints-not-ready"
    hop = Hop.POD
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        if not svc or not (svc.get("spec") or {}).get("selector"):
            return  # a selector-less Service has hand-made endpoints; nothing to compare with
        addrs = endpoint_addresses(facts, svc)
        if any(a.ready for a in addrs):
            return
        if facts.endpoints() is None and not facts.endpoint_slices():
            return  # not collected; the pod checks still speak
        ns, name = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
        cause = self._cause(facts)
        evidence = {
            "endpoints": len(addrs),
            "notReady": [f"{a.ip} ({a.pod})" for a in addrs if not a.ready],
            "podsSelected": len(facts.pods),
            "podsReady": sum(1 for p in facts.pods if pod_ready(p)),
        }
        if cause:
            evidence["explainedBy"] = cause
        what = "empty" if not addrs else f"all {len(addrs)} not ready"
        yield self.finding(
            f"Service {ns}/{name} has no ready endpoint (endpoints {what}): every connection is refused",
            subject=f"service/{ns}/{name}",
            evidence=evidence,
            fix=Fix(f"Fix {cause} first (its own entry has the commands), then check the endpoints fill." if cause else
                    "No pod-level cause is visible: compare the pods' Ready conditions with the EndpointSlices.",
                    (f"kubectl -n {ns} get endpointslices -l kubernetes.io/service-name={name} -o wide",
                     f"kubectl -n {ns} get pods -o wide --show-labels")),
            caused_by=cause,
        )

    @staticmethod
    def _cause(facts: Facts) -> str | None:
        if not facts.pods:
            return _causes.NO_PODS if facts.deployments else _causes.SELECTS_NO_POD
        for pod in facts.pods:
            if (cause := _causes.not_ready_cause(facts, pod)):
                return cause
        # Ready pods but no address: a named targetPort that no container declares.
        for port in service_ports(facts.service):
            if all(resolve_target_port(port, p) is None for p in facts.pods):
                return _causes.TARGET_PORT
        return None
