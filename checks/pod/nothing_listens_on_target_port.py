"""OKD-POD-014: inside a Ready pod, nothing listens on the port the Service sends to."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.actions import kube_json_patch
from okedoctor.chain import causes as _causes
from okedoctor.chain.live import ready_pod_answers
from okedoctor.chain.ports import port_problems
from okedoctor.check import Check
from okedoctor.facts import LIVE_PROBE, Facts
from okedoctor.kube import listening_ports, resolve_target_port, service_ports, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class NothingListensOnTargetPort(Check):
    """Inside a Ready pod, the Service's target port refuses connections: nothing listens there.

    What it checks
        The in-pod probe's `GET http://localhost:PORT/` on the Service's target port inside each
        Ready pod of the Service, when it was refused. It lists the ports that did answer and
        the ports the log says the app listens on.

    Why it breaks
        kube-proxy forwards every connection to pod:targetPort; with nothing listening the pod
        answers with a reset and clients see "connection refused". The pod stays Ready when it
        has no readiness probe, or one on another port.

    How to fix
        Make the Service's targetPort the port the app listens on, or make the app listen on the
        targetPort (its PORT setting); add a readiness probe on that port so a pod that does
        not listen is kept out of the endpoints.
    """

    code = "OKD-POD-014"
    name = "nothing-listens-on-target-port"
    hop = Hop.POD
    needs = ("kubernetes", LIVE_PROBE)

    def run(self, facts: Facts) -> Iterator[Finding]:
        answers = list(ready_pod_answers(facts))
        bad = [a for a in answers if a.result.get("error") == "refused"]
        if not bad:
            return
        a = bad[0]
        ns, pname = a.pod["metadata"].get("namespace", ""), a.pod["metadata"]["name"]
        ref = workload_ref(facts, a.pod)
        live = facts.container_live(ns, pname, a.container) or {}
        answering = sorted(int(p) for p, r in a.others.items() if "status" in r)
        from_logs = listening_ports(live.get("logs"))
        listens = answering or from_logs
        pods = sorted({b.pod["metadata"]["name"] for b in bad})
        everywhere = len(pods) == len({x.pod["metadata"]["name"] for x in answers})
        sname = facts.service["metadata"]["name"]
        commands = [f"kubectl -n {ns} exec {pname} -c {a.container} -- sh -c 'netstat -tln 2>/dev/null || ss -tln'"]
        if len(listens) == 1:
            idx = next(i for i, sp in enumerate(service_ports(facts.service))
                       if resolve_target_port(sp, a.pod) == a.port)
            ops = [{"op": "replace", "path": f"/spec/ports/{idx}/targetPort", "value": listens[0]}]
            commands.insert(0, kube_json_patch("Service", ns, sname, ops, f"point Service {sname} at port "
                                                                          f"{listens[0]}"))
        yield self.finding(
            f"Nothing listens on port {a.port} in {ref}: localhost:{a.port} refused inside the Ready pod"
            + (f"; the app listens on {', '.join(map(str, listens))}" if listens else ""),
            subject=f"{ref.replace('/', f'/{ns}/', 1)}/{a.container}",
            evidence={"pods": pods, "container": a.container, "targetPort": a.port, "probe": "refused",
                      "portsAnswering": answering, "portsInLog": from_logs},
            fix=Fix("Send the Service to the port the app listens on, or make the app listen on the target port; "
                    "add a readiness probe on that port.", tuple(commands)),
            severity=Severity.ERROR if everywhere else Severity.WARNING,
            caused_by=_cause(facts),
        )


def _cause(facts: Facts) -> str | None:
    """A wrong targetPort (OKD-POD-003/004) explains the refused port when one was found."""
    probs = port_problems(facts)
    if not probs:
        return None
    return _causes.SWAPPED if probs[0].kind == "swapped" else _causes.TARGET_PORT
