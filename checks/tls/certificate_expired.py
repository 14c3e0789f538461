"""OKD-TLS-001: the certificate the public address serves has expired or expires within 14 days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from okedoctor.chain import tls
from okedoctor.check import Check
from okedoctor.facts import LIVE_INTERNET, Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class CertificateExpired(Check):
    """The certificate a public listener serves has expired (error) or expires within 14 days (warning).

    What it checks
        `notAfter` of the certificate the internet probe was served at each public address
        (for a URL: its name's address on the URL's port), against the time the facts were
        observed (`metadata.capturedAt`).
    Why it breaks
        An expired certificate fails every verifying client ("certificate has expired"); the
        renewal (cert-manager, a Let's Encrypt job, the OCI Certificates service) failed or the
        listener still holds the old one: an LB listener's certificate is a copy, renewed only
        when it is replaced.
    How to fix
        Renew the certificate and put it where the listener reads it: the ingress controller's
        TLS Secret (NLB pass-through, `kubectl describe certificate`), or the LB listener's
        certificate bundle (`oci lb certificate create` + update the listener).
    """

    code = "OKD-TLS-001"
    name = "certificate-expired"
    hop = Hop.INTERNET
    needs = (LIVE_INTERNET,)

    def run(self, facts: Facts) -> Iterator[Finding]:
        now = tls.reference_time(facts)
        for served in tls.served(facts):
            not_after = tls.parse_time((served.cert or {}).get("notAfter"))
            if not_after is None or not_after - now > dt.timedelta(days=tls.EXPIRY_WARNING_DAYS):
                continue
            expired = not_after <= now
            date = not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
            yield self.finding(
                f"the certificate {served.address} serves {'expired' if expired else 'expires'} on {date}",
                subject=f"listener/{served.address}",
                severity=None if expired else Severity.WARNING,
                evidence={"address": served.address, "subject": served.cert.get("subject"),
                          "issuer": served.cert.get("issuer"), "notAfter": date,
                          "verifyError": served.cert.get("verifyError")},
                fix=Fix("Renew the certificate and install it where the listener reads it (the ingress TLS Secret "
                        "behind an NLB, the LB listener's certificate behind an L7 LB).",
                        ("kubectl get certificate -A", f"openssl s_client -connect {served.address} "
                         f"-servername {served.host or 'HOST'} </dev/null | openssl x509 -noout -dates")),
            )
