"""The fault matrix: every API family x every fault mode, each a real `okedoctor` process.

    python bench/faults.py [--timeout 4] [--jobs 2] [--family NAME ...] [--fault NAME ...]

Each cell starts the simulated OKE with one fault (docs/simulator.md, "Faults") on one family
of paths, runs `okedoctor diagnose` (and `okedoctor report` for the fleet scenario) as a child
process against it, and judges what came out:

- no traceback, an exit code that is documented, the process gone by --timeout + 1.5 s;
- its peak memory (the child's maximum resident set);
- an honest verdict: never `ok` when a read failed for good (a false ok), never an error root
  cause the fault-free run does not have (a false root cause), never a failing Service
  reported as ok or warning (a downgraded failure).

Run it in a loopback-only network namespace (`unshare -rn sh -c 'ip link set lo up; ...'`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# family -> (api, path regex)
FAMILIES: dict[str, tuple[str, str]] = {
    "k8s-service": ("kubernetes", r"/namespaces/[^/]+/services/[^/]+$"),
    "k8s-pods": ("kubernetes", r"/namespaces/[^/]+/pods$"),
    "k8s-nodes": ("kubernetes", r"^/api/v1/nodes$"),
    "k8s-endpoints": ("kubernetes", r"/endpoints/|/endpointslices$"),
    "k8s-events": ("kubernetes", r"/events$"),
    "k8s-workloads": ("kubernetes", r"/replicasets$|/deployments$"),
    "k8s-storage": ("kubernetes", r"/persistentvolumeclaims$|/storageclasses$"),
    "k8s-namespace": ("kubernetes", r"^/api/v1/namespaces/[^/]+$"),
    "oci-lb": ("oci", r"/networkLoadBalancers|/loadBalancers"),
    "oci-network": ("oci", r"/subnets|/securityLists|/networkSecurityGroups|/vnics"),
    "oci-compute": ("oci", r"/instances|/vnicAttachments|/clusters"),
}
# fault -> the simulator's fault entry (without api and path)
FAULTS: dict[str, dict[str, Any]] = {
    "403": {"status": 403},
    "500": {"status": 500},
    "503": {"status": 503},
    "429": {"status": 429, "retry_after": 1},
    "429-once": {"status": 429, "retry_after": 1, "times": 1},
    "503-once": {"status": 503, "times": 1},
    "reset": {"mode": "reset"},
    "reset-once": {"mode": "reset", "times": 1},
    "drop": {"drop": True},
    "hang": {"mode": "hang"},
    "slow-headers": {"mode": "trickle-headers", "trickle_ms": 100},
    "slow-body": {"mode": "trickle-body", "trickle_ms": 100},
    "html": {"mode": "html"},
    "garbage": {"mode": "garbage"},
    "redirect": {"mode": "redirect"},
    "delay-2s": {"delay_ms": 2000},
    "delay-deadline": {"delay_ms": 30000},
}
EXIT_CODES = (0, 1, 2, 3, 64)
SCENARIOS = ("healthy-nlb", "lb-pending-quota", "crashloop-missing-env")


@dataclass
class Cell:
    scenario: str
    family: str
    fault: str
    command: str
    code: int = -1
    wall: float = 0.0
    rss_mb: float = 0.0
    verdict: str = ""
    hits: int = 0
    recovered: bool = False  # a faulted path was read successfully later (a retry)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def cold_start(jobs: int = 2) -> float:
    """Seconds a fault-free diagnosis from a file takes as a new process (interpreter start-up,
    imports, checks, no network), `jobs` at a time: what this machine's load adds to every cell."""
    argv = [sys.executable, "-m", "okedoctor", "diagnose", "--from",
            str(ROOT / "okedoctor" / "scenarios" / "healthy-nlb.yaml"), "-o", "json"]

    def one(_: int) -> float:
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, cwd=ROOT, timeout=120)
        return time.perf_counter() - started

    with ThreadPoolExecutor(jobs) as pool:
        return max(pool.map(one, range(jobs)))


