"""OKD-POD-010: a pod of the Service stays Pending: the scheduler cannot place it."""

from __future__ import annotations

import json
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.chain.scheduling import (
    blocked_rollouts,
    node_room,
    other_pods_collected,
    parse_reasons,
    scheduling_message,
)
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import fmt_cpu, pod_requests, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class PodUnschedulable(Check):
    """A pod of the Service stays Pending: the scheduler cannot place it (FailedScheduling).

    What it checks
        Pods of the Service with PodScheduled=False. It quotes the scheduler's FailedScheduling
        message and spells out its reasons: insufficient cpu/memory (with the pod's requests and
        each node's free room), untolerated taints, a nodeSelector/affinity no node matches,
        unbound PersistentVolumeClaims, cordoned nodes, too many pods.

    Why it breaks
        A pod that is never scheduled never runs and is never an endpoint. When every replica is
        Pending the Service has no endpoint at all.

    How to fix
        Insufficient resources: lower the requests or add a node. Taint: add a toleration or
        remove the taint. Selector: fix the nodeSelector or label a node. Unbound PVC: fix the
        claim (its own finding when it asks a mode its class cannot give).
    """

    code = "OKD-POD-010"
    name = "pod-unschedulable"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        serving = _causes.service_serving(facts)
        in_rollout = {p["metadata"]["name"] for b in blocked_rollouts(facts) for p in b.pending}
        groups: dict[str, list[Obj]] = {}
        for pod in facts.pods:
            if _causes.is_unschedulable(pod):
                groups.setdefault(workload_ref(facts, pod), []).append(pod)
        for ref, pods in groups.items():
            pod = pods[0]
            cause = None
            if pod["metadata"]["name"] in in_rollout:
                cause = _causes.ROLLOUT
            elif _causes.pod_rwx_block_pvcs(facts, pod):
                cause = _causes.RWX_BLOCK
            elif _causes.volume_zone_conflicts(facts, pod):
                cause = _causes.VOLUME_ZONE
            elif _causes.pod_missing_class_pvcs(facts, pod):
                cause = _causes.CLASS_MISSING
            yield self._finding(facts, ref, pods, Severity.WARNING if serving else Severity.ERROR, cause)

    def _finding(self, facts: Facts, ref: str, pods: list[Obj], severity: Severity, cause: str | None) -> Finding:
        pod = pods[0]
        ns = pod["metadata"].get("namespace", "")
        message = scheduling_message(facts, pod)
        reasons = parse_reasons(message)
        spec = pod.get("spec") or {}
        evidence: dict = {"pods": [p["metadata"]["name"] for p in pods], "scheduler": message,
                          "reasons": reasons, "podRequests": pod_requests(spec).show()}
        kinds = {r["kind"] for r in reasons}
        if "insufficient" in kinds:
            evidence["nodes"] = {r.node: r.show() for r in node_room(facts)}
            if not other_pods_collected(facts):
                evidence["nodesNote"] = "requests of the Service's pods only: other pods were not collected"
        if "selector" in kinds:
            evidence["nodeSelector"] = spec.get("nodeSelector") or {}
            evidence["nodeLabelValues"] = _label_values(facts, spec.get("nodeSelector") or {})
        if "taint" in kinds:
            evidence["tolerations"] = [t.get("key") for t in spec.get("tolerations") or []]
        plain = ", ".join(_plain(r) for r in reasons) or (message or "no scheduler message recorded")
        return self.finding(
            f"{len(pods)} pod(s) of {ref} Pending, not schedulable: {plain}",
            subject=f"{ref.replace('/', f'/{ns}/', 1)}",
            evidence=evidence, fix=_fix(ns, ref, pod, reasons, evidence.get("nodeLabelValues") or {},
                                           _fitting_requests(facts, pod)),
            severity=severity, caused_by=cause,
        )


def _plain(r: dict) -> str:
    n = f"{r['nodes']} node(s): " if r.get("nodes") else ""
    return n + {
        "insufficient": f"not enough {r.get('resource')}",
        "taint": f"taint {{{r.get('taint')}}} not tolerated",
        "selector": "nodeSelector/affinity matches no node",
        "unbound-pvc": "a PersistentVolumeClaim is not bound",
        "volume-binding": "its volume cannot be provisioned or bound",
        "volume-zone": "the volume's node affinity (its availability domain) excludes them",
        "unschedulable": "cordoned",
        "too-many-pods": "too many pods",
        "ports": "hostPort in use",
    }[r["kind"]]


def _label_values(facts: Facts, selector: dict) -> dict[str, list[str]]:
    """For each nodeSelector key, the values the nodes actually carry."""
    return {k: sorted({(n["metadata"].get("labels") or {}).get(k) for n in facts.nodes} - {None})
            for k in selector}


# Labels a managed node pool sets on its nodes: a manual relabel is undone or breaks the pool.
_OWNED_LABEL_PREFIXES = ("oke.oraclecloud.com/", "kubernetes.io/", "node.kubernetes.io/", "topology.kubernetes.io/",
                         "beta.kubernetes.io/")


