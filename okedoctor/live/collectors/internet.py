"""The outside view: each public address of the LB (or the Service's ingress), probed from here."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from okedoctor.facts import LIVE_INTERNET
from okedoctor.live.collectors.state import RunState
from okedoctor.live.collectors.wires import InternetProbe
from okedoctor.live.engine import INTERNET_API
from okedoctor.live.internet import parse_redirect
from okedoctor.live.shapes import internet_addresses


class InternetCollector:
    def __init__(self, state: RunState, probe: InternetProbe):
        self.s, self.probe, self.engine = state, probe, state.engine
        self.redirect = parse_redirect(state.opts.internet_redirect)

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
        futs = {}
        for addr, tls in addresses:
            if self.redirect is not None and addr not in self.redirect:
                continue  # safety: with a redirect map, nothing outside it is contacted
            futs[addr] = self.engine.submit(LIVE_INTERNET, self._probe, addr, tls)
        if addresses and not futs:
            return  # none may be contacted: not observed (no `live.internet`), as a file without them says
        results: dict[str, Any] = {}
        for addr, fut in futs.items():
            res = self.engine.result(fut)
            if res is not None:
                results[addr] = res
        self.s.internet = results

    def _probe(self, addr: str, tls: bool):
        self.engine.hit(INTERNET_API, self.s.lb_depth)
        return self.probe(addr, min(3.0, max(0.2, self.engine.remaining() - 0.2)), self.redirect, tls)
