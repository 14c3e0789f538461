"""The fleet report over a large generated cluster, against the simulated OKE with latency.

    python bench/report.py [--services 300] [--nodes 500] [--pods 5000] [--latency-ms 50]

The simulator runs in its own process (`okedoctor sim serve`), and so does `okedoctor report
-A`, exactly as a user runs them, so the peak memory printed is okedoctor's alone. Prints the
wall time with the load average (on a shared machine it says how busy the others were), the CPU
time of okedoctor and of its checks, the requests per API, the URLs read more than once (none
is the goal) and the peak RSS. Repeat a run to see how much of the wall time was the machine's.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.simproc import fleet_serve, sim_serve  # noqa: E402
from okedoctor.docfile import MAX_INPUT_BYTES  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=300)
    ap.add_argument("--nodes", type=int, default=500)
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--keep", metavar="DIR", help="also write the generated fleet file here (to profile against)")
    ap.add_argument("--save-report", metavar="FILE", help="also write okedoctor's JSON report here (to see why a "
                    "verdict is not as generated)")
    args = ap.parse_args()

    from okedoctor.fleet.generate import generate_fleet
    from okedoctor.snapshot import dump_snapshot

    pods_per_service = max(1, round(args.pods / args.services))
    t0 = time.perf_counter()
    snap, expected = generate_fleet(args.services, args.nodes, pods_per_service)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        path, log = tmp_path / "fleet.json", tmp_path / "requests.jsonl"
        dump_snapshot(snap, path)
        # Past the size any file okedoctor reads may have (1,000 Services: 660 MB), the simulator
        # generates the same fleet itself instead of reading it.
        serve = sim_serve(path, tmp_path / "sim", args.latency_ms, log) if path.stat().st_size <= MAX_INPUT_BYTES \
            else fleet_serve(args.services, args.nodes, pods_per_service, tmp_path / "sim", args.latency_ms, log)
        if args.keep:
            dump_snapshot(snap, Path(args.keep) / f"fleet-{args.services}.json")
        print(f"cluster            {args.services} services, {args.nodes} nodes, "
              f"{args.services * pods_per_service} pods ({len(snap.kubernetes)} Kubernetes objects; "
              f"generated in {time.perf_counter() - t0:.1f} s)")
        with serve as env:
            started = time.perf_counter()
            # GNU time reports okedoctor's own peak RSS, apart from the simulator's.
            run = subprocess.run(
                ["/usr/bin/time", "-f", "peak-rss-kb %M cpu-s %U %S", sys.executable, "-m", "okedoctor", "report", "-A",
                 "-o", "json", "--timeout", "600"],
                capture_output=True, text=True, env={**os.environ, **env},
            )
            wall = time.perf_counter() - started
        timed = run.stderr.rsplit("peak-rss-kb ", 1)[-1].split()
        peak_kb, cpu = int(timed[0]), float(timed[2]) + float(timed[3])
        if run.returncode not in (0, 1, 2, 3):
            print(run.stderr, file=sys.stderr)
            return 1
        doc = json.loads(run.stdout)
        if args.save_report:
            Path(args.save_report).write_text(run.stdout, encoding="utf-8")
        requests = [json.loads(line) for line in log.read_text().splitlines()]
    wrong = sum(1 for s in doc["services"]
                if s["verdict"] != expected[f"{s['target']['namespace']}/{s['target']['service']}"].verdict)
    per_api = collections.Counter(r["api"] for r in requests)
    # The same URL asked twice is a read the shared pass should have made once.
    # (The internet side is left out: the simulator logs each address's probe as the path "/".)
    urls = collections.Counter((r["api"], r["path"], json.dumps(r.get("query"), sort_keys=True))
                               for r in requests if r["method"] == "GET" and r["api"] != "internet")
    repeated = {f"{api} {path}": n for (api, path, _), n in urls.items() if n > 1}
    print(f"latency            {args.latency_ms} ms per request")
    print(f"wall time          {wall:.2f} s for okedoctor report -A (exit {run.returncode}); "
          f"load average {os.getloadavg()[0]:.2f}")
    # On a shared machine the wall time says how busy the others were; the CPU time does not.
    print(f"cpu time           {cpu:.2f} s (user + system) of okedoctor report; "
          f"checks {doc['stats'].get('checks_s', 0):.2f} s of wall time, "
          f"{doc['stats'].get('checks_cpu_s', 0):.2f} s of CPU")
    print("requests           " + ", ".join(f"{api} {n}" for api, n in sorted(per_api.items()))
          + f" (total {len(requests)})")
    print(f"repeated reads     {len(repeated)} URLs asked more than once" + (f": {repeated}" if repeated else ""))
    print(f"peak memory        {peak_kb / 1024:.0f} MiB RSS of okedoctor report (the simulator not counted)")
    print(f"verdicts           {len(doc['services'])} services, {wrong} not as generated; "
          f"summary {doc['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
