"""OKD-POD-005: the readiness probe checks a different port than the Service sends to."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.ports import live_ports, port_problems, templates
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import containers, probe_target, resolve_target_port, service_ports, tls_port_reason
from okedoctor.model import Finding, Fix, Hop, Severity


class ReadinessProbePortMismatch(Check):
    """The readiness probe checks a different port than the one the Service sends traffic to.

    What it checks
        For each container of the Service's pods, the port of its readinessProbe (httpGet,
        tcpSocket or grpc; named ports resolved against that container) against the Service's
        resolved targetPort(s).

    Why it breaks
        Readiness is what puts a pod into the Service's endpoints. A probe on another port (a
        management or metrics port) can pass while the port the Service uses is dead, so traffic
        is sent to pods that cannot answer; or, the other way, a healthy app is kept out because
        its side port fails. A dedicated health port is often intended (ingress-nginx 10254,
        Istio and Envoy gateways 15021, Contour's Envoy 8002, Traefik's ping entry point, Spring
        Boot's management port): a port the container declares, or such a known health port
        its ready container's readiness probe passes on (ingress-nginx's chart does not declare
        10254), is reported as information; a warning only when the probe's port is
        served by nothing the pod declares or answers on, or when the in-pod probe shows it
        misleads (the probe's port answers while the serving port fails; a plain-HTTP reset of a
        TLS port is not a failure).

    How to fix
        Point the readiness probe at the serving port (the patch below), or accept the risk when
        the management port truly reflects the serving port's health.
    """

    code = "OKD-POD-005"
    name = "readiness-probe-port-mismatch"
    hop = Hop.POD
    severity = Severity.WARNING

    def run(self, facts: Facts) -> Iterator[Finding]:
        svc = facts.service
        if not svc:
            return
        ns, sname = svc["metadata"].get("namespace", ""), svc["metadata"]["name"]
        if port_problems(facts):
            return  # the probe is on the real port; the Service is what is wrong (OKD-POD-003/004)
        for label, pod in templates(facts):
            targets = {t for sp in service_ports(svc) if (t := resolve_target_port(sp, pod)) is not None}
            if not targets:
                continue
            for c in containers(pod):
                kind, port, desc = probe_target(c.get("readinessProbe"), c)
                declared = {p.get("containerPort") for p in c.get("ports") or []}
                serves = targets & declared or (targets if len(containers(pod)) == 1 else set())
                if port is None or not serves or port in targets:
                    continue
                target = sorted(serves)[0]
                tls = any(tls_port_reason(sp, pod, target) for sp in service_ports(svc)
                          if resolve_target_port(sp, pod) == target)
                severity, verdict = _impact(facts, label, pod, c, (port, target), tls)
                dep = next(iter(facts.deployments), None)
                ref = f"deployment/{dep['metadata']['name']}" if dep else label
                idx = [x.get("name") for x in containers(pod)].index(c.get("name"))
                yield self.finding(
                    f"Readiness probe of container {c.get('name')} checks port {port} ({desc}) but Service "
                    f"{sname} sends to port {target}",
                    subject=f"{ref.replace('/', f'/{ns}/', 1)}",
                    evidence={"container": c.get("name"), "readinessProbe": desc, "serviceTargetPorts": sorted(targets),
                              "readFrom": label, "assessment": verdict},
                    severity=severity,
                    fix=Fix(f"Probe the port the Service uses ({target}), or accept the risk if {port} is a "
                            "management port that reflects the app's health.",
                            (f"kubectl -n {ns} patch {ref} --type=json -p '[{{\"op\": \"replace\", \"path\": "
                             f"\"/spec/template/spec/containers/{idx}/readinessProbe/{kind}/port\", "
                             f"\"value\": {target}}}]'",) if kind in ("httpGet", "tcpSocket", "grpc") else (),
                            f"readinessProbe:\n  {kind}:\n    port: {target}\n"),
                )


# Health ports well-known controllers probe by design (for the evidence, not to decide).
KNOWN_HEALTH_PORTS = {10254: "ingress-nginx", 15021: "Istio / Envoy gateway", 8002: "Contour's Envoy",
                      9000: "Traefik's ping entry point"}


def _impact(facts: Facts, label: str, pod: dict, container: dict, ports: tuple[int, int],
            tls: bool) -> tuple[Severity, str]:
    """Information when a separate health port looks intended; a warning when it is unserved or misleads."""
    port, target = ports
    declared = {p.get("containerPort") for p in container.get("ports") or []}
    seen = live_ports(facts, label)
    probe_seen = seen.get(f"{container.get('name')}:{port}") or {}
    serving_seen = seen.get(f"{container.get('name')}:{target}") or {}
    probe_ok = isinstance(probe_seen.get("status"), int) and probe_seen["status"] < 500
    # A plain-HTTP probe of a TLS port is reset by design: it says nothing about the app.
    plain_on_tls = tls and serving_seen.get("error") == "reset" and not serving_seen.get("tls")
    serving_bad = (bool(serving_seen.get("error")) and not plain_on_tls) or (serving_seen.get("status") or 0) >= 500
    if probe_ok and serving_bad:
        return Severity.WARNING, (f"misleads: port {port} answers {probe_seen['status']} while the serving port "
                                  f"{target} gives {serving_seen.get('error') or serving_seen.get('status')}")
    who = KNOWN_HEALTH_PORTS.get(port)
    if port not in declared and not probe_ok and who and _kubelet_sees_ready(pod, container):
        # ingress-nginx's chart does not declare 10254; the kubelet's passing probe shows it served.
        return Severity.INFO, (f"{who}'s health port, not declared but served: the kubelet's readiness probe "
                               "passes on it (the container is ready)")
    if port not in declared and not probe_ok:
        return Severity.WARNING, (f"port {port} is not a port the container declares, and nothing was seen "
                                  "answering on it")
    return Severity.INFO, (f"a declared health port{f' ({who})' if who else ''}: by design unless it stops "
                           "reflecting the serving port's health")


def _kubelet_sees_ready(pod: dict, container: dict) -> bool:
    """A running, ready container: its readiness probe answers, so the probe's port is served."""
    for st in (pod.get("status") or {}).get("containerStatuses") or []:
        if st.get("name") == container.get("name"):
            return bool(st.get("ready")) and bool((st.get("state") or {}).get("running"))
    return False
