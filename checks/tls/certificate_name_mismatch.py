"""OKD-TLS-002: the certificate served for the URL does not name its host."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import lbcerts, tls
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class CertificateNameMismatch(Check):
    """The certificate served for the URL's host does not name it (no SAN matches).

    What it checks
        The subject alternative names (and, without any, the subject's CN) of the certificate
        the URL's address served with the host as SNI, and of the certificate the L7 load
        balancer's listener on the URL's port is configured with (LB body, no probe needed),
        matched as a client does: exact, or a leftmost `*` standing for one label
        (`*.example.com` covers `shop.example.com`, not `example.com` nor `a.shop.example.com`).
    Why it breaks
        Clients refuse the connection ("hostname mismatch", "certificate is not valid for").
        Typical: the Ingress's TLS Secret holds another host's certificate, the controller
        serves its default certificate because no `tls` entry names the host, or an L7 LB
        listener carries a certificate bundle made for another name.
    How to fix
        Issue a certificate whose SANs include the host (cert-manager: add it to the
        Certificate's dnsNames / the Ingress's tls hosts), and install it where the listener
        reads it.
    """

    code = "OKD-TLS-002"
    name = "certificate-name-mismatch"
    hop = Hop.INTERNET
    # The probe's certificate, or an L7 listener's from the LB body: either is enough (tls.require_source).
    needs = ()
    # Often the effect of the ingress layer (a missing TLS Secret makes the controller serve its default one).
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        configured = lbcerts.configured(facts)
        tls.require_source(facts, bool(configured))
        judged: set[int] = set()
        for conf in configured:
            cert = conf.cert or {}
            if not conf.host or not (cert.get("sans") or cert.get("subject")) or tls.covers(cert, conf.host):
                continue
            judged.add(conf.port)
            yield self._mismatch(f"{conf.label} {conf.where} does not name {conf.host}", conf.subject,
                                 conf.host, cert, conf.evidence,
                                 lbcerts.renewal_fix(facts, conf))
        for served in tls.served(facts):
            cert = served.cert or {}
            if (not served.host or served.port in judged or not (cert.get("sans") or cert.get("subject"))
                    or tls.covers(cert, served.host)):
                continue
            yield self._mismatch(
                f"the certificate {served.address} serves for {served.host} does not name it",
                f"listener/{served.address}", served.host, cert,
                {"source": f"served on {served.address}", "address": served.address},
                Fix(f"Serve a certificate whose SANs include {served.host}: add the host to the Ingress's "
                    "tls hosts (cert-manager then re-issues it), or replace the listener's certificate.",
                    (f"openssl s_client -connect {served.address} -servername {served.host} </dev/null "
                     "| openssl x509 -noout -ext subjectAltName",)))

    def _mismatch(self, title: str, subject: str, host: str, cert: dict, where: dict, fix: Fix) -> Finding:
        sans = list(cert.get("sans") or [])
        return self.finding(
            f"{title} (SANs: {', '.join(sans) or 'none'})", subject=subject,
            evidence={**where, "host": host, "subject": cert.get("subject"), "sans": sans,
                      "issuer": cert.get("issuer"), "verifyError": cert.get("verifyError")},
            fix=fix)
