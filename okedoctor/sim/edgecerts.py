"""Certificates for the simulated internet: one per public address, made to match its `tls` entry.

The file says what a client met (`subject`, `sans`, `issuer`, `notBefore`, `notAfter`,
`verifyError`); the simulator makes a certificate a real verifier judges the same way:
- `verifyError` null: signed by a CA the client trusts (the file the simulator exports as
  OKEDOCTOR_INTERNET_CA stands in for the system's trust store);
- `certificate has expired`: the same, with the file's past `notAfter`;
- `self-signed certificate`: issuer == subject, signed by its own key;
- any other error (`unable to get local issuer certificate`: an incomplete chain): signed by a CA
  nobody trusts, whose certificate the listener does not send.
Names read `CN=..., O=..., C=...` (most specific first), as okedoctor's probe writes them.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_OIDS = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
         "C": NameOID.COUNTRY_NAME, "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME}
_YEAR = dt.timedelta(days=365)


def parse_name(text: str) -> x509.Name:
    """`CN=a, O=b, C=US` -> the Name whose RFC 4514 form, most specific first, reads the same."""
    attrs = []
    for part in (p.strip() for p in str(text).split(",")):
        key, sep, value = part.partition("=")
        if sep and key.strip().upper() in _OIDS:
            attrs.append(x509.NameAttribute(_OIDS[key.strip().upper()], value.strip()))
    # RFC 4514 prints the last RDN first: build least specific first.
    return x509.Name(list(reversed(attrs)) or [x509.NameAttribute(NameOID.COMMON_NAME, "okedoctor-sim")])


def _time(text: Any, default: dt.datetime) -> dt.datetime:
    if not text:
        return default
    when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class EdgeCerts:
    """The trusted CAs (one per issuer name) and the files each listener serves."""

    workdir: Path
    trusted: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]] = field(default_factory=dict)
    count: int = 0

    @property
    def ca_file(self) -> Path:
        return self.workdir / "internet-ca.pem"

    def context(self, tls: dict[str, Any]) -> ssl.SSLContext:
        """A server context serving a certificate that matches `tls`."""
        now = dt.datetime.now(dt.UTC)
        subject = parse_name(tls.get("subject") or f"CN={(tls.get('sans') or ['okedoctor-sim'])[0]}")
        issuer_text = str(tls.get("issuer") or tls.get("subject") or "")
        not_before = _time(tls.get("notBefore"), now - dt.timedelta(days=1))
        not_after = _time(tls.get("notAfter"), now + _YEAR)
        key = ec.generate_private_key(ec.SECP256R1())
        error = str(tls.get("verifyError") or "")
        if "self-signed" in error or issuer_text == str(tls.get("subject") or ""):
            signer, issuer = key, subject
        else:
            signer, ca_cert = self._ca(issuer_text, trusted=not error or "expired" in error)
            issuer = ca_cert.subject
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(not_before).not_valid_after(not_after))
        sans = [x509.DNSName(str(n)) for n in tls.get("sans") or []]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(signer, hashes.SHA256())
        self.count += 1
        cert_file, key_file = self.workdir / f"edge-{self.count}.crt", self.workdir / f"edge-{self.count}.key"
        cert_file.write_bytes(_pem(cert))
        key_file.touch(mode=0o600)
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        return ctx

    def _ca(self, name: str, *, trusted: bool) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if trusted and name in self.trusted:
            return self.trusted[name]
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = parse_name(name or "CN=okedoctor-sim-public-ca")
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - 20 * _YEAR).not_valid_after(now + 20 * _YEAR)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        if trusted:
            self.trusted[name] = (key, cert)
            self.write_trust()
        return key, cert

    def write_trust(self) -> None:
        self.ca_file.write_bytes(b"".join(_pem(c) for _, c in self.trusted.values()))
