"""The addresses of the target Service that were probed from the internet, and what was seen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.loadbalancer._lb import spec
from okedoctor.facts import Facts


def public_addresses(facts: Facts) -> list[str]:
    """`ip:port` for each public IP of the LB (else each ingress IP) and each listener/Service port."""
    ref = facts.load_balancer
    svc = facts.service
    ports = {int(p["port"]) for p in spec(svc).get("ports") or [] if p.get("port")}
    if ref:
        ips = ref.public_ips
        ports |= {int(lis["port"]) for lis in ref.listeners.values() if lis.get("port")}
    else:
        ingress = ((svc or {}).get("status") or {}).get("loadBalancer", {}).get("ingress") or []
        ips = [i["ip"] for i in ingress if i.get("ip")]
    return [f"{ip}:{port}" for ip in ips for port in sorted(ports)]


def probed_addresses(facts: Facts) -> Iterator[tuple[str, dict[str, Any]]]:
    for address in public_addresses(facts):
        seen = facts.internet(address)
        if seen is not None:
            yield address, seen
