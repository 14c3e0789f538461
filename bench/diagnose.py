"""One live diagnosis against the simulated OKE with added latency per request.

    python bench/diagnose.py [SCENARIO] [--latency-ms 50] [--no-exec] [--service NS/NAME]
    python bench/diagnose.py --all [--latency-ms 50]    # every shipped scenario, warm, one line each

A scenario with `target.url` is diagnosed as that URL (name, LB, ingress rule, backend);
--service diagnoses one of its Services instead, to compare the two on the same cluster.

Prints the wall time, the requests per API and the longest chain of dependent requests: with
L ms per request, a diagnosis cannot take less than about chain x L, and the collector's job is
to come close to that bound however many requests it makes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="healthy-nlb")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--no-exec", action="store_true")
    ap.add_argument("--service", metavar="NS/NAME", help="diagnose this Service of the scenario instead")
    ap.add_argument("--runs", type=int, default=2,
                    help="diagnoses in this process: the first pays the imports, the next ones do not")
    ap.add_argument("--all", action="store_true",
                    help="every shipped scenario (after one cold run): wall and longest chain each, then the max")
    args = ap.parse_args()
    if args.all:
        return _all(args)

    for run in range(1, args.runs + 1):
        report, result, wall, served, window = _diagnose(args.scenario, args)
        stats = result.stats
        chain = stats["longest_chain"]
        print(f"run {run}{' (cold: imports, key loading)' if run == 1 else ' (warm)'}")
        print(f"  scenario         {args.scenario} (verdict {report.verdict.value})")
        print(f"  latency          {args.latency_ms} ms per request{' (no exec)' if args.no_exec else ''}")
        print(f"  wall time        {wall:.2f} s (collection {stats['duration_s']:.2f} s)")
        print("  requests         " + ", ".join(f"{api} {n}" for api, n in stats["api_requests"].items())
              + f" (total {sum(stats['api_requests'].values())}; the simulator served "
              + ", ".join(f"{api} {n}" for api, n in served.items()) + ")")
        print(f"  request window   {window:.2f} s from the first request to the last answer")
        print(f"  longest chain    {chain} dependent requests "
              f"(floor {chain * args.latency_ms / 1000:.2f} s at {args.latency_ms} ms each)")
    return 0


def _diagnose(scenario: str, args: argparse.Namespace):
    """One live diagnosis of `scenario` against its simulator: (report, result, wall, served, window)."""
    from okedoctor.diagnose import diagnose_snapshot
    from okedoctor.live import collect
    from okedoctor.model import Target
    from okedoctor.options import LiveOptions
    from okedoctor.registry import load_registry
    from okedoctor.sim import Simulator
    from okedoctor.snapshot import load_snapshot

    snap = load_snapshot(ROOT / "okedoctor" / "scenarios" / f"{scenario}.yaml")
    if getattr(args, "service", None):
        ns, _, name = args.service.partition("/")
        target = Target(ns, name)
    elif snap.target.get("url"):
        target = Target("", "", url=snap.target["url"])
    else:
        target = Target(snap.target.get("namespace") or "default", snap.target["service"])
    registry = load_registry(entry_points_enabled=False)
    with tempfile.TemporaryDirectory() as workdir, Simulator(snap, workdir, latency_ms=args.latency_ms) as sim:
        os.environ.update(sim.env)
        opts = LiveOptions(namespace=target.namespace or None, lb_ocid=snap.target.get("lbOcid"),
                           no_exec=args.no_exec, timeout=60, oci_endpoint=sim.env["OKEDOCTOR_OCI_ENDPOINT"],
                           internet_redirect=sim.env["OKEDOCTOR_INTERNET_REDIRECT"])
        started = time.perf_counter()
        if target.url:
            from okedoctor.live.urlcollect import collect_url

            result = collect_url(target, opts)
        else:
            result = collect(target, opts)
        report = diagnose_snapshot(result.snapshot, result.target, registry, stats=result.stats)
        wall = time.perf_counter() - started
        served = {api: sum(1 for r in sim.requests if r["api"] == api) for api in ("kubernetes", "oci", "internet")}
        times = [r["time"] for r in sim.requests]
        # The sim stamps each request when it answers it: first to last answer is the network part.
        window = (max(times) - min(times) + args.latency_ms / 1000) if times else 0.0
    return report, result, wall, served, window


def _all(args: argparse.Namespace) -> int:
    """Every shipped scenario, each diagnosed warm (one cold run first pays the imports)."""
    args.service = None
    names = sorted(p.stem for p in (ROOT / "okedoctor" / "scenarios").glob("*.yaml"))
    _diagnose(names[0], args)
    rows = []
    for name in names:
        report, result, wall, _, _ = _diagnose(name, args)
        chain = result.stats["longest_chain"]
        rows.append((wall, chain, name))
        print(f"{name:48s} {wall:5.2f} s  chain {chain}  requests {sum(result.stats['api_requests'].values()):3d}"
              f"  verdict {report.verdict.value}")
    worst, deepest = max(rows), max(rows, key=lambda r: r[1])
    print(f"max wall   {worst[0]:.2f} s ({worst[2]}); longest chain {deepest[1]} ({deepest[2]}); "
          f"{len(rows)} scenarios at {args.latency_ms} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
