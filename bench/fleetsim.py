"""Serve a generated fleet straight from memory: `okedoctor sim serve` for a fleet too large for a file.

    python bench/fleetsim.py SERVICES NODES PODS_PER_SERVICE WORKDIR LATENCY_MS REQUEST_LOG

A 1,000-Service fleet is a 660 MB snapshot, past the 256 MB any file okedoctor reads may have
(docs/snapshot-format.md "Limits"); generated here (deterministically, as bench/report.py does
for its expected verdicts), it needs no file. Prints the same `export` lines as `sim serve`.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from okedoctor.fleet.generate import generate_fleet
    from okedoctor.sim.server import Simulator

    services, nodes, pods, workdir, latency, log = sys.argv[1:7]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # while generating: stop at once
    snap, _ = generate_fleet(int(services), int(nodes), int(pods))
    stop = threading.Event()
    with Simulator(snap, Path(workdir), latency_ms=int(latency), request_log=log, keep_requests=False) as sim:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # serving: stop through the loop below
        for name, value in sim.env.items():
            print(f"export {name}='{value}'", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
