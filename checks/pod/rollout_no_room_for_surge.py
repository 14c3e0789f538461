"""OKD-POD-018: a rolling update is stuck because no node has room for the surge pod."""

from __future__ import annotations

import json
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.nodes import node_pool_id
from okedoctor.chain.scheduling import Blocked, NodeRoom, blocked_rollouts, other_pods_collected
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import condition, fmt_cpu, fmt_memory
from okedoctor.model import Finding, Fix, Hop, Severity


class RolloutNoRoomForSurge(Check):
    """A rolling update is stuck: no node has room for the surge pod of the new ReplicaSet.

    What it checks
        A Deployment mid-rollout (several ReplicaSets) whose newest ReplicaSet has a Pending pod
        the scheduler rejects for "Insufficient cpu/memory". Per node it shows allocatable,
        the sum of the requests of the pods scheduled there, and what is free, against the surge
        pod's request, plus the Deployment's Progressing condition.

    Why it breaks
        With the default strategy (maxSurge 25% rounded up, maxUnavailable 25% rounded down, so
        1 and 0 for 2 replicas) the controller first creates one extra pod and waits for it to
        be Ready before removing an old one. When no node can fit it, the rollout waits forever
        (ProgressDeadlineExceeded after progressDeadlineSeconds): the new version never ships,
        and the old pods keep serving.

    How to fix
        One of: (1) `maxSurge: 0, maxUnavailable: 1`: replace pods one by one in place, at the
        cost of one replica less while each is replaced; (2) smaller requests so the surge pod
        fits, at the cost of less guaranteed CPU/memory under load; (3) another node (scale the
        node pool), at the cost of paying for it. The finding gives the exact commands.
    """

    code = "OKD-POD-018"
    name = "rollout-no-room-for-surge"
    hop = Hop.POD
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        serving = _causes.service_serving(facts)
        for b in blocked_rollouts(facts):
            yield self._finding(facts, b, Severity.WARNING if serving else Severity.ERROR)

    def _finding(self, facts: Facts, b: Blocked, severity: Severity) -> Finding:
        dep = b.deployment
        ns, name = dep["metadata"].get("namespace", ""), dep["metadata"]["name"]
        ru = ((dep.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
        progressing = condition(dep, "Progressing") or {}
        complete = other_pods_collected(facts)
        best = max(b.rooms, key=lambda r: (r.free.cpu, r.free.memory), default=None) if complete else None
        evidence = {
            "newReplicaSet": b.new_rs["metadata"]["name"],
            "pendingPods": [p["metadata"]["name"] for p in b.pending],
            "surgePodRequests": b.request.show(),
            "strategy": {"maxSurge": ru.get("maxSurge", "25%"), "maxUnavailable": ru.get("maxUnavailable", "25%")},
            "scheduler": b.message,
            "nodes": {r.node: r.show() for r in b.rooms},
            "requestedIs": "the sum of requests of the pods in this snapshot scheduled on each node" if complete else
            "the requests of the Service's own pods only (other pods were not collected): free is an upper bound; "
            "`kubectl describe node` shows the full sum",
            "progressing": f"{progressing.get('reason', '')}: {progressing.get('message', '')}".strip(": "),
        }
        room = (f"; most free: {best.node} with {fmt_cpu(best.free.cpu)} cpu, {fmt_memory(best.free.memory)} memory"
                if best else "")
        return self.finding(
            f"Rollout of deployment {ns}/{name} is stuck: no node has room for the surge pod "
            f"({fmt_cpu(b.request.cpu)} cpu, {fmt_memory(b.request.memory)} memory requested{room})",
            subject=f"deployment/{ns}/{name}",
            evidence=evidence,
            fix=_fix(facts, ns, name, dep, b, best),
            severity=severity,
        )


def _fix(facts: Facts, ns: str, name: str, dep: Obj, b: Blocked, best: NodeRoom | None) -> Fix:
    strategy = {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}}}
    commands = [f"kubectl -n {ns} patch deployment {name} -p '{json.dumps(strategy)}'"]
    options = ["(1) maxSurge 0 / maxUnavailable 1: no extra pod, but one replica fewer while each pod is replaced"]
    containers = ((dep.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    if best and len(containers) == 1 and best.free.cpu > 0 and best.free.memory > 0:
        cname = containers[0].get("name")
        req = (containers[0].get("resources") or {}).get("requests") or {}
        parts = []
        if b.request.cpu > best.free.cpu:
            parts.append(f"cpu={fmt_cpu(best.free.cpu // 10 * 10)}")
        if b.request.memory > best.free.memory:
            parts.append(f"memory={best.free.memory // 2**20}Mi")
        if parts and req:
            commands.append(f"kubectl -n {ns} set resources deployment {name} -c {cname} --requests={','.join(parts)}")
            options.append(f"(2) requests {', '.join(parts)} (fits {best.node}): less guaranteed capacity per pod")
    elif len(containers) == 1:
        # Without every pod of the nodes, the room left is unknown: measure it first.
        commands.append("kubectl describe nodes | grep -A8 'Allocated resources'")
        commands.append(f"kubectl -n {ns} set resources deployment {name} -c {containers[0].get('name')} "
                        '--requests=cpu="$NEW_CPU",memory="$NEW_MEMORY"')
        options.append("(2) smaller requests that fit a node's free room (set NEW_CPU and NEW_MEMORY to what the "
                       "describe shows free): less guaranteed capacity per pod")
    pool = node_pool_id(facts)
    pool_arg = pool or '"$NODE_POOL_ID"'
    commands.append(f"oci ce node-pool update --node-pool-id {pool_arg} "
                    f"--size {len(facts.nodes) + 1}")
    options.append("(3) one more worker node: room for the surge, at the cost of the node"
                   + ("" if pool else " (set NODE_POOL_ID: `oci ce node-pool list --compartment-id ... "
                      "--cluster-id ...` lists the pools)"))
    return Fix("Pick one: " + "; ".join(options) + ".", tuple(commands),
               "spec:\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 0\n"
               "      maxUnavailable: 1\n")

