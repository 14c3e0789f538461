"""The fleet's checks run with the cyclic collector paused, and leave it as they found it."""

from __future__ import annotations

import gc

import pytest

from okedoctor.fleet.run import diagnose_fleet, exposed_services
from okedoctor.gcpause import paused_gc
from okedoctor.registry import load_registry
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR


def test_paused_gc_restores_the_collector_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_paused_gc_keeps_a_collector_the_caller_disabled():
    gc.disable()
    try:
        with paused_gc(), paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_fleet_checks_run_without_cyclic_collections():
    snap = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")
    seen: list[bool] = []
    gc.callbacks.append(lambda phase, info: seen.append(phase))
    try:
        registry = load_registry()
        targets = exposed_services(snap, None, False)
        gc.collect()
        seen.clear()
        fleet = diagnose_fleet(snap, registry, targets)
    finally:
        gc.callbacks.pop()
    assert fleet.services and seen == []
    assert gc.isenabled()
