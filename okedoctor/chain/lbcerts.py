"""The certificates the edge is configured to serve, known without the internet probe.

Known without the internet probe: `listeners[].sslConfiguration` names the certificate either by
`certificateName` (a bundle in the LB's own `certificates` map; the cloud controller manager
names it after the Service's `oci-load-balancer-tls-secret` and uploads it only when no bundle
of that name exists, so a renewed Secret never reaches the listener) or by `certificateIds`
(certificates of the OCI Certificates service, read into `oci.certificates`). Each becomes the
`tls` shape of `okedoctor.certinfo`, so OKD-TLS-001..004 judge it like a served one, with
`source` saying where it came from. For a URL only the listener on the URL's port counts.
A Network Load Balancer (or an L7 TCP listener without SSL) passes TLS through: the ingress
controller serves the TLS Secret the matching Ingress names, judged from its `tls.crt` when the
snapshot holds it (`secret_certificates`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from okedoctor import certinfo
from okedoctor.chain import route as routes
from okedoctor.facts import Facts, per_target
from okedoctor.model import Fix

Obj = dict[str, Any]
TLS_SECRET_ANNOTATION = "service.beta.kubernetes.io/oci-load-balancer-tls-secret"
OCI_CERTIFICATES_KIND = "OCI Certificates"  # Facts.touch: a read of the OCI Certificates service


@dataclass(frozen=True)
class Configured:
    """One certificate a listener is configured to serve, or why it is not known."""

    lb_id: str
    listener: str
    port: int
    protocol: str
    name: str  # the bundle's certificateName, or the OCI Certificates OCID
    source: str  # "LB listener TCP-443 certificate shop-tls": how a finding names it
    cert: Obj | None  # the certinfo shape; None when it is not known (`problem` says why)
    problem: str | None = None  # "absent" (named but not among the LB's certificates), "unreadable: ...", "unread"
    host: str | None = None  # the URL's host, for a URL
    kind: str = "bundle"  # "bundle" (the LB's certificates map), "oci" (OCI Certificates), "secret" (tls.crt)

    @property
    def subject(self) -> str:
        if self.kind == "secret":
            return f"secret/{self.name}"
        return f"{self.lb_id}/listener/{self.listener}"

    @property
    def label(self) -> str:
        """`certificate shop-tls`, `OCI certificate ocid1.certificate...` or `TLS Secret shop/storefront-tls`."""
        return {"bundle": "certificate", "oci": "OCI certificate", "secret": "TLS Secret"}[self.kind] + f" {self.name}"

    @property
    def where(self) -> str:
        """Who serves it: `of LB listener TCP-443 (port 443)`, or the ingress controller behind a pass-through LB."""
        if self.kind == "secret":
            return f"(served by the ingress controller on port {self.port})"
        return f"of LB listener {self.listener} (port {self.port})"

    @property
    def evidence(self) -> Obj:
        """Where the certificate was read, for a finding's evidence."""
        return {"source": self.source, **({"listener": self.listener} if self.listener else {}), "port": self.port,
                "certificate": self.name}

    @property
    def by_ccm_secret(self) -> bool:
        """A bundle of the LB: the CCM names it after the Service's TLS Secret."""
        return self.kind == "bundle"


@dataclass(frozen=True)
class ListenerTls:
    """A listener and whether it terminates TLS."""

    lb_id: str
    name: str
    port: int
    protocol: str
    ssl: Obj | None

    @property
    def subject(self) -> str:
        return f"{self.lb_id}/listener/{self.name}"


@per_target
def listeners(facts: Facts) -> list[ListenerTls]:
    """The L7 LB's listeners a client of this target reaches (for a URL, those on its port)."""
    ref = facts.load_balancer
    if ref is None or ref.flavor != "lb":
        return []
    walk = routes.walk(facts)
    port = walk.url.port if walk is not None else None
    out = []
    for name, lis in sorted(ref.listeners.items()):
        if not isinstance(lis, dict) or not isinstance(lis.get("port"), int):
            continue
        if port is None or lis["port"] == port:
            out.append(ListenerTls(ref.id, str(lis.get("name") or name), lis["port"], str(lis.get("protocol") or ""),
                                   lis.get("sslConfiguration") or None))
    return out


