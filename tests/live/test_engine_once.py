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


def test_shared_and_once_on_one_key_read_once_and_wait_all_sees_late_tasks():
    """A fleet run mixes both helpers (the search's backend index is `shared`, the lists it is
    built from `once`); one key is read once whichever asks first, and wait_all waits for tasks
    that tasks submit while it waits (it waits batch by batch, not on one snapshot)."""
    engine = Engine(10)
    calls = []
    barrier = threading.Barrier(24)
    got = []

    def read():
        calls.append(1)
        time.sleep(0.05)
        return "list"

    late = []

    def follow_up():  # submitted by a task while wait_all already waits on it
        time.sleep(0.1)
        engine.submit("kubernetes", lambda: (time.sleep(0.1), late.append(1)))

    def caller(n):
        barrier.wait()
        if n % 2:
            got.append(engine.shared(("lb-list", "lb", "c"), read))
        else:
            got.append(engine.result(engine.once(("lb-list", "lb", "c"), "oci", read)))

    try:
        threads = [threading.Thread(target=caller, args=(n,)) for n in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        engine.submit("kubernetes", follow_up)
        assert engine.wait_all() == []
        assert got == ["list"] * 24 and len(calls) == 1
        assert late == [1]
    finally:
        engine.close()
