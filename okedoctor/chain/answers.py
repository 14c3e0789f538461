"""Who wrote the HTTP 5xx a client on the internet got: the L7 load balancer itself, or the app.

An OCI load balancer with an HTTP listener answers 502 when no backend is healthy or a backend
breaks the connection, and 504 when it cannot get an answer from a backend in time, while the
application may be perfectly healthy. An NLB, or an LB's TCP listener, passes bytes through and
never writes an HTTP status itself. So the same status means different things depending on the
LB flavour, the listener's protocol, what the app answers on localhost inside its pod (the
in-pod probe) and the LB's view of its backends. The internet check only judges; this module
reads the evidence and says what decided it.
"""

from __future__ import annotations

from dataclasses import dataclass

from okedoctor.chain.health import backend_health_summary
from okedoctor.chain.live import ready_pod_answers
from okedoctor.check import CheckSkipped
from okedoctor.facts import Facts, Obj

# Who wrote the answer.
LOAD_BALANCER = "loadBalancer"
APPLICATION = "application"
UNDECIDED = "undecided"

# The statuses an OCI L7 load balancer writes itself (no healthy backend, a backend that broke
# the connection or did not answer in time).
LB_OWN_STATUSES = (502, 503, 504)
HTTP_LISTENERS = ("HTTP", "HTTP2", "GRPC")
# An in-pod answer slower than this is slow enough for a proxy's timeout to matter.
SLOW_MS = 5000


@dataclass(frozen=True)
class AnswerSource:
    """Who wrote an HTTP 5xx seen from the internet, and what decided it."""

    who: str
    decided_by: tuple[str, ...]
    in_pod: tuple[int | str, ...] = ()  # what the app answered on localhost (status or error), per Ready pod
    slow_in_pod: bool = False
    reason: str = ""  # the short why, for a title

    @property
    def describe(self) -> str:
        if self.who == LOAD_BALANCER:
            return f"the L7 load balancer itself ({self.reason})"
        if self.who == APPLICATION:
            return "the application behind the load balancer"
        return "the L7 load balancer or the application (the evidence cannot tell which)"


def _listener_protocol(facts: Facts, address: str) -> str | None:
    """The protocol of the listener on the probed address's port, when the LB was read."""
    ref = facts.load_balancer
    if not ref:
        return None
    try:
        port = int(address.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None
    for listener in ref.listeners.values():
        if listener.get("port") == port:
            return str(listener.get("protocol") or "").upper()
    return None


def _in_pod(facts: Facts) -> list[dict]:
    try:
        return [a.result for a in ready_pod_answers(facts)]
    except CheckSkipped:
        return []


def _status(result: Obj) -> int | str:
    status = result.get("status")
    return status if isinstance(status, int) else str(result.get("error") or "no answer")


def who_answered(facts: Facts, address: str, status: int) -> AnswerSource:
    """Classify the 5xx `status` a client got at `address` (ip:port)."""
    ref = facts.load_balancer
    answers = _in_pod(facts)
    seen = tuple(_status(r) for r in answers)
    app_fails = bool(answers) and all(isinstance(s, int) and s >= 500 for s in seen)
    app_answers = bool(answers) and all(isinstance(s, int) and s < 500 for s in seen)
    slow = app_answers and any(int(r.get("elapsedMs") or 0) >= SLOW_MS for r in answers)
    on_localhost = "the app answers " + ", ".join(str(s) for s in sorted(set(seen), key=str)) + " on localhost"

    if ref and ref.flavor == "nlb":
        return AnswerSource(APPLICATION, ("a network load balancer passes the pod's answer through and never "
                                          "writes an HTTP status itself",), seen)
    if status not in LB_OWN_STATUSES:
        return AnswerSource(APPLICATION, (f"HTTP {status} is not a status a load balancer writes itself",), seen)
    if app_fails:
        return AnswerSource(APPLICATION, (f"{on_localhost} too: the load balancer only passes it on",), seen)
    health = backend_health_summary(facts)
    if ref and health and all(s == "CRITICAL" for s in health.values()):
        return AnswerSource(LOAD_BALANCER, ("every backend set is CRITICAL: with no healthy backend the L7 load "
                                            "balancer answers for itself",), seen, reason="no healthy backend")
    protocol = _listener_protocol(facts, address)
    if ref and protocol and protocol not in HTTP_LISTENERS:
        return AnswerSource(APPLICATION, (f"the listener speaks {protocol}: the load balancer passes bytes through "
                                          "and never writes an HTTP status itself",), seen)
    if ref and app_answers:
        why = [on_localhost + (", but slowly: the load balancer's timeout ran out first" if slow else
                               ", so the answer was lost on the path between the load balancer and the pod")]
        if health:
            why.append("the load balancer's backend sets read " + ", ".join(
                f"{name} {state}" for name, state in sorted(health.items())))
        return AnswerSource(LOAD_BALANCER, tuple(why), seen, slow,
                            reason="the app answers slowly on localhost" if slow else "the app answers on localhost")
    if not answers:
        return AnswerSource(UNDECIDED, (f"HTTP {status} may come from the load balancer or the app, and nothing "
                                        "inside the pod was probed to tell them apart",), seen)
    return AnswerSource(UNDECIDED, (f"{on_localhost}, which does not tell the load balancer from the app",), seen)


# What an ingress controller writes itself, per (controller, status): a fragment of its own page.
# ingress-nginx: nginx's error pages (and the old default backend's text); Traefik: Go's 404 text
# and "no available server" (traefik docs, getting-started/faq); Envoy (Envoy Gateway, Istio):
# "no healthy upstream". A rule the controller never loaded answers these while the app is fine.
INGRESS_CONTROLLER = "ingressController"
CONTROLLER_PAGES: dict[tuple[str, int], tuple[str, ...]] = {
    ("ingress-nginx", 404): ("default backend - 404", "<center>nginx</center>", "404 Not Found"),
    ("ingress-nginx", 503): ("503 Service Temporarily Unavailable",),
    ("traefik", 404): ("404 page not found",),
    ("traefik", 503): ("no available server",),
    ("envoy-gateway", 503): ("no healthy upstream",),
    ("istio", 503): ("no healthy upstream",),
}
ENVOY_SERVERS = ("envoy", "istio-envoy")


def controller_wrote(controller: str, answer: Obj) -> str | None:
    """Why `answer` (status, body, headers) is the ingress controller's own page, or None when it is not."""
    status, body = answer.get("status"), str(answer.get("body") or "")
    if not isinstance(status, int):
        return None
    for fragment in CONTROLLER_PAGES.get((controller, status), ()):
        if fragment in body:
            return f"the body is {controller}'s own HTTP {status} page ({fragment!r})"
    server = str({k.lower(): v for k, v in (answer.get("headers") or {}).items()}.get("server") or "")
    if controller in ("envoy-gateway", "istio") and status == 404 and not body.strip() and server in ENVOY_SERVERS:
        return f"an empty HTTP 404 from server {server!r}: Envoy found no route for the host and path"
    return None