@per_target
def configured(facts: Facts) -> list[Configured]:
    """Every certificate the target's L7 listeners are configured with."""
    ref = facts.load_balancer
    if ref is None:
        return []
    walk = routes.walk(facts)
    host = walk.url.host if walk is not None else None
    # GetLoadBalancer always answers `certificates` (maybe {}); a file without it (a ticket from an
    # okedoctor that dropped it) did not record the bundles: nothing to judge from, and no "absent".
    bundles = ref.body.get("certificates")
    out: list[Configured] = []
    for lis in listeners(facts):
        if not lis.ssl:
            continue
        if lis.ssl.get("certificateName") and isinstance(bundles, dict):
            out.append(_bundle(lis, str(lis.ssl["certificateName"]), bundles, host))
        for ocid in lis.ssl.get("certificateIds") or []:
            out.append(_oci_certificate(facts, lis, str(ocid), host))
    terminated = {c.port for c in out}
    return out + [c for c in secret_certificates(facts) if c.port not in terminated]


def secret_certificates(facts: Facts) -> list[Configured]:
    """For a URL whose LB passes TLS through (an NLB, an L7 TCP listener without SSL): the certificate
    the ingress controller serves, from the TLS Secret the matching Ingress names for the host, when
    the snapshot holds its `tls.crt` (a collected snapshot keeps it: it is public; never `tls.key`)."""
    walk = routes.walk(facts)
    if walk is None or walk.match is None or walk.match.kind != "Ingress":
        return []
    out = []
    for entry in (walk.match.route.get("spec") or {}).get("tls") or []:
        if walk.url.host not in (entry.get("hosts") or []) or not entry.get("secretName"):
            continue
        name = f"{walk.match.namespace}/{entry['secretName']}"
        secret = facts.secret(walk.match.namespace, entry["secretName"]) or {}
        pem = certinfo.public_pem((secret.get("data") or {}).get("tls.crt"))
        if pem is None:
            continue  # not held (values stripped), or not a certificate: OKD-ING-004 judges the Secret itself
        try:
            cert = certinfo.describe_bundle(pem)
        except certinfo.BadPem:
            continue
        ref = facts.load_balancer
        out.append(Configured(ref.id if ref else "", "", walk.url.port, "TCP", name, f"TLS Secret {name} (tls.crt)",
                              cert, None, walk.url.host, "secret"))
    return out


def _bundle(lis: ListenerTls, name: str, bundles: Obj, host: str | None) -> Configured:
    source = f"LB listener {lis.name} certificate {name}"
    body = bundles.get(name)
    if not isinstance(body, dict):
        return Configured(lis.lb_id, lis.name, lis.port, lis.protocol, name, source, None, "absent", host)
    try:
        cert = certinfo.describe_bundle(str(body.get("publicCertificate") or ""), str(body.get("caCertificate") or ""))
    except certinfo.BadPem as exc:
        return Configured(lis.lb_id, lis.name, lis.port, lis.protocol, name, source, None, f"unreadable: {exc}", host)
    return Configured(lis.lb_id, lis.name, lis.port, lis.protocol, name, source, cert, None, host)


def _oci_certificate(facts: Facts, lis: ListenerTls, ocid: str, host: str | None) -> Configured:
    source = f"LB listener {lis.name} OCI certificate {ocid}"
    body = facts.oci_resource(ocid)
    if body is None:
        facts.touch(OCI_CERTIFICATES_KIND)  # its silence is then unknown, with the reason the read failed
        return Configured(lis.lb_id, lis.name, lis.port, lis.protocol, ocid, source, None, "unread", host, "oci")
    cert = describe_oci_certificate(body)
    return Configured(lis.lb_id, lis.name, lis.port, lis.protocol, ocid, source, cert, None, host, "oci")


def describe_oci_certificate(body: Obj) -> Obj:
    """An OCI Certificates `Certificate` body (its current version) in the certinfo shape.

    The service keeps the chain with the certificate (issued by its CA, or imported with it),
    so there is no bundle to judge: `verifyError` is None.
    """
    version = body.get("currentVersion") or {}
    validity = version.get("validity") or {}
    subject = body.get("subject") or {}
    sans = [str(s.get("value")) for s in version.get("subjectAlternativeNames") or []
            if isinstance(s, dict) and str(s.get("type") or "DNS").upper() == "DNS" and s.get("value")]
    issuer = body.get("issuerCertificateAuthorityId") or ("imported" if body.get("configType") == "IMPORTED" else None)
    return {"subject": f"CN={subject['commonName']}" if subject.get("commonName") else None, "sans": sans,
            "issuer": issuer, "notBefore": _stamp(validity.get("timeOfValidityNotBefore")),
            "notAfter": _stamp(validity.get("timeOfValidityNotAfter")), "verifyError": None,
            "name": body.get("name"), "lifecycleState": body.get("lifecycleState")}


