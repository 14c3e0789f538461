"""Shared fixtures: the shipped scenarios, and a registry without third-party plugins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = ROOT / "okedoctor" / "scenarios"

# Tests must not pick up whatever plugins happen to be installed on the machine, nor proxies.
os.environ.setdefault("OKEDOCTOR_DISABLE_PLUGIN_AUTOLOAD", "1")
for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"


def scenario_paths() -> list[Path]:
    return sorted(SCENARIOS_DIR.glob("*.yaml"))


@pytest.fixture(scope="session")
def builtin_registry():
    from okedoctor.registry import load_registry

    return load_registry(entry_points_enabled=False)
