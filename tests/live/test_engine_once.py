"""Engine.once: however many callers race, the shared request is sent once (a fleet report's
LB lists are tens of MB each)."""

from __future__ import annotations

import threading
import time

from okedoctor.live.engine import Engine


def test_once_runs_the_shared_read_once_when_callers_race():
    engine = Engine(10)
    calls = []
    barrier = threading.Barrier(16)
    futs = []

    def read():
        calls.append(1)
        time.sleep(0.05)
        return "list"

    def caller():
        barrier.wait()
        futs.append(engine.once(("lb-list", "nlb", "c"), "oci", read))

    try:
        threads = [threading.Thread(target=caller) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert {engine.result(f) for f in futs} == {"list"}
        assert engine.wait_all() == []
        assert len(calls) == 1
        assert len({id(f) for f in futs}) == 1
    finally:
        engine.close()
