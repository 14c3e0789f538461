"""OKD-POD-012: the app listens on 127.0.0.1 instead of all addresses."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.containers import containers_where
from okedoctor.check import Check
from okedoctor.facts import LIVE_CONTAINERS, Facts
from okedoctor.kube import log_hints, resolve_target_port, service_ports
from okedoctor.model import Finding, Fix, Hop


class AppListensOnLoopback(Check):
    """The app listens on 127.0.0.1 (loopback) only, so nothing outside its container can reach it.

    What it checks
        The current log of each container of the Service's pods, for the line where the app says
        where it listens: `Listening on 127.0.0.1:8080`, `Running on http://localhost:5000`. It
        fires when that address is loopback and the port is one the Service sends to (or the
        only one the log names). The in-pod probe's answer on localhost, which succeeds, is shown
        next to the failing kubelet probe to make the contrast plain.

    Why it breaks
        kubelet probes and kube-proxy connect to the pod's IP, not to 127.0.0.1: a server bound to
        loopback refuses them. The readiness probe fails ("connect: connection refused"), and
        without a probe the Service sends traffic that is refused. Inside the container,
        `curl localhost` works, which makes it look healthy.

    How to fix
        Make the app bind 0.0.0.0 (all addresses): its host setting (HOST=0.0.0.0, `--bind
        0.0.0.0:8080`, `server.address`, Flask `app.run(host="0.0.0.0")`).
    """

    code = "OKD-POD-012"
    name = "app-listens-on-loopback"
    hop = Hop.POD
    needs = ("kubernetes", LIVE_CONTAINERS)

    def run(self, facts: Facts) -> Iterator[Finding]:
        if not facts.service:
            return
        for g in containers_where(facts, lambda pod, st: bool(((st or {}).get("state") or {}).get("running"))):
            pod, _ = g.first
            ns, cname = pod["metadata"].get("namespace", ""), g.container.get("name", "")
            live = facts.container_live(ns, pod["metadata"]["name"], cname) or {}
            targets = {resolve_target_port(sp, pod) for sp in service_ports(facts.service)}
            hints = [h for h in log_hints(live.get("logs")) if h.kind == "loopback"]
            hit = next((h for h in hints if h.detail["port"] in targets or len(hints) == 1), None)
            if not hit:
                continue
            port = hit.detail["port"]
            unhealthy = [e.get("message", "") for e in facts.events_for(pod) if e.get("reason") == "Unhealthy"]
            evidence = {"pods": g.pod_names, "container": cname, "logLine": hit.line,
                        "listensOn": hit.detail["address"], "needs": f"0.0.0.0:{port}"}
            if unhealthy:
                evidence["kubeletProbe"] = unhealthy[-1]
            if (res := (live.get("localhost") or {}).get(str(port))) is not None:
                evidence["inPodProbe"] = {f"localhost:{port}": res}
            yield self.finding(
                f"The app in {g.ref} listens on {hit.detail['address']} (loopback only): the kubelet, the "
                "Service and the load balancer cannot reach it",
                subject=f"{g.ref.replace('/', f'/{ns}/', 1)}/{cname}",
                evidence=evidence,
                fix=Fix("Make the app bind 0.0.0.0 (all addresses) instead of 127.0.0.1, e.g. with its host "
                        "setting, then roll out.",
                        (f"kubectl -n {ns} set env {g.ref} -c {cname} HOST=0.0.0.0",
                         f"kubectl -n {ns} rollout status {g.ref}"),
                        f"# the app's own listen setting; for many frameworks:\nenv:\n- name: HOST\n  value: "
                        f"\"0.0.0.0\"\n# or args: [\"--bind\", \"0.0.0.0:{port}\"]\n"),
            )