def baseline(scenario: str) -> dict[str, Any]:
    """The fault-free report, from the file (the live run equals it: tests/live/test_live_scenarios.py)."""
    proc = subprocess.run([sys.executable, "-m", "okedoctor", "diagnose", "--from",
                           str(ROOT / "okedoctor" / "scenarios" / f"{scenario}.yaml"), "--no-exec", "-o", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    return json.loads(proc.stdout)


def run_cell(cell: Cell, timeout: float, base: dict[str, Any], slack: float = 0.0) -> Cell:
    from okedoctor.sim import Simulator
    from okedoctor.snapshot import load_snapshot

    snap = load_snapshot(ROOT / "okedoctor" / "scenarios" / f"{cell.scenario}.yaml")
    api, path = FAMILIES[cell.family]
    fault = {"api": api, "path": path, **FAULTS[cell.fault]}
    target = snap.target
    with tempfile.TemporaryDirectory() as workdir, Simulator(snap, workdir, faults=[fault]) as sim:
        env = {**os.environ, **sim.env, "NO_COLOR": "1"}
        argv = [sys.executable, "-m", "okedoctor"]
        if cell.command == "report":
            argv += ["report", "-n", target.get("namespace") or "default"]
        else:
            argv += ["diagnose", f"svc/{target['service']}", "-n", target.get("namespace") or "default"]
        argv += ["--no-exec", "--timeout", f"{timeout:g}", "-o", "json"]
        started = time.perf_counter()
        proc = _Wait4Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        out, err = _communicate(proc, timeout + 30)
        cell.wall = time.perf_counter() - started
        cell.code = proc.returncode
        cell.rss_mb = getattr(proc, "maxrss_kb", 0) / 1024
        cell.hits = sum(1 for r in sim.requests if r.get("fault") or r.get("denied"))
        faulted = {r["path"] for r in sim.requests if r.get("fault")}
        cell.recovered = any(r["path"] in faulted and r["status"] == 200 for r in sim.requests)
    cell.problems = tuple(judge(cell, timeout, out, err, base, slack))
    return cell


def _communicate(proc: subprocess.Popen, limit: float) -> tuple[str, str]:
    """stdout and stderr, and the child's peak memory from wait4 (its own, not every child's)."""
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def judge(cell: Cell, timeout: float, out: str, err: str, base: dict[str, Any], slack: float = 0.0) -> list[str]:
    """`slack`: seconds a busy machine adds to any run (see cold_start); 0 on an idle one."""
    problems = []
    if "Traceback" in err or "Traceback" in out:
        problems.append("traceback")
    if cell.code not in EXIT_CODES:
        problems.append(f"exit {cell.code}")
    if cell.wall > timeout + 1.5 + slack:
        problems.append(f"exit after {cell.wall:.1f}s")
    if len(err.strip().splitlines()) > 1:
        problems.append("more than one line on stderr")
    reports = _reports(out)
    if reports is None:
        if cell.code not in (3, 64) or not err.strip():
            problems.append("no report and no one-line error")
        cell.verdict = f"exit {cell.code}"
        return problems
    verdicts = sorted({r["verdict"] for r in reports})
    cell.verdict = ",".join(verdicts)
    persistent = "times" not in FAULTS[cell.fault] and not cell.fault.startswith("delay-2")
    if persistent and cell.hits and "ok" in verdicts:
        problems.append("false ok")
    if base["verdict"] == "failure" and any(v in ("ok", "warning") for v in verdicts):
        problems.append("downgraded failure")
    known = {f["code"] for f in base["findings"]}
    for r in reports:
        extra = {f["code"] for f in r["findings"] if f["rootCause"] and f["severity"] == "error"} - known
        if extra:
            problems.append(f"false root cause {','.join(sorted(extra))}")
    return problems


def _reports(out: str) -> list[dict[str, Any]] | None:
    try:
        doc = json.loads(out)
    except ValueError:
        return None
    return doc.get("services", [doc]) if isinstance(doc, dict) else None


class _Wait4Popen(subprocess.Popen):
    """Popen that keeps the child's rusage: its own peak RSS, not the maximum over all children."""

    def _try_wait(self, wait_flags):
        try:
            pid, sts, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return self.pid, 0
        if pid:
            self.maxrss_kb = usage.ru_maxrss
        return pid, sts



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=4.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--family", action="append", choices=sorted(FAMILIES))
    ap.add_argument("--fault", action="append", choices=sorted(FAULTS))
    ap.add_argument("--scenario", action="append", choices=SCENARIOS)
    ap.add_argument("--load-slack", action="store_true",
                    help="allow each cell what the machine's load adds to a cold fault-free run (over 1.5 s)")
    args = ap.parse_args()
    cells = [Cell(s, fam, f, "report" if s == "healthy-nlb" and i % 2 else "diagnose")
             for s in args.scenario or SCENARIOS
             for i, fam in enumerate(args.family or FAMILIES) for f in args.fault or FAULTS]
    bases = {s: baseline(s) for s in {c.scenario for c in cells}}
    cold = cold_start(args.jobs)
    slack = max(0.0, cold - 1.5) if args.load_slack else 0.0
    started = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda c: run_cell(c, args.timeout, bases[c.scenario], slack), cells))
    print_table(done, args.timeout, time.perf_counter() - started)
    print(f"a cold fault-free run took {cold:.2f} s here ({args.jobs} at a time)"
          + (f"; each cell was allowed {slack:.2f} s more for it" if slack else ""))
    return 0 if all(c.ok for c in done) else 1


def print_table(cells: list[Cell], timeout: float, took: float) -> None:
    print(f"{'scenario':22} {'family':14} {'fault':15} {'cmd':8} {'exit':>4} {'wall s':>6} {'MB':>5} "
          f"{'hits':>4} verdict / problems")
    for c in cells:
        print(f"{c.scenario:22} {c.family:14} {c.fault:15} {c.command:8} {c.code:>4} {c.wall:>6.2f} "
              f"{c.rss_mb:>5.0f} {c.hits:>4} {c.verdict}{'  PROBLEM: ' + '; '.join(c.problems) if c.problems else ''}")
    bad = [c for c in cells if not c.ok]
    print(f"\n{len(cells)} cells in {took:.0f} s, --timeout {timeout:g}: {len(cells) - len(bad)} honest, "
          f"{len(bad)} with problems; slowest exit {max(c.wall for c in cells):.2f} s "
          f"(bound {timeout + 1.5:g} s); peak memory {max(c.rss_mb for c in cells):.0f} MB")
    for kind in ("traceback", "exit after", "false ok", "downgraded", "false root cause", "no report"):
        n = sum(1 for c in cells if any(p.startswith(kind) for p in c.problems))
        if n:
            print(f"  {kind}: {n}")


if __name__ == "__main__":
    sys.exit(main())