def _stamp(text: Any) -> str | None:
    """OCI's `2026-12-06T23:59:59.000Z` as the snapshot's RFC 3339 seconds."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    return when.astimezone(dt.UTC).strftime(certinfo.STAMP)


# The OCI Native Ingress Controller's listener certificate, by OCID (oracle/oci-native-ingress-controller,
# IngressListenerTlsCertificateAnnotation); its listener is route_<https-listener-port, 443>.
NATIVE_CERTIFICATE_ANNOTATION = "oci-native-ingress.oraclecloud.com/certificate-ocid"


def native_certificate_ingress(facts: Facts, ocid: str) -> dict | None:
    """The Ingress of the walk's native class that names this certificate OCID, if the URL went through one."""
    walk = routes.walk(facts)
    if walk is None or walk.native_class is None:
        return None
    first = [walk.match.route] if walk.match is not None and walk.match.kind == "Ingress" else []
    for ingress in first + facts.objects("Ingress"):
        if ((ingress.get("metadata") or {}).get("annotations") or {}).get(NATIVE_CERTIFICATE_ANNOTATION) == ocid:
            return ingress
    return None


def renewal_fix(facts: Facts, conf: Configured) -> Fix:
    """How to put a new certificate on the listener, the way its certificate got there."""
    if conf.kind == "secret":
        ns, name = conf.name.split("/", 1)
        return Fix(f"Renew the certificate in TLS Secret {conf.name} (cert-manager: see why its Certificate did not "
                   "renew); the ingress controller serves the Secret's tls.crt as soon as it changes.",
                   (f"kubectl describe certificate -n {ns}",
                    f"kubectl get secret {name} -n {ns} -o jsonpath='{{.data.tls\\.crt}}' | base64 -d "
                    "| openssl x509 -noout -dates -ext subjectAltName"))
    if conf.kind == "oci":
        summary = (f"Renew OCI Certificates certificate {conf.name} (a new current version; the service renews "
                   "only certificates its own CA issued, never imported ones), or import the renewed "
                   "certificate as its new version: the listener serves the current version.")
        commands = [f"oci certs-mgmt certificate get --certificate-id {conf.name} "
                    "--query 'data.\"current-version\".validity'"]
        if (ingress := native_certificate_ingress(facts, conf.name)) is not None:
            meta = ingress.get("metadata") or {}
            ns, name = meta.get("namespace") or "default", meta.get("name")
            summary += (f" The OCI Native Ingress Controller put it on listener {conf.listener} because Ingress "
                        f"{ns}/{name} names it in {NATIVE_CERTIFICATE_ANNOTATION}: a renewed certificate of a new "
                        "OCID goes there (the controller updates the listener).")
            commands.append(f"kubectl annotate ingress -n {ns} {name} "
                            f"{NATIVE_CERTIFICATE_ANNOTATION}=NEW_CERTIFICATE_OCID --overwrite")
        return Fix(summary, tuple(commands))
    svc = facts.service or {}
    meta = svc.get("metadata") or {}
    secret = (meta.get("annotations") or {}).get(TLS_SECRET_ANNOTATION)
    if secret:
        ns, name = meta.get("namespace") or "default", meta.get("name")
        new = f"{secret.split('/')[-1]}-renewed"
        return Fix(f"The cloud controller manager uploads Secret {secret} only under a certificate name the LB "
                   "does not hold yet, so a renewed Secret of the same name never reaches the listener "
                   "(oracle/oci-cloud-controller-manager#324): put the renewed pair in a Secret of a new name "
                   f"({new}) and name that one in the Service's TLS annotation.",
                   (f"kubectl create secret tls {new} -n {ns} --cert=tls.crt --key=tls.key",
                    annotate_command(name, ns, {TLS_SECRET_ANNOTATION: new})))
    return Fix(f"Upload the renewed certificate to the load balancer under a new name and point listener "
               f"{conf.listener} at it (a bundle cannot be changed in place).",
               (f"oci lb certificate create --load-balancer-id {conf.lb_id} --certificate-name {conf.name}-renewed "
                "--public-certificate-file tls.crt --private-key-file tls.key --ca-certificate-file ca.crt",))


def annotate_command(name: Any, namespace: str, annotations: dict[str, str]) -> str:
    """`kubectl patch` setting Service annotations, as a JSON patch: the path and value are separate
    strings, so the printed command keeps the TLS annotation's value (the report's redactor masks
    any `...-secret=value`)."""
    ops = ",".join(f'{{"op":"add","path":"/metadata/annotations/{key.replace("/", "~1")}","value":"{value}"}}'
                   for key, value in annotations.items())
    return f"kubectl patch service {name} -n {namespace} --type json -p '[{ops}]'"
