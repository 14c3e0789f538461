"""The outside view: each public address of the LB (or the Service's ingress), probed from here."""

from __future__ import annotations

import functools
from concurrent.futures import Future
from typing import Any

from okedoctor.facts import LIVE_INTERNET
from okedoctor.live.collectors.state import RunState
from okedoctor.live.collectors.wires import InternetProbe
from okedoctor.live.engine import INTERNET_API
from okedoctor.live.internet import INTERNET_WAIT, parse_redirect
from okedoctor.live.shapes import internet_addresses


@functools.lru_cache(maxsize=4)
def _parsed(text: str | None) -> dict[str, tuple[str, int]] | None:
    # Once per run, not per Service: a fleet's simulator map names every public address.
    return parse_redirect(text)


class InternetCollector:
    def __init__(self, state: RunState, probe: InternetProbe):
        self.s, self.probe, self.engine = state, probe, state.engine
        self.redirect = _parsed(state.opts.internet_redirect)
        self.futs: dict[str, Future] = {}

    def start_early(self, svc: dict) -> bool:
        """Probe the Service's own ingress addresses as soon as the Service is read.

        The LB lookup takes several dependent round trips; a public address that hangs would
        otherwise start its wait only after them (issue #15). What the LB adds later (another
        listener port) is probed when the lookup ends. True when a probe started."""
        for addr, tls in internet_addresses(svc, None) or []:
            self._submit(addr, tls)
        return bool(self.futs)

    def run(self, svc: dict, lb_fut: Future) -> None:
        """After the LB lookup (its listeners and addresses), or the Service's ingress without one."""
        try:
            lb = self.engine.result(lb_fut)
        except Exception:  # the OCI phase reports its own failure; probe what the Service says
            lb = None
        addresses = internet_addresses(svc, lb)
        if addresses is None:
            self.s.note(LIVE_INTERNET, "disabled", "the load balancer is private: it is not probed from the internet")
            self.s.internet = {}
            return
        for addr, tls in addresses:
            self._submit(addr, tls)
        # Only what the LB says is public is recorded, as before an early start.
        futs = {addr: self.futs[addr] for addr, _ in addresses if addr in self.futs}
        if addresses and not futs:
            return  # none may be contacted: not observed (no `live.internet`), as a file without them says
        results: dict[str, Any] = {}
        for addr, fut in futs.items():
            res = self.engine.result(fut)
            if res is not None:
                results[addr] = res
        self.s.internet = results

    def _submit(self, addr: str, tls: bool) -> None:
        if addr in self.futs:
            return
        if self.redirect is not None and addr not in self.redirect:
            return  # safety: with a redirect map, nothing outside it is contacted
        self.futs[addr] = self.engine.submit(LIVE_INTERNET, self._probe, addr, tls)

    def _probe(self, addr: str, tls: bool):
        self.engine.hit(INTERNET_API, self.s.lb_depth)
        return self.probe(addr, min(INTERNET_WAIT, max(0.2, self.engine.remaining() - 0.2)), self.redirect, tls)
