"""OKD-POD-015: inside a Ready pod, the app accepts but does not answer on its port."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.live import current_log_tail, ready_pod_answers, works_from_the_internet
from okedoctor.check import Check
from okedoctor.facts import LIVE_PROBE, Facts
from okedoctor.kube import workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class AppTimeoutOnLocalhost(Check):
    """Inside a Ready pod, the app does not answer on the Service's target port in time (timeout or reset).

    What it checks
        The in-pod probe's `GET http://localhost:PORT/` on the target port inside each Ready pod
        timed out (or the connection was reset): the port is open but the app does not answer.

    Why it breaks
        Requests through the load balancer hang the same way and clients time out. Typical
        causes: every worker thread blocked on a slow dependency, a deadlock, CPU throttling at
        a low CPU limit. A port that speaks TLS (named https/tls/grpcs, appProtocol https, an
        HTTPS readiness probe, or answering plain HTTP like a TLS server) is probed with TLS,
        certificate unverified; a plain-HTTP reset of such a port in an older snapshot is by
        design and not reported, nor is a reset on a port the internet probe got an HTTP answer
        through (it works end to end).

    How to fix
        Read the app's log and thread state; restart the pods to recover (`kubectl rollout
        restart`); give the readiness probe a timeout so hung pods leave the endpoints; check the
        CPU limit and the dependencies' latency.
    """

    code = "OKD-POD-015"
    name = "app-timeout-on-localhost"
    hop = Hop.POD
    needs = ("kubernetes", LIVE_PROBE)

    def run(self, facts: Facts) -> Iterator[Finding]:
        answers = list(ready_pod_answers(facts))
        # A reset the internet does not see (it got an HTTP answer on that port) is the probe's, not the app's:
        # a TLS port nothing names so, probed in plain HTTP by an older collector.
        bad = [a for a in answers if a.result.get("error") in ("timeout", "reset") and not a.plain_on_tls
               and not (a.result["error"] == "reset" and works_from_the_internet(facts, a))]
        if not bad:
            return
        a = bad[0]
        ns, pname = a.pod["metadata"].get("namespace", ""), a.pod["metadata"]["name"]
        ref = workload_ref(facts, a.pod)
        pods = sorted({b.pod["metadata"]["name"] for b in bad})
        everywhere = len(pods) == len({x.pod["metadata"]["name"] for x in answers})
        err = a.result["error"]
        res = next((c.get("resources") or {} for c in a.pod["spec"]["containers"] if c.get("name") == a.container), {})
        yield self.finding(
            f"The app in {ref} does not answer on localhost:{a.port} ({'timed out' if err == 'timeout' else 'reset'})"
            " inside its Ready pod",
            subject=f"{ref.replace('/', f'/{ns}/', 1)}/{a.container}",
            # elapsedMs: how long the probe was given (live runs; docs/live-diagnosis.md "Speed")
            evidence={"pods": pods, "container": a.container, "port": a.port, "probe": err,
                      **({"elapsedMs": a.result["elapsedMs"]} if "elapsedMs" in a.result else {}),
                      "cpuLimit": (res.get("limits") or {}).get("cpu", "none"),
                      "logTail": current_log_tail(facts, a.pod, a.container)},
            fix=Fix("Recover by restarting the pods, then find what blocks the app (dependencies, CPU limit, "
                    "threads); give the readiness probe a short timeout so hung pods leave the endpoints.",
                    (f"kubectl -n {ns} rollout restart {ref}",
                     f"kubectl -n {ns} logs {pname} -c {a.container} --tail=100",
                     f"kubectl -n {ns} top pod {pname} --containers")),
            severity=Severity.ERROR if everywhere else Severity.WARNING,
        )
