"""The in-pod probe's answers (live.containers[..].localhost) for the ports the Service sends to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from okedoctor.check import CheckSkipped
from okedoctor.facts import Facts, Obj, per_target
from okedoctor.kube import (
    containers,
    pod_ready,
    redact,
    resolve_target_port,
    service_ports,
    tail,
    tls_port_reason,
)


@dataclass(frozen=True)
class ProbeAnswer:
    pod: Obj
    container: str
    port: int
    result: dict  # {status, body} or {error: refused|timeout|reset}
    others: dict  # what the other probed ports of this container answered
    tls_reason: str | None = None  # why the port speaks TLS (kube.tls_port_reason), if it does
    service_port: int | None = None  # the Service port that sends here

    @property
    def plain_on_tls(self) -> bool:
        """A plain-HTTP probe of a TLS port, reset by design (a snapshot taken before the probe
        spoke TLS): it says nothing about the app."""
        return bool(self.tls_reason) and self.result.get("error") == "reset" and not self.result.get("tls")

    @property
    def body_prefix(self) -> str:
        return redact(str(self.result.get("body") or ""))[:120]


def serving_container(pod: Obj, port: int) -> str | None:
    """The container that declares `port`, else the only container."""
    cs = containers(pod)
    for c in cs:
        if any(p.get("containerPort") == port for p in c.get("ports") or []):
            return c.get("name")
    return cs[0].get("name") if len(cs) == 1 else None


def ready_pod_answers(facts: Facts) -> Iterator[ProbeAnswer]:
    """The probe's answer on each target port of each Ready pod (the pods clients are sent to)."""
    answers, skipped = _ready_pod_answers(facts)
    if skipped:
        raise CheckSkipped(skipped)
    yield from answers


@per_target  # a dozen pod checks read these answers for each Service
def _ready_pod_answers(facts: Facts) -> tuple[tuple[ProbeAnswer, ...], str | None]:
    """(the answers, or why the checks that read them are skipped)."""
    if "containers" not in facts.live:
        return (), "the in-pod probe was not run (live access, or --no-exec)"
    if not facts.service:
        return (), None
    answers: list[ProbeAnswer] = []
    toolless = []
    for pod in facts.pods:
        if not pod_ready(pod):
            continue
        answers.extend(answers_for(facts, pod))
        ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
        if any((facts.container_live(ns, name, c.get("name", "")) or {}).get("tools") == [] for c in containers(pod)):
            toolless.append(name)
    if not answers and toolless:
        return (), (
            f"the image of {toolless[0]} has no curl, wget, python3 or bash, so the in-pod probe could not run; "
            f"probe it from an ephemeral container: kubectl debug -it {toolless[0]} --image=curlimages/curl "
            "-- curl -sS -i http://localhost:PORT/")
    return tuple(answers), None


def answers_for(facts: Facts, pod: Obj) -> Iterator[ProbeAnswer]:
    ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
    for sp in service_ports(facts.service):
        port = resolve_target_port(sp, pod)
        cname = serving_container(pod, port) if port else None
        if not cname:
            continue
        live = facts.container_live(ns, name, cname) or {}
        seen = {str(k): v for k, v in (live.get("localhost") or {}).items()}
        if str(port) in seen:
            others = {k: v for k, v in seen.items() if k != str(port)}
            yield ProbeAnswer(pod, cname, port, seen[str(port)], others, tls_port_reason(sp, pod, port),
                              sp.get("port"))


def current_log_tail(facts: Facts, pod: Obj, container: str, n: int = 5) -> list[str]:
    live = facts.container_live(pod["metadata"].get("namespace", ""), pod["metadata"]["name"], container) or {}
    return tail(live.get("logs"), n)


def works_from_the_internet(facts: Facts, answer: ProbeAnswer) -> str | None:
    """The public address of the answer's Service port that a client on the internet got an HTTP
    answer below 500 from, if any: the port works end to end, whatever a plain in-pod probe saw."""
    from okedoctor.chain.coverage import probed_addresses

    for address, seen in probed_addresses(facts):
        if address.rsplit(":", 1)[-1] == str(answer.service_port) and \
                isinstance(seen.get("status"), int) and seen["status"] < 500:
            return address
    return None
