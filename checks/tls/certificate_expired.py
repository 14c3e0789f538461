"""OKD-TLS-001: the certificate the public address serves has expired or expires within 14 days."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import lbcerts, tls
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class CertificateExpired(Check):
    """The certificate a public listener serves has expired (error) or expires within 14 days (warning).

    What it checks
        `notAfter` of the certificate the internet probe was served at each public address
        (for a URL: its name's address on the URL's port), and of the certificate each L7 load
        balancer listener is configured with (its `certificates` bundle, or the OCI Certificates
        service's certificate in `certificateIds`), against the time the facts were observed
        (`metadata.capturedAt`). The listener's certificate is judged without the probe.
    Why it breaks
        An expired certificate fails every verifying client ("certificate has expired"); the
        renewal (cert-manager, a Let's Encrypt job, the OCI Certificates service) failed or the
        listener still holds the old one: an LB listener's certificate is a copy, renewed only
        when it is replaced.
    How to fix
        Renew the certificate and put it where the listener reads it: the ingress controller's
        TLS Secret (NLB pass-through, `kubectl describe certificate`), or the LB listener's
        certificate bundle: the cloud controller manager uploads the Secret named by
        `oci-load-balancer-tls-secret` only under a name the LB does not hold yet, so put the
        renewed pair in a Secret of a new name and point the annotation at it; renew an OCI
        Certificates certificate in that service (imported ones are never renewed by it).
    """

    code = "OKD-TLS-001"
    name = "certificate-expired"
    hop = Hop.INTERNET
    # The probe's certificate, or an L7 listener's from the LB body: either is enough (tls.require_source).
    needs = ()

    def run(self, facts: Facts) -> Iterator[Finding]:
        configured = lbcerts.configured(facts)
        tls.require_source(facts, bool(configured))
        now = tls.reference_time(facts)
        judged: set[tuple[int, str]] = set()
        for conf in configured:
            found = tls.expiry(conf.cert or {}, now)
            if found is None:
                continue
            judged.add((conf.port, found[0]))
            yield self._configured(facts, conf, *found)
        for served in tls.served(facts):
            found = tls.expiry(served.cert or {}, now)
            # The listener's own certificate already said it: the probe met the same one.
            if found is None or (served.port, found[0]) in judged:
                continue
            yield self._served(served, *found)

    def _served(self, served: tls.Served, date: str, expired: bool) -> Finding:
        return self.finding(
            f"the certificate {served.address} serves {'expired' if expired else 'expires'} on {date}",
            subject=f"listener/{served.address}",
            severity=None if expired else Severity.WARNING,
            evidence={"source": f"served on {served.address}", "address": served.address,
                      "subject": served.cert.get("subject"), "issuer": served.cert.get("issuer"), "notAfter": date,
                      "verifyError": served.cert.get("verifyError")},
            fix=Fix("Renew the certificate and install it where the listener reads it (the ingress TLS Secret "
                    "behind an NLB, the LB listener's certificate behind an L7 LB).",
                    ("kubectl get certificate -A", f"openssl s_client -connect {served.address} "
                     f"-servername {served.host or 'HOST'} </dev/null | openssl x509 -noout -dates")),
        )

    def _configured(self, facts: Facts, conf: lbcerts.Configured, date: str, expired: bool) -> Finding:
        cert = conf.cert or {}
        return self.finding(
            f"{conf.label} {conf.where} "
            f"{'expired' if expired else 'expires'} on {date}",
            subject=conf.subject,
            severity=None if expired else Severity.WARNING,
            evidence={**conf.evidence, "subject": cert.get("subject"), "sans": list(cert.get("sans") or []),
                      "issuer": cert.get("issuer"), "notAfter": date},
            fix=lbcerts.renewal_fix(facts, conf),
        )
