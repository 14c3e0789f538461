"""OKD-TLS-004: a 443 listener speaks plain HTTP, or a plain-HTTP port speaks TLS."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import lbcerts, tls
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop

SSL_PORTS = "service.beta.kubernetes.io/oci-load-balancer-ssl-ports"


class ListenerProtocolMismatch(Check):
    """A public listener on 443 answers plain HTTP, or one on 80 answers TLS.

    What it checks
        What the internet probe met at each public address: on 443 (and for an https:// URL
        on its port) a TLS handshake is expected, on 80 (and for http://) plain HTTP. For an
        L7 load balancer, also each listener's `sslConfiguration` against its port, from the LB
        body and without the probe: an HTTP listener on 443 without one speaks plain HTTP, a
        listener on 80 with one speaks TLS (a TCP listener without one passes TLS through to
        the backend, so only the probe can tell).
    Why it breaks
        `https://` clients fail with "wrong version number" / "packet length too long" when
        443 speaks plain HTTP (an L7 LB listener without a certificate, or the NLB sending 443
        to the controller's http NodePort), and `http://` clients get a 400 or a reset when
        80 is TLS.
    How to fix
        Send 443 to the controller's https port (targetPort https), or give the L7 listener
        on 443 an SSL configuration (`service.beta.kubernetes.io/oci-load-balancer-ssl-ports:
        "443"` with the TLS Secret); serve plain HTTP on 80.
    """

    code = "OKD-TLS-004"
    name = "listener-protocol-mismatch"
    hop = Hop.INTERNET
    # What the probe met, or an L7 listener's configuration from the LB body: either is enough.
    needs = ()

    def run(self, facts: Facts) -> Iterator[Finding]:
        listeners = lbcerts.listeners(facts)
        tls.require_source(facts, bool(listeners))
        judged: set[int] = set()
        for lis in listeners:
            wants_tls = _port_wants_tls(facts, lis.port)
            # A TCP listener without SSL passes the bytes through: the backend may well speak TLS.
            if wants_tls is None or (not lis.ssl and lis.protocol.upper() == "TCP") or wants_tls == bool(lis.ssl):
                continue
            judged.add(lis.port)
            yield self._configured(facts, lis, wants_tls)
        for served in tls.served(facts):
            wants_tls = _wants_tls(facts, served)
            if (wants_tls is None or served.port in judged or served.seen.get("error")
                    or wants_tls == (served.cert is not None)):
                continue
            spoke = "TLS" if served.cert is not None else "plain HTTP"
            yield self.finding(
                f"{served.address} speaks {spoke} where clients expect {'TLS' if wants_tls else 'plain HTTP'}",
                subject=f"listener/{served.address}",
                evidence={"source": f"served on {served.address}", "address": served.address,
                          "expected": "TLS" if wants_tls else "plain HTTP", "spoke": spoke,
                          "status": served.seen.get("status")},
                fix=Fix("Send 443 to a TLS port (the controller's https targetPort, or an L7 listener with an SSL "
                        "configuration) and 80 to plain HTTP.",
                        (f"curl -sv https://{served.address}/ -k -o /dev/null",)),
            )

    def _configured(self, facts: Facts, lis: lbcerts.ListenerTls, wants_tls: bool) -> Finding:
        spoke = "TLS" if lis.ssl else f"plain {lis.protocol}"
        source = f"LB listener {lis.name}"
        meta = (facts.service or {}).get("metadata") or {}
        name, ns = meta.get("name") or "NAME", meta.get("namespace") or "default"
        if wants_tls:
            secret = (meta.get("annotations") or {}).get(lbcerts.TLS_SECRET_ANNOTATION) or f"{name}-tls"
            fix = Fix(f"Terminate TLS on listener {lis.name}: with the cloud controller manager, list port {lis.port} "
                      f"in the Service's {SSL_PORTS} annotation and name a kubernetes.io/tls Secret ({secret}) in its "
                      "TLS annotation; it then adds the SSL configuration to the listener.",
                      (f"kubectl create secret tls {secret} -n {ns} --cert=tls.crt --key=tls.key",
                       lbcerts.annotate_command(name, ns, {SSL_PORTS: str(lis.port),
                                                           lbcerts.TLS_SECRET_ANNOTATION: secret})))
        else:
            fix = Fix(f"Serve plain HTTP on port {lis.port}: leave it out of the Service's {SSL_PORTS} annotation, "
                      "which lists the ports that terminate TLS.",
                      (f"kubectl get service {name} -n {ns} -o jsonpath='{{.metadata.annotations}}'",))
        return self.finding(
            f"{source} (port {lis.port}) speaks {spoke} where clients expect {'TLS' if wants_tls else 'plain HTTP'}",
            subject=lis.subject,
            evidence={"source": source, "listener": lis.name, "port": lis.port, "protocol": lis.protocol,
                      "sslConfiguration": bool(lis.ssl), "expected": "TLS" if wants_tls else "plain HTTP",
                      "spoke": spoke},
            fix=fix,
        )


def _port_wants_tls(facts: Facts, port: int) -> bool | None:
    walk_scheme = (facts.target_url or "").split("://", 1)[0]
    if walk_scheme:
        return walk_scheme == "https"
    return {443: True, 80: False}.get(port)


def _wants_tls(facts: Facts, served: tls.Served) -> bool | None:
    if served.host is not None:
        walk_scheme = (facts.target_url or "").split("://", 1)[0]
        return walk_scheme == "https"
    return {443: True, 80: False}.get(served.port)
