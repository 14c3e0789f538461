"""Options shared by the commands that talk to live APIs (diagnose, snapshot, report)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from okedoctor.errors import UsageError
from okedoctor.model import Target
from okedoctor.urls import looks_like_url, parse_url

AUTH_TYPES = ("api_key", "security_token", "instance_principal", "resource_principal", "oke_workload_identity")
_SERVICE_TYPES = ("svc", "service", "services")
_ROUTE_TYPES = {"ingress": "ingress", "ingresses": "ingress", "ing": "ingress",
                "httproute": "httproute", "httproutes": "httproute"}


@dataclass(frozen=True)
class LiveOptions:
    """How to reach the cluster and the OCI account; mirrors kubectl and the oci CLI flags."""

    context: str | None = None
    kubeconfig: str | None = None
    namespace: str | None = None
    expect_context: str | None = None
    profile: str | None = None
    config_file: str | None = None
    auth: str | None = None
    region: str | None = None
    lb_ocid: str | None = None
    compartment_ids: tuple[str, ...] = ()  # more compartments to look for a hand-made LB/NLB in
    no_exec: bool = False
    timeout: float = 30.0
    # Endpoint overrides, for the simulator or a private endpoint; see docs/configuration.md.
    oci_endpoint: str | None = None
    internet_redirect: str | None = None
    # Fleet runs probe one pod per Service; these "<ns>/<name>" get every pod probed (their
    # previous run left an in-pod finding open, which one healthy pod cannot verify gone).
    probe_all_pods_of: frozenset[str] = frozenset()


# Service and Namespace names are DNS-1123 labels. Checked before any request: a name such as
# "." or ".." would otherwise be normalised by the URL into another object's path.
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def check_name(name: str, what: str) -> str:
    """NAME when it is a valid DNS-1123 label (what Kubernetes allows for a Service or Namespace)."""
    if not _DNS1123_LABEL.fullmatch(name):
        shown = repr(name[:70]) + ("..." if len(name) > 70 else "")
        raise UsageError(f"{what} {shown} is not a valid name: lower-case letters, digits and '-', "
                         "starting and ending with a letter or digit, at most 63 characters")
    return name


_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def check_subdomain(name: str, what: str) -> str:
    """NAME when it is a DNS-1123 subdomain (an Ingress's or HTTPRoute's name may hold dots)."""
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(name):
        shown = repr(name[:70]) + ("..." if len(name) > 70 else "")
        raise UsageError(f"{what} {shown} is not a valid name: lower-case letters, digits, '-' and '.', "
                         "each dot-separated part starting and ending with a letter or digit, at most 253 characters")
    return name


def parse_target(text: str | None, namespace: str | None, default_namespace: str = "default") -> Target | None:
    """The one place a CLI target is read; None when no target was given.

    `svc/NAME` (also `service/NAME`, `services/NAME`), `ingress/NAME`, `httproute/NAME`, or a URL
    (`https://host/path`, or a bare `host[/path]`).
    """
    if not text:
        return None
    if looks_like_url(text):
        return Target("", "", url=parse_url(text).text)
    kind, sep, name = text.partition("/")
    if not sep:
        name = text if _DNS1123_LABEL.fullmatch(text) else "NAME"
        raise UsageError(f"target {text[:80]!r} names no type: write svc/{name}")
    route = _ROUTE_TYPES.get(kind.lower())
    if kind.lower() not in _SERVICE_TYPES and not route:
        raise UsageError(f"target {text[:80]!r}: okedoctor diagnoses Services, Ingresses, HTTPRoutes and URLs; "
                         "write svc/NAME, ingress/NAME, httproute/NAME or https://HOST/PATH")
    if not name or "/" in name:
        raise UsageError(f"target {text[:80]!r}: expected {kind[:20]}/NAME")
    ns = check_name(namespace, "namespace") if namespace else default_namespace
    if route:
        return Target(ns, "", route=f"{route}/{check_subdomain(name, kind.lower() + ' name')}")
    return Target(ns, check_name(name, "Service name"))


def service_hint(name: str, services: list[tuple[str, str]], namespace: str) -> str:
    """"; did you mean svc/X? exposed Services in NS: a (LoadBalancer), b (NodePort)" for a Service
    name that is not there: `services` are (name, spec.type) of the namespace."""
    near = difflib.get_close_matches(name, [n for n, _ in services], n=1, cutoff=0.6)
    exposed = sorted(f"{n} ({t})" for n, t in services if t in ("LoadBalancer", "NodePort"))
    parts = [f"did you mean svc/{near[0]}?"] if near else []
    if exposed:
        shown = ", ".join(exposed[:10]) + (f", ... ({len(exposed)} in all)" if len(exposed) > 10 else "")
        parts.append(f"exposed Services in {namespace}: {shown}")
    elif services:
        parts.append(f"namespace {namespace} has no LoadBalancer or NodePort Service ({len(services)} of other types)")
    else:
        parts.append(f"namespace {namespace} has no Service")
    return "; " + " ".join(parts)
