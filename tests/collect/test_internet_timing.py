"""The internet probe runs alongside the LB lookup and waits a short, documented time (issue #15).

A public address that hangs used to start its 3 s wait only after the LB had been found, so a
diagnosis took four seconds instead of one. The probe now starts from the Service's own
`status.loadBalancer.ingress` as soon as the Service is read.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time

from okedoctor.live.collector import collect
from okedoctor.live.internet import INTERNET_WAIT, probe_address
from okedoctor.live.shapes import preload_httpx
from okedoctor.model import Target
from okedoctor.options import LiveOptions
from okedoctor.snapshot import load_snapshot
from tests.collect.memory_wires import MemoryOci, Reads, memory_wires
from tests.collect.test_plan_in_memory import kubeconfig
from tests.conftest import SCENARIOS_DIR


def test_the_probe_starts_before_the_load_balancer_lookup_ends(tmp_path):
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    probed = threading.Event()
    order: list[str] = []
    wires = memory_wires(snap, Reads())

    def internet(address, timeout, redirect, tls):
        order.append("probe")
        probed.set()
        return (snap.live.get("internet") or {}).get(address)

    class SlowLbList(MemoryOci):
        def list_all(self, service, path, path_params=None, query=None):
            if path.rstrip("/").endswith("networkLoadBalancers"):
                # The lookup cannot end until the probe has started, unless the wait runs out.
                probed.wait(5)
                order.append("lb-list")
            return super().list_all(service, path, path_params, query)

    wires = dataclasses.replace(wires, internet=internet,
                                oci=lambda setup, region, opts, on_request: SlowLbList(snap, Reads(), on_request))
    opts = LiveOptions(kubeconfig=kubeconfig(snap, tmp_path / "kubeconfig"), namespace="default", timeout=30)
    started = time.monotonic()
    result = collect(Target("default", snap.target["service"]), opts, wires=wires)
    assert order[:2] == ["probe", "lb-list"]
    assert time.monotonic() - started < 4  # the LB list did not sit out its 5 s wait
    assert result.snapshot.live["internet"] == snap.live["internet"]


def test_an_address_that_drops_the_handshake_is_a_timeout_after_the_connect_wait():
    from okedoctor.live.internet import CONNECT_WAIT

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))  # the accept queue is full: SYNs are dropped
    preload_httpx()  # as a run does before its probes: the wait measured is the connect's, not the import's
    try:
        started = time.monotonic()
        got = probe_address("203.0.113.10:80", INTERNET_WAIT, {"203.0.113.10:80": ("127.0.0.1", port)}, tls=False)
        waited = time.monotonic() - started
    finally:
        filler.close()
        server.close()
    assert got["error"] == "timeout"
    assert CONNECT_WAIT - 0.1 <= waited < CONNECT_WAIT + 0.4 < INTERNET_WAIT


def test_an_address_that_connects_and_hangs_is_a_timeout_after_the_answer_wait():
    """Connected, the answer gets the longer wait: a slow honest answer is not cut at the connect wait."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts (the kernel completes the handshake) and never answers
    port = server.getsockname()[1]
    try:
        started = time.monotonic()
        got = probe_address("203.0.113.10:80", INTERNET_WAIT, {"203.0.113.10:80": ("127.0.0.1", port)}, tls=False)
        waited = time.monotonic() - started
    finally:
        server.close()
    assert got["error"] == "timeout"
    assert INTERNET_WAIT - 0.1 <= waited < INTERNET_WAIT + 1.0


def test_an_answer_slower_than_the_connect_wait_is_an_answer():
    """Connected at once, answered after 0.7 s (longer than CONNECT_WAIT): 200, not a timeout."""
    import threading

    from okedoctor.live.internet import CONNECT_WAIT

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def slow() -> None:
        conn, _ = server.accept()
        conn.recv(4096)
        time.sleep(CONNECT_WAIT + 0.2)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        conn.close()

    threading.Thread(target=slow, daemon=True).start()
    try:
        got = probe_address("203.0.113.10:80", INTERNET_WAIT, {"203.0.113.10:80": ("127.0.0.1", port)}, tls=False)
    finally:
        server.close()
    assert (got["status"], got["body"]) == (200, "ok") and got["elapsedMs"] >= CONNECT_WAIT * 1000
