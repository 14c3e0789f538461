"""Whether the pods behind a Service port speak TLS, and what the L7 load balancer's backend set
speaks to them (`backendSets[].sslConfiguration`). The cloud controller manager gives the backend
sets of the `oci-load-balancer-ssl-ports` an SSL configuration when the Service carries
`service.beta.kubernetes.io/oci-load-balancer-tls-backendset-secret` (the bundle named after that
Secret, `verifyPeerCertificate: false`, `verifyDepth: 0`; cipher suite and protocols from
`oci.oraclecloud.com/oci-load-balancer-backendset-ssl-config`), and none otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okedoctor.facts import Facts, LoadBalancerRef

Obj = dict[str, Any]

BACKENDSET_SECRET = "service.beta.kubernetes.io/oci-load-balancer-tls-backendset-secret"
BACKENDSET_SSL_CONFIG = "oci.oraclecloud.com/oci-load-balancer-backendset-ssl-config"
SSL_PORTS = "service.beta.kubernetes.io/oci-load-balancer-ssl-ports"
# Container port names and numbers that say TLS or plain HTTP: the charts' own names (ingress-nginx
# http/https, Traefik web/websecure, Envoy Gateway's https-443 style) and the usual numbers.
TLS_NAMES = ("https", "websecure", "tls", "ssl")
PLAIN_NAMES = ("http", "web", "h2c")
TLS_NUMBERS = (443, 8443, 9443, 10443)
PLAIN_NUMBERS = (80, 8080, 8000, 3000, 5000, 10080)
L7_PROTOCOLS = ("HTTP", "HTTP2", "GRPC")


@dataclass(frozen=True)
class BackendSpeech:
    """What the pods behind a Service port speak: True TLS, False plain, None unknown; and why."""

    tls: bool | None
    how: str
    container_port: Obj | None = None


def _by_name(name: str) -> bool | None:
    low = name.lower()
    if low in TLS_NAMES or low.startswith(("https-", "tls-")) or low.endswith("-https"):
        return True
    if low in PLAIN_NAMES or low.startswith("http-") or low.endswith("-http"):
        return False
    return None


def _container_port(pods: list[Obj], target: Any) -> Obj | None:
    for pod in pods:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if (isinstance(target, str) and p.get("name") == target) or \
                        (isinstance(target, int) and p.get("containerPort") == target):
                    return p
    return None


def backend_speaks(facts: Facts, svc: Obj, port: Obj) -> BackendSpeech:
    """TLS or plain on the Service port's target: its `appProtocol`, else the container port's name,
    else the number; the Service port's own name is the clients' side and says nothing of the pods."""
    app = str(port.get("appProtocol") or "").lower()
    if app in ("https", "kubernetes.io/wss"):
        return BackendSpeech(True, f"the Service port's appProtocol is {port['appProtocol']}")
    if app in ("http", "kubernetes.io/h2c", "kubernetes.io/ws"):
        return BackendSpeech(False, f"the Service port's appProtocol is {port['appProtocol']}")
    target = port.get("targetPort", port.get("port"))
    cport = _container_port(facts.pods_selected_by(svc), target)
    if cport and cport.get("name") and (by := _by_name(str(cport["name"]))) is not None:
        return BackendSpeech(by, f"targetPort {target} is container port {cport.get('containerPort')} "
                                 f"named {cport['name']!r}", cport)
    number = (cport or {}).get("containerPort") or (target if isinstance(target, int) else None)
    if number in TLS_NUMBERS:
        return BackendSpeech(True, f"targetPort {target} is container port {number}", cport)
    if number in PLAIN_NUMBERS:
        return BackendSpeech(False, f"targetPort {target} is container port {number}", cport)
    return BackendSpeech(None, f"nothing tells what targetPort {target} speaks", cport)


def plain_port(facts: Facts, svc: Obj) -> Obj | None:
    """A container port of the Service's pods that speaks plain HTTP (by name), to point a port at."""
    for pod in facts.pods_selected_by(svc):
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") and _by_name(str(p["name"])) is False:
                    return p
    return None


def terminates(listener: Obj | None) -> bool:
    """The listener ends the client's TLS (or speaks HTTP), so it opens a connection of its own to
    the backend; a TCP listener without SSL passes the bytes through and the backend set's SSL
    setting is all the backend sees."""
    if not listener:
        return False
    return bool(listener.get("sslConfiguration")) or str(listener.get("protocol") or "").upper() in L7_PROTOCOLS


def bundle_has_ca(ref: LoadBalancerRef, ssl: Obj) -> bool:
    bundle = (ref.body.get("certificates") or {}).get(ssl.get("certificateName") or "") or {}
    return bool(bundle.get("caCertificate"))
