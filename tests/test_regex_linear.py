"""Every regex that reads data from the cluster runs in linear time (issue #13 item 3).

A pod's log line can be 16 KiB (the kubelet tail okedoctor asks for) or, in a snapshot file, a
megabyte; a pattern that re-scans the rest of a line from each character costs seconds per line,
and several checks read the same log. The patterns are found by walking the modules, so a new
one is covered without being listed here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time

import okedoctor_checks
import pytest

import okedoctor
from okedoctor.kube import listening_ports, log_hints, tail

# Runs of one unit are what makes a backtracking pattern quadratic: each unit is a character or a
# keyword a pattern anchors on, repeated with nothing that completes a match.
_UNITS = ["\n", " \n", "\r\n",
          "a", "A", "1", " ", ":", ".", "/", "'", '"', "-", "[", "{", "=", "@", "_", "A_", "a:", "1:", "9:",
          "a.", "::1:", "/a", "://", "listen", "serving", "open", "ECONNREFUSED", "connection refused ",
          "chown: cannot change ", "no such file or directory ", "1 node(s) had untolerated taint {",
          "RBAC rule {apiGroups: [", "env ", "missing environment variable ", "password ", "--password",
          "eyJaaaaa.", "bearer ", "authorization: ", "http://a:", "connection to server at \"a\" "]
_SIZE = 64 * 1024
# Linear patterns take a few milliseconds here; the quadratic ones found took 4 s to hours. The
# bound leaves room for a loaded CI machine, and a slow run is timed again (a stall is not a
# backtrack) before it counts.
_BOUND_S = 2.0


def _patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}

    def add(name: str, value: object) -> None:
        if isinstance(value, re.Pattern):
            found[name] = value
        elif isinstance(value, tuple | list):
            for i, item in enumerate(value):
                add(f"{name}[{i}]", item)

    for pkg in (okedoctor, okedoctor_checks):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            # The simulator reads only what the tests give it; __main__ would run the CLI.
            if ".sim" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for attr, value in vars(module).items():
                add(f"{info.name}.{attr}", value)
    return found


PATTERNS = _patterns()


def test_the_walk_finds_the_log_hint_and_scheduler_patterns():
    names = " ".join(PATTERNS)
    assert "okedoctor.kube._LOG_PATTERNS" in names and "okedoctor.chain.scheduling._REASONS" in names
    assert "okedoctor.redact._KEY_VALUE" in names and len(PATTERNS) > 50


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear_on_long_runs(name):
    pattern = PATTERNS[name]
    slow = []
    for unit in _UNITS:
        text = (unit * (_SIZE // len(unit) + 1))[:_SIZE]
        took = _scan_time(pattern, text)
        if took > _BOUND_S:
            took = min(took, _scan_time(pattern, text))
        if took > _BOUND_S:
            slow.append(f"{unit!r}: {took:.2f}s")
    assert not slow, f"{name} backtracks on {_SIZE} chars of " + ", ".join(slow)


def _scan_time(pattern: re.Pattern[str], text: str) -> float:
    start = time.perf_counter()
    for _ in pattern.finditer(text):
        pass
    return time.perf_counter() - start


@pytest.mark.parametrize("size", [16 * 1024, 1024 * 1024])
@pytest.mark.parametrize("unit", ["a", "a:", "1", "db:5432 ", "listen", "ECONNREFUSED"])
def test_log_analysis_of_one_long_line_is_bounded(size, unit):
    line = (unit * (size // len(unit) + 1))[:size]

    def analyse(suffix: str) -> float:
        start = time.perf_counter()
        log_hints(line + suffix)  # a fresh string each time: the hints are cached per text
        tail(line)
        listening_ports(line)
        return time.perf_counter() - start

    # 5-60 ms measured for 1 MB (it took 0.8-2.8 s before the bound); timed again if the machine stalled.
    took = analyse("x")
    if took >= 0.5:
        took = min(took, analyse("y"))
    assert took < 0.5


def test_a_hint_after_a_megabyte_of_log_is_still_read():
    log = "x" * (1024 * 1024) + "\nError: connect ECONNREFUSED 10.96.0.12:5432\n"
    start = time.perf_counter()
    (hint,) = log_hints(log)
    assert time.perf_counter() - start < 0.5
    assert hint.kind == "refused" and hint.detail == {"dependency": "10.96.0.12:5432"}
    assert tail(log, 1) == ["Error: connect ECONNREFUSED 10.96.0.12:5432"]


@pytest.mark.parametrize("line, dependency", [
    ("dial tcp 10.0.0.5:5432: connect: connection refused", "10.0.0.5:5432"),
    ("redis.default.svc:6379 connection refused", "redis.default.svc:6379"),
    ("Error: connect ECONNREFUSED [::1]:8080", "::1:8080"),
    ("connection refused by db-primary:3306", "db-primary:3306"),
])
def test_refused_hints_still_name_the_dependency(line, dependency):
    (hint,) = log_hints(line)
    assert hint.kind == "refused" and hint.detail["dependency"] == dependency
