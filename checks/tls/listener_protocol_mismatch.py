"""OKD-TLS-004: a 443 listener speaks plain HTTP, or a plain-HTTP port speaks TLS."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import tls
from okedoctor.check import Check
from okedoctor.facts import LIVE_INTERNET, Facts
from okedoctor.model import Finding, Fix, Hop


class ListenerProtocolMismatch(Check):
    """A public listener on 443 answers plain HTTP, or one on 80 answers TLS.

    What it checks
        What the internet probe met at each public address: on 443 (and for an https:// URL
        on its port) a TLS handshake is expected, on 80 (and for http://) plain HTTP. For an
        L7 load balancer, also each listener's `sslConfiguration` against its port.
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
    needs = (LIVE_INTERNET,)

    def run(self, facts: Facts) -> Iterator[Finding]:
        for served in tls.served(facts):
            wants_tls = _wants_tls(facts, served)
            if wants_tls is None or served.seen.get("error") or wants_tls == (served.cert is not None):
                continue
            spoke = "TLS" if served.cert is not None else "plain HTTP"
            yield self.finding(
                f"{served.address} speaks {spoke} where clients expect {'TLS' if wants_tls else 'plain HTTP'}",
                subject=f"listener/{served.address}",
                evidence={"address": served.address, "expected": "TLS" if wants_tls else "plain HTTP",
                          "spoke": spoke, "status": served.seen.get("status")},
                fix=Fix("Send 443 to a TLS port (the controller's https targetPort, or an L7 listener with an SSL "
                        "configuration) and 80 to plain HTTP.",
                        (f"curl -sv https://{served.address}/ -k -o /dev/null",)),
            )


def _wants_tls(facts: Facts, served: tls.Served) -> bool | None:
    if served.host is not None:
        walk_scheme = (facts.target_url or "").split("://", 1)[0]
        return walk_scheme == "https"
    return {443: True, 80: False}.get(served.port)
