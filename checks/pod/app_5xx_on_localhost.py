"""OKD-POD-013: the app itself answers 5xx on localhost while its pod is Ready."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.live import current_log_tail, ready_pod_answers
from okedoctor.check import Check
from okedoctor.facts import LIVE_PROBE, Facts
from okedoctor.kube import has_earlier_revision, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class App5xxOnLocalhost(Check):
    """The app answers HTTP 5xx on localhost inside its Ready pod: the app itself is broken.

    What it checks
        The in-pod probe's `GET http://localhost:PORT/` on the Service's target port, run inside
        each Ready pod of the Service. A 5xx status there comes from the app alone: no load
        balancer, NodePort, kube-proxy or network policy is in the path. It shows the status,
        the start of the body (redacted) and the last log lines.

    Why it breaks
        Clients get the same error through the load balancer: with ETP Cluster the LB health
        check (kube-proxy's /healthz) stays green and the pods stay Ready (the readiness probe
        checks another path, or none), so nothing upstream can be healthy. No hop in front of
        the pod can fix it.

    How to fix
        Look at the app: its logs around the failing requests, its dependencies, the last
        release (`kubectl rollout undo` when the new version is the cause). Make its readiness
        probe exercise what the requests need so broken pods leave the endpoints.
    """

    code = "OKD-POD-013"
    name = "app-5xx-on-localhost"
    hop = Hop.POD
    needs = ("kubernetes", LIVE_PROBE)

    def run(self, facts: Facts) -> Iterator[Finding]:
        answers = list(ready_pod_answers(facts))
        bad = [a for a in answers if int(a.result.get("status") or 0) >= 500]
        if not bad:
            return
        a = bad[0]
        ns = a.pod["metadata"].get("namespace", "")
        ref = workload_ref(facts, a.pod)
        path = a.result.get("path") or "/"  # the live probe may use the readiness probe's path
        pods = sorted({b.pod["metadata"]["name"] for b in bad})
        everywhere = len(pods) == len({x.pod["metadata"]["name"] for x in answers})
        evidence = {
            "pods": pods, "container": a.container, "port": a.port,
            "request": f"GET http://localhost:{a.port}{path} (inside the container)",
            "status": a.result.get("status"), "bodyPrefix": a.body_prefix, "podReady": True,
            "logTail": current_log_tail(facts, a.pod, a.container),
        }
        if not everywhere:
            evidence["healthyPods"] = sorted({x.pod["metadata"]["name"] for x in answers} - set(pods))
        yield self.finding(
            f"The app in {ref} answers HTTP {a.result.get('status')} on localhost:{a.port} while its pod is Ready"
            + ("" if everywhere else f" ({len(pods)} of the pods)"),
            subject=f"{ref.replace('/', f'/{ns}/', 1)}/{a.container}",
            evidence=evidence,
            fix=_fix(facts, ns, ref, a, path),
            severity=Severity.ERROR if everywhere else Severity.WARNING,
        )


def _fix(facts: Facts, ns: str, ref: str, a, path: str) -> Fix:
    pod = a.pod["metadata"]["name"]
    commands = [f"kubectl -n {ns} logs {pod} -c {a.container} --tail=100",
                f"kubectl -n {ns} exec {pod} -c {a.container} -- curl -sS -i http://localhost:{a.port}{path}"]
    back = has_earlier_revision(facts, ns, ref)
    if back:
        commands.append(f"kubectl -n {ns} rollout undo {ref}")
    return Fix("Fix the app (its logs say why it fails)" + (", or roll back the release that broke it" if back else "")
               + "; make the readiness probe exercise what requests need.", tuple(commands))
