"""What an X.509 certificate says, in the one shape every source of it is reported in.

The internet probe (the DER a listener served), an L7 load balancer's certificate bundle (the
PEM of `certificates[name].publicCertificate` and `caCertificate`) and a Kubernetes TLS Secret's
`tls.crt` all become `{subject, sans, issuer, notBefore, notAfter, verifyError}`, the shape of
`live.internet[ADDR:PORT].tls` (docs/snapshot-format.md), so one set of checks judges them all.
Only public certificates pass through here: a private key is never parsed, kept or printed.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

STAMP = "%Y-%m-%dT%H:%M:%SZ"
SELF_SIGNED = "self-signed certificate"
NO_ISSUER = "unable to get local issuer certificate"


def name_text(name: Any) -> str:
    """`CN=shop.example.com, O=..., C=US`: most specific first, as openssl and browsers show it."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(list(name.rdns)))


def describe(cert: Any, verify_error: str | None) -> dict[str, Any]:
    """A `cryptography` Certificate as the snapshot's `tls` mapping."""
    from cryptography import x509

    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        sans = []
    return {"subject": name_text(cert.subject), "sans": list(sans), "issuer": name_text(cert.issuer),
            "notBefore": cert.not_valid_before_utc.strftime(STAMP),
            "notAfter": cert.not_valid_after_utc.strftime(STAMP), "verifyError": verify_error}


def describe_der(der: bytes, verify_error: str | None) -> dict[str, Any]:
    from cryptography import x509

    return describe(x509.load_der_x509_certificate(der), verify_error)


class BadPem(ValueError):
    """The text holds no certificate a client could read."""


@functools.lru_cache(maxsize=256)
def describe_bundle(public_pem: str, ca_pem: str = "") -> dict[str, Any]:
    """The leaf of a certificate bundle (the leaf, then any intermediates, then the CA bundle),
    with `verifyError` as a client would see the chain: self-signed, or no certificate of the
    leaf's issuer in the bundle (the listener serves the leaf alone). Raises BadPem."""
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(public_pem.encode())
    except ValueError as exc:
        raise BadPem(str(exc).splitlines()[0] if str(exc) else "not a PEM certificate") from None
    # An unreadable CA bundle serves no chain: judged below like a missing one.
    with contextlib.suppress(ValueError):
        certs += x509.load_pem_x509_certificates(ca_pem.encode()) if ca_pem.strip() else []
    leaf = certs[0]
    subjects = {c.subject for c in certs[1:]}
    if leaf.issuer == leaf.subject:
        error: str | None = SELF_SIGNED
    elif leaf.issuer not in subjects:
        error = f"{NO_ISSUER} (the bundle holds no certificate of {name_text(leaf.issuer)})"
    else:
        error = None
    return describe(leaf, error)


def public_pem(b64: object) -> str | None:
    """The PEM text of a Secret value (base64) when it holds certificates and nothing else, else None.

    A TLS Secret's `tls.crt` is what the controller sends every client, so it may be kept; a value
    that holds anything more (a key pasted into the wrong field) is not.
    """
    import base64
    import binascii

    if not isinstance(b64, str) or not b64:
        return None
    try:
        text = base64.b64decode(b64, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    rest = text
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    while rest.strip():
        rest = rest.strip()
        if not rest.startswith(begin) or end not in rest:
            return None
        body, rest = rest[len(begin):].split(end, 1)
        if not body.strip() or any(not (c.isalnum() or c in "+/=\r\n ") for c in body):
            return None
    return text if begin in text else None