def _fitting_requests(facts: Facts, pod: Obj) -> str:
    """`cpu=..,memory=..` that fit the node with the most free room, when the snapshot holds every pod."""
    spec = pod.get("spec") or {}
    rooms = [r for r in node_room(facts) if r.ready and not r.unschedulable]
    best = max(rooms, key=lambda r: (r.free.cpu, r.free.memory), default=None)
    if not other_pods_collected(facts) or not best or len(spec.get("containers") or []) != 1 \
            or best.free.cpu <= 0 or best.free.memory <= 0:
        return 'cpu="$NEW_CPU",memory="$NEW_MEMORY"'
    want = pod_requests(spec)
    cpu = fmt_cpu(min(want.cpu, best.free.cpu // 10 * 10))
    memory = f"{min(want.memory, best.free.memory) // 2**20}Mi"
    return f"cpu={cpu},memory={memory}"


def _fix(ns: str, ref: str, pod: Obj, reasons: list[dict], values: dict[str, list[str]], fits: str) -> Fix:
    kinds = {r["kind"] for r in reasons}
    c = (pod.get("spec") or {}).get("containers", [{}])[0].get("name", "")
    if "insufficient" in kinds:
        ask = " (set NEW_CPU and NEW_MEMORY to what a node has free)" if "$NEW_CPU" in fits else \
            " (the printed requests fit the node with the most free room)"
        return Fix("Lower the pod's requests to fit a node" + ask + ", or add a node to the pool.",
                   ("kubectl describe nodes | grep -A8 'Allocated resources'",
                    f"kubectl -n {ns} set resources {ref} -c {c} --requests={fits}"))
    if "taint" in kinds:
        taint = next(r["taint"] for r in reasons if r["kind"] == "taint")
        key = taint.split(":")[0].strip()
        # Never `taint nodes --all KEY-`: it strips the taint from every node (and fails on those without it).
        return Fix(f"Tolerate the taint {taint} in the pod template (the patch below); remove the taint only from "
                   "a node meant to run this pod.",
                   (f"kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints[*].key | grep {key}",
                    f"kubectl -n {ns} patch {ref} -p '{json.dumps(_toleration_patch(key, pod))}'"
                    if ref.split("/")[0] in ("deployment", "statefulset", "daemonset") else
                    f"kubectl -n {ns} edit {ref}"),
                   f"tolerations:\n- key: {key}\n  operator: Exists\n  effect: NoSchedule\n")
    if "selector" in kinds:
        return _selector_fix(ns, ref, pod, values)
    if "volume-zone" in kinds:
        return Fix("Run a node in the volume's availability domain, or move the data to a volume in the nodes' AD "
                   "(see the volume node affinity finding).",
                   ("kubectl get pv -o custom-columns=NAME:.metadata.name,CLAIM:.spec.claimRef.name,"
                    "AFFINITY:.spec.nodeAffinity.required.nodeSelectorTerms",
                    "kubectl get nodes -L topology.kubernetes.io/zone"))
    if kinds & {"unbound-pvc", "volume-binding"}:
        claims = [v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or []
                  if v.get("persistentVolumeClaim")]
        return Fix("Get the pod's claims bound: read why each is Pending (its events name the provisioner's error).",
                   tuple(f"kubectl -n {ns} describe pvc {c}" for c in claims) or (f"kubectl -n {ns} get pvc",))
    if "unschedulable" in kinds:
        return Fix("Uncordon the nodes once their maintenance is done (NODE: a cordoned node's name, from the "
                   "first command).",
                   ("kubectl get nodes --field-selector spec.unschedulable=true", 'kubectl uncordon "$NODE"'))
    return Fix("Read the scheduler's message and fix what it names.",
               (f"kubectl -n {ns} describe pod {pod['metadata']['name']}",))


def _toleration_patch(key: str, pod: Obj) -> dict:
    # The list has no merge key: a patch replaces it, so it carries the pod's tolerations too.
    kept = [t for t in (pod.get("spec") or {}).get("tolerations") or [] if t.get("key") != key]
    return {"spec": {"template": {"spec": {"tolerations": [
        *kept, {"key": key, "operator": "Exists", "effect": "NoSchedule"}]}}}}


def _selector_fix(ns: str, ref: str, pod: Obj, values: dict[str, list[str]]) -> Fix:
    sel = (pod.get("spec") or {}).get("nodeSelector") or {}
    commands = ["kubectl get nodes --show-labels"]
    existing = {k: v[0] for k, v in values.items() if v and sel.get(k) not in v}
    if existing and ref.startswith("deployment/"):
        patch = {"spec": {"template": {"spec": {"nodeSelector": {**sel, **existing}}}}}
        commands.append(f"kubectl -n {ns} patch {ref} -p '{json.dumps(patch)}'")
    own = {k: v for k, v in sel.items() if not k.startswith(_OWNED_LABEL_PREFIXES)}
    if own:
        labels = " ".join(f"{k}={v}" for k, v in own.items())
        commands.append(f'kubectl label node "$NODE" {labels}')
    owned = sorted(set(sel) - set(own))
    summary = "Make the nodeSelector match labels the nodes carry (nodeLabelValues)"
    if own:
        summary += ", or label a node to match it (set NODE to its name)"
    if owned:
        summary += (f". {', '.join(owned)} belong to OKE/Kubernetes: do not relabel a node; run a node pool "
                    "whose nodes carry that value instead (its initial node labels or name)")
    return Fix(summary + ".", tuple(commands))
