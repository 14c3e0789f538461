"""OKD-TLS-003: a client cannot verify the certificate chain the public address serves."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import lbcerts, tls
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class CertificateNotTrusted(Check):
    """A client cannot verify the certificate chain the public listener serves (incomplete chain, self-signed).

    What it checks
        The verifier's error the internet probe recorded (`verifyError`), other than expiry
        and a name mismatch, which OKD-TLS-001 and OKD-TLS-002 report; and, from the LB body
        without the probe, each L7 listener's certificate bundle: a self-signed leaf, or no
        certificate of the leaf's issuer in `publicCertificate` + `caCertificate` (the
        listener would serve the leaf alone).
    Why it breaks
        A listener that serves the leaf without its intermediate certificates works in a
        browser that cached them and fails in curl, Java, Go and mobile clients ("unable to get
        local issuer certificate"); a self-signed or controller default certificate fails
        everywhere.
    How to fix
        Serve the full chain: the TLS Secret's tls.crt (or the LB certificate bundle's
        publicCertificate + caCertificate) must hold the leaf followed by every intermediate.
    """

    code = "OKD-TLS-003"
    name = "certificate-not-trusted"
    hop = Hop.INTERNET
    # The probe's verifier, or an L7 listener's bundle from the LB body: either is enough (tls.require_source).
    needs = ()
    # Often the effect of the ingress layer (a missing TLS Secret makes the controller serve its default one).
    symptom = True

    def run(self, facts: Facts) -> Iterator[Finding]:
        configured = lbcerts.configured(facts)
        tls.require_source(facts, bool(configured))
        judged: set[int] = set()
        for conf in configured:
            error = (conf.cert or {}).get("verifyError")
            if not error:
                continue
            judged.add(conf.port)
            yield self.finding(
                f"clients cannot verify {conf.label} {conf.where}: {error}",
                subject=conf.subject,
                evidence={**conf.evidence, "verifyError": error, "subject": conf.cert.get("subject"),
                          "issuer": conf.cert.get("issuer")},
                fix=_chain_fix(conf),
            )
        for served in tls.served(facts):
            error = (served.cert or {}).get("verifyError")
            if not error or served.port in judged or tls.is_expiry_error(error) or tls.is_name_error(error):
                continue
            yield self.finding(
                f"clients cannot verify the certificate {served.address} serves: {error}",
                subject=f"listener/{served.address}",
                evidence={"source": f"served on {served.address}", "address": served.address, "verifyError": error,
                          "subject": served.cert.get("subject"), "issuer": served.cert.get("issuer")},
                fix=Fix("Serve the whole chain: the leaf followed by every intermediate in tls.crt (or in the LB "
                        "certificate bundle's caCertificate).",
                        (f"openssl s_client -connect {served.address} -servername {served.host or 'HOST'} "
                         "-showcerts </dev/null",)),
            )


def _chain_fix(conf: lbcerts.Configured) -> Fix:
    if conf.kind == "secret":
        ns, name = conf.name.split("/", 1)
        return Fix(f"Put the whole chain in TLS Secret {conf.name}: tls.crt must hold the leaf followed by every "
                   "intermediate, issued by a public CA (cert-manager writes it so).",
                   (f"kubectl get secret {name} -n {ns} -o jsonpath='{{.data.tls\\.crt}}' | base64 -d "
                    "| grep -c 'BEGIN CERTIFICATE'",))
    return Fix(f"Give certificate bundle {conf.name} its chain: the intermediates after the leaf in "
               "publicCertificate, or as caCertificate (the Secret's ca.crt when the cloud controller "
               "manager uploads it), and a certificate a public CA issued.",
               (f"oci lb load-balancer get --load-balancer-id {conf.lb_id} "
                f"--query 'data.certificates.\"{conf.name}\"'",))
