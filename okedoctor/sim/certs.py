"""Key material the simulator makes for itself: a CA, a loopback server certificate, an API key."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TlsFiles:
    ca_pem: bytes
    cert_file: Path
    key_file: Path
    ca_file: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_tls(workdir: Path, extra_ips: list[str]) -> TlsFiles:
    """A CA and a leaf for 127.0.0.1/localhost (and the scenario's public addresses, for :443)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    later = now + dt.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("okedoctor-sim-ca")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    ips = {"127.0.0.1", *extra_ips}
    san: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for ip in sorted(ips):
        try:
            san.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError:
            san.append(x509.DNSName(ip))
    leaf = (
        x509.CertificateBuilder().subject_name(_name("okedoctor-sim")).issuer_name(ca_name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    files = TlsFiles(ca_pem, workdir / "sim-server.crt", workdir / "sim-server.key", workdir / "sim-ca.crt")
    files.ca_file.write_bytes(ca_pem)
    files.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + ca_pem)
    _write_private(files.key_file, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


@dataclass(frozen=True)
class ApiKey:
    private_key: rsa.RSAPrivateKey
    key_file: Path
    fingerprint: str


_API_KEYS: list[rsa.RSAPrivateKey] = []


def _process_key() -> rsa.RSAPrivateKey:
    # One RSA key per process: generating one costs ~60 ms, and a test run starts many simulators.
    # It never leaves loopback; each simulator still writes its own key file and config.
    if not _API_KEYS:
        _API_KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _API_KEYS[0]


def make_api_key(workdir: Path) -> ApiKey:
    """An OCI API signing key; the fingerprint is the colon-hex MD5 of the DER public key."""
    key = _process_key()
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.md5(der, usedforsecurity=False).hexdigest()
    fingerprint = ":".join(digest[i:i + 2] for i in range(0, 32, 2))
    path = workdir / "oci_api_key.pem"
    _write_private(path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    return ApiKey(key, path, fingerprint)


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)
