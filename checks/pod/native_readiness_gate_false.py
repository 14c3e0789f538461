"""OKD-NIC-004: the OCI Native Ingress Controller holds pods back by their readiness gate."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import native as nat
from okedoctor.chain import route as routes
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import pod_ready
from okedoctor.model import Finding, Fix, Hop, Severity


class NativeReadinessGateFalse(Check):
    """A pod's OCI Native Ingress Controller readiness gate is False: its LB backend is not healthy.

    What it checks
        Pods of the Service with a readiness gate `podreadiness.ingress.oraclecloud.com/k8s_...`
        (injected into namespaces labelled
        `podreadiness.ingress.oraclecloud.com/pod-readiness-gate-inject=enabled`) whose condition
        the controller has set, but not to True. Its reason says what the LB saw (backend is
        CRITICAL / WARNING / UNKNOWN). A gate with no condition at all is OKD-POD-020's.
    Why it breaks
        The controller sets the gate True only once the pod's IP is a healthy backend of the LB's
        backend set; until then the pod is not Ready, leaves the Service's endpoints, and a rolling
        update waits for it forever ("1 out of 3 new replicas have been updated"). The fault is
        between the LB and the pod, not in the pod. When the LB finds the pod's backend OK and the
        gate still says otherwise, the gate is stale: the controller rewrites it on every pass of
        its backend sync (every 10 s), so that sync has stopped for the class.
    How to fix
        Fix why the LB finds the pod unhealthy (the finding it is tied to: usually the rules
        between the LB subnet and the pod subnet); the controller then sets the gate True by itself.
        A stale gate: look at the controller's pods and the IngressClass's events
        (BackendReconcileFailed) and fix what they show.
    """

    code = "OKD-NIC-004"
    name = "native-readiness-gate-false"
    hop = Hop.POD
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        held = [(p, g) for p in facts.pods for g in _false_gates(p)]
        if not held:
            return
        walk = routes.walk(facts)
        target = nat.rule_target(facts, walk) if walk is not None else None
        cause = _cause(facts, target)
        pods = sorted({p["metadata"]["name"] for p, _ in held})
        gates = sorted({g for _, g in held})
        reasons = sorted({str((nat.gate_status(p, g) or {}).get("reason") or "no reason") for p, g in held})
        ns = held[0][0]["metadata"].get("namespace", "default")
        none_ready = not any(pod_ready(p) for p in facts.pods)
        conditions = f"kubectl -n {ns} get pod {pods[0]} -o jsonpath='{{.status.conditions}}'"
        title = f"{len(pods)} pod(s) wait on the OCI Native Ingress Controller's readiness gate ({', '.join(reasons)})"
        evidence: dict = {"pods": pods, "gates": gates, "reasons": reasons}
        lb_health = _lb_health(facts, target, pods) if cause is None and target is not None else {}
        if cause is not None:
            fix = Fix("Make the pods healthy backends of the native ingress LB (the cause it is tied to); the "
                      "controller then sets the gate True.", (conditions,))
        elif lb_health and set(lb_health.values()) == {"OK"} and target is not None and walk is not None:
            # The LB says OK and the gate says otherwise: the controller has not refreshed the gate
            # (it does on every pass of its backend sync, every 10 s, while that sync succeeds).
            title += " although the LB finds their backends OK"
            evidence["lbHealth"] = lb_health
            fix = Fix("The LB finds these pods healthy, but their gate still holds what the controller wrote before: "
                      "it rewrites the gate on every pass of its backend sync for the class (every 10 s), so that sync "
                      "no longer runs or fails before reaching them. Look at the controller's pods and the "
                      "IngressClass's events (BackendReconcileFailed), fix what they show; the controller then sets "
                      "the gate True.",
                      (conditions, f"kubectl describe ingressclass {nat.class_name(walk.native_class or {})}",
                       nat.CONTROLLER_PODS))
        else:
            fix = Fix("Find why the native ingress LB does not find these pods healthy backends (its view per "
                      "backend); the controller then sets the gate True.",
                      (conditions,) + ((f"oci lb backend-set-health get --load-balancer-id {target.ref.id} "
                                        f"--backend-set-name {target.backend_set}",) if target is not None else ()))
        yield self.finding(
            title,
            subject=f"pod/{ns}/{pods[0]}",
            evidence=evidence,
            fix=fix,
            severity=Severity.ERROR if none_ready else Severity.WARNING,
            caused_by=cause,
        )


def _false_gates(pod: Obj) -> list[str]:
    gates = [g.get("conditionType", "") for g in (pod.get("spec") or {}).get("readinessGates") or []]
    return [g for g in gates if g.startswith(nat.GATE_PREFIX + "/")
            and (c := nat.gate_status(pod, g)) is not None and c.get("status") != "True"]


def _cause(facts: Facts, target: nat.RuleTarget | None) -> str | None:
    """In a URL walk through the native LB: the LB-side finding that explains the gate."""
    if target is None:
        return None
    if nat.lb_pod_gaps(facts, target):
        return nat.LB_TO_PODS_BLOCKED
    if nat.unhealthy(facts, target):
        return nat.BACKENDS_UNHEALTHY
    return None


def _lb_health(facts: Facts, target: nat.RuleTarget, pods: list[str]) -> dict[str, str | None]:
    """The LB's health of each held pod's backend ({backend: status}); empty unless every held pod
    is a listed backend of the rule's set (a pod missing from the set is OKD-NIC-001's)."""
    backends = {b.pod: b for b in target.expected}
    if any(p not in backends or backends[p].name not in target.listed for p in pods):
        return {}
    return {backends[p].name: nat.health_of(facts, target, backends[p]) for p in pods}
