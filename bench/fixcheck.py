"""Every printed `oci` and `kubectl` fix command of every scenario, run with the real CLIs against
the simulated OKE (not in CI: it needs the oci CLI, which is large).

    python bench/fixcheck.py [SCENARIO ...] [--oci .venv-oci/bin/oci] [--verbose]

For each scenario a fresh simulator serves the file; the report's fix commands run in their
printed order through bash, in a shell whose environment is the simulator's (so `oci` and
`kubectl` talk to it), with a "y" on stdin for the CLI's confirmation prompts. The variables a
fix asks the user to set (NODE, NEW_CPU, TAG, ...) get plausible values first. Each command is
then one of:

  ok        exit 0
  waits     a watch (`get -w`, `rollout status`) still running after 8 s, as it should
  parse     the CLI refused the command line itself (unknown option, missing argument, bad JSON)
  refused   the API refused the request (4xx / 5xx)
  not-sim   the simulator does not serve that request (the command may well be right)
  needs     the command reads a file the fix's patch holds (`kubectl apply -f NAME.yaml`)
  other     any other failure

Prints one line per failing command and a table per tool. Exit 0 when no command failed to
parse or was refused.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.simproc import DEAD_PROXY, ensure_oci_cli  # noqa: E402

# What a user would set before pasting: the values only need to be well-formed.
USER_VARIABLES = {
    "NODE": "10.0.10.5", "NEW_CPU": "100m", "NEW_MEMORY": "128Mi", "TAG": "1.0.0",
    "SUBJECT": "--serviceaccount=default:okedoctor", "TENANCY_OCID": "ocid1.tenancy.oc1..aaaaaaaasim",
    "FILE": "/dev/null", "EXPORT_ID": "ocid1.export.oc1.ap-tokyo-1.aaaaaaaasim",
    "NODE_POOL_ID": "ocid1.nodepool.oc1.ap-tokyo-1.aaaaaaaapool1", "INSTANCE_OCID": "ocid1.instance.oc1..sim",
    "RT_ID": "ocid1.routetable.oc1.ap-tokyo-1.aaaaaaaasim",
}
PARSE = re.compile(r"No such option|Missing option|Error: Invalid value|Usage: oci|unknown flag|unknown command|"
                   r"unknown shorthand|invalid argument|error: unknown|Parameter .* must be in JSON format|"
                   r"is not a valid|must be one of|requires at least|accepts \d+ arg")
NOT_SIM = re.compile(r"not served by the simulator|the server could not find the requested resource|"
                     r"MethodNotAllowed|405|the server does not allow this method")
REFUSED = re.compile(r'"status": [45]\d\d|Error from server|ServiceError|\(Forbidden\)|\(NotFound\)|'
                     r"\(Conflict\)|\(BadRequest\)|\(Invalid\)")


def classify(rc: int, out: str, command: str) -> str:
    if rc == 0:
        return "ok"
    if re.search(r"apply -f \S+\.yaml", command) and ("does not exist" in out or "no such file" in out.lower()):
        return "needs"
    if NOT_SIM.search(out):
        return "not-sim"
    if PARSE.search(out):
        return "parse"
    if REFUSED.search(out):
        return "refused"
    return "other"


def tool_of(command: str) -> str:
    first = command.split("=", 1)[1] if re.match(r"^[A-Z_]+=\$\(", command) else command
    word = first.lstrip("$(").split()[0] if first.strip() else ""
    return word if word in ("oci", "kubectl") else ""


def run_scenario(path: Path, oci_bin: str, registry, verbose: bool) -> list[tuple[str, str, str, str]]:
    from okedoctor.diagnose import diagnose_snapshot, resolve_target
    from okedoctor.sim import Simulator
    from okedoctor.snapshot import load_snapshot

    snap = load_snapshot(path)
    report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), registry)
    commands = [c for f in report.findings for c in f.fix.commands if tool_of(c)]
    results = []
    with tempfile.TemporaryDirectory() as workdir, Simulator(snap, workdir, keep_requests=False) as sim:
        env = {**os.environ, **sim.env, **DEAD_PROXY, **USER_VARIABLES, "SUPPRESS_LABEL_WARNING": "True",
               "OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING": "True",
               "PATH": f"{Path(oci_bin).resolve().parent}:{os.environ.get('PATH', '')}"}
        for command in commands:
            waits = bool(re.search(r" -w\b|--watch|rollout status", command))
            try:
                proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], input="y\n", capture_output=True,
                                      text=True, env=env, cwd=workdir, timeout=8 if waits else 120)
            except subprocess.TimeoutExpired:
                # a watch runs until interrupted: still running after a while is what it should do
                results.append((path.stem, tool_of(command), "waits" if waits else "other", command))
                continue
            out = proc.stdout[-2000:] + proc.stderr[-2000:]
            verdict = classify(proc.returncode, out, command)
            results.append((path.stem, tool_of(command), verdict, command))
            if verdict != "ok":
                why = next((ln for ln in proc.stderr.splitlines() if ln.strip()), "")[:200]
                print(f"{verdict:8} {path.stem}: {command[:160]}\n         {why}")
            elif verbose:
                print(f"ok       {path.stem}: {command[:160]}")
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--oci", help="the oci CLI (default: .venv-oci/bin/oci, installed there when missing)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    from okedoctor.registry import load_registry

    registry = load_registry(entry_points_enabled=False)
    paths = sorted((ROOT / "okedoctor" / "scenarios").glob("*.yaml"))
    if args.scenarios:
        paths = [p for p in paths if p.stem in args.scenarios]
    oci_bin = args.oci or ensure_oci_cli(ROOT)
    results = [r for p in paths for r in run_scenario(p, oci_bin, registry, args.verbose)]
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for _, tool, verdict, _ in results:
        table[tool][verdict] += 1
    kinds = ("ok", "waits", "parse", "refused", "not-sim", "needs", "other")
    print(f"\n{len(paths)} scenarios, {len(results)} commands")
    print(f"{'tool':8} {'tried':>5} " + " ".join(f"{k:>7}" for k in kinds))
    for tool, counts in sorted(table.items()):
        print(f"{tool:8} {sum(counts.values()):>5} " + " ".join(f"{counts[k]:>7}" for k in kinds))
    return 1 if any(c["parse"] or c["refused"] for c in table.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
