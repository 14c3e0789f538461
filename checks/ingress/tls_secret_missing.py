"""OKD-ING-004: the TLS Secret the Ingress names for the URL's host is missing or holds no pair."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import route as routes
from okedoctor.check import Check, subject_of
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop

TLS_KEYS = ("tls.crt", "tls.key")


class TlsSecretMissing(Check):
    """The Secret an Ingress's `tls` names for the URL's host does not exist or holds no certificate pair.

    What it checks
        For the Ingress whose rule serves the URL: the `spec.tls` entry listing the host, and
        its `secretName` in the Ingress's namespace, which must exist, be of type
        `kubernetes.io/tls` and have both `tls.crt` and `tls.key` (their values are never read
        into the report).
    Why it breaks
        Without the Secret the controller serves its own default certificate (ingress-nginx:
        "Kubernetes Ingress Controller Fake Certificate"): browsers refuse it, clients fail
        with "certificate verify failed" while plain HTTP works. Often the cert-manager
        Certificate that should create it failed, or the Secret lives in another namespace.
    How to fix
        Create the Secret in the Ingress's namespace (`kubectl create secret tls NAME
        --cert=... --key=... -n NS`) or fix the cert-manager Certificate (`kubectl describe
        certificate -n NS`).
    """

    code = "OKD-ING-004"
    name = "tls-secret-missing"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.match is None or walk.match.kind != "Ingress":
            return
        ingress = walk.match.route
        ns = walk.match.namespace
        for entry in (ingress.get("spec") or {}).get("tls") or []:
            if walk.url.host not in (entry.get("hosts") or []) or not entry.get("secretName"):
                continue
            name = entry["secretName"]
            secret = facts.secret(ns, name)
            why = _problem(secret)
            if why is None:
                continue
            yield self.finding(
                f"the TLS Secret {ns}/{name} for {walk.url.host} {why}: the controller serves its default certificate",
                subject=subject_of(ingress),
                evidence={"secret": f"{ns}/{name}", "exists": secret is not None,
                          "type": (secret or {}).get("type"), "keys": sorted((secret or {}).get("data") or {})},
                fix=Fix(f"Create the TLS Secret {name} in namespace {ns}, or fix the cert-manager Certificate "
                        "that should write it.",
                        (f"kubectl create secret tls {name} -n {ns} --cert=CERT.pem --key=KEY.pem",
                         f"kubectl describe certificate -n {ns}")),
            )


def _problem(secret: dict | None) -> str | None:
    if secret is None:
        return "does not exist"
    keys = set(secret.get("data") or {})
    missing = [k for k in TLS_KEYS if k not in keys]
    if missing:
        return f"has no {' and no '.join(missing)}"
    if secret.get("type") not in (None, "kubernetes.io/tls"):
        return f"is of type {secret.get('type')}, not kubernetes.io/tls"
    return None
