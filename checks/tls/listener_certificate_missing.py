"""OKD-TLS-005: an L7 listener's SSL configuration names a certificate bundle the load balancer does not hold."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import lbcerts
from okedoctor.check import Check
from okedoctor.facts import OCI, Facts
from okedoctor.model import Finding, Fix, Hop


class ListenerCertificateMissing(Check):
    """An L7 listener's SSL configuration names a certificate the load balancer does not hold, or one it cannot read.

    What it checks
        For each listener of the L7 load balancer with an `sslConfiguration.certificateName`,
        that the LB body's `certificates` map holds a bundle of that name whose
        `publicCertificate` is a readable PEM certificate.
    Why it breaks
        The listener cannot complete a TLS handshake without its certificate: clients get a
        reset or a handshake failure, and the load balancer's updates fail ("Listener ...
        refers to unknown certificate"). It happens when a bundle is deleted or replaced by
        hand (Terraform, the console) while a listener still names it, or when a bundle was
        uploaded with something other than a PEM certificate.
    How to fix
        Upload the bundle under the name the listener uses, or point the listener at a bundle
        that exists; with the cloud controller manager, give `oci-load-balancer-tls-secret` a
        kubernetes.io/tls Secret holding the pair, and it uploads it.
    """

    code = "OKD-TLS-005"
    name = "listener-certificate-missing"
    hop = Hop.INTERNET
    needs = (OCI,)

    def run(self, facts: Facts) -> Iterator[Finding]:
        for conf in lbcerts.configured(facts):
            if conf.problem not in ("absent",) and not (conf.problem or "").startswith("unreadable"):
                continue
            held = sorted((facts.load_balancer.body.get("certificates") or {}) if facts.load_balancer else [])
            what = "does not hold" if conf.problem == "absent" else f"cannot read ({conf.problem})"
            yield self.finding(
                f"listener {conf.listener} (port {conf.port}) names certificate {conf.name}, which the load balancer "
                f"{what}",
                subject=conf.subject,
                evidence={"source": conf.source, "listener": conf.listener, "port": conf.port,
                          "certificate": conf.name, "problem": conf.problem, "certificatesHeld": held},
                fix=Fix(f"Upload certificate bundle {conf.name} (or point listener {conf.listener} at one of "
                        f"{', '.join(held) or 'the bundles'} the load balancer holds).",
                        (f"oci lb certificate create --load-balancer-id {conf.lb_id} --certificate-name {conf.name} "
                         "--public-certificate-file tls.crt --private-key-file tls.key --ca-certificate-file ca.crt",
                         f"oci lb certificate list --load-balancer-id {conf.lb_id}")),
            )
