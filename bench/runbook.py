"""okedoctor against the manual runbook: the same diagnosis typed with kubectl and the oci CLI.

    python bench/runbook.py [SCENARIO ...] [--all] [--latency-ms 50]

For each scenario, one simulator (`okedoctor sim serve`, with latency per request) serves both
sides in turn, pair by pair in one run:
- okedoctor: `okedoctor diagnose svc/NAME -o json`, a new process, as a user runs it;
- the runbook: the commands a careful on-call engineer types to reach the same diagnosis
  (docs/live-diagnosis.md lists them), run one after the other as a person would, each
  a new process: kubectl for the Service, its endpoints, pods, their description, logs
  (and previous logs), an in-pod curl, the nodes and the warning events; the real oci CLI for
  the cluster, the LB/NLB list and body, its backend-set health, the LB subnet and its
  security lists, one worker's VNICs, subnet and security lists; curl of the public address.
  Typing and reading time is not counted, only the commands' own run time.

The oci CLI is installed into .venv-oci by this script when it is missing (it is large: this is
why the script is not part of CI). Nothing leaves 127.0.0.1: every CLI gets the simulator's
endpoints, a dead loopback proxy as a safety belt, and the internet side goes through the
simulator's redirect map.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.simproc import DEAD_PROXY, ensure_oci_cli, sim_serve  # noqa: E402

DEFAULT_SCENARIOS = ("healthy-nlb", "missing-nodeport-rule", "stale-healthcheck-port", "crashloop-missing-env",
                     "app-500-while-ready", "healthy-lb-local")


def runbook(snap, oci: str) -> list[list[str]]:
    """The commands, in the order a person types them, for the scenario's target."""
    from okedoctor.facts import Facts

    facts = Facts(snap)
    ns, name = facts.target.namespace, facts.target.service
    svc = facts.service or {}
    spec = svc.get("spec") or {}
    selector = ",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items())
    cmds: list[list[str]] = [
        ["kubectl", "config", "current-context"],
        ["kubectl", "get", "svc", name, "-n", ns, "-o", "yaml"],
        ["kubectl", "get", "endpoints", name, "-n", ns],
        ["kubectl", "get", "pods", "-n", ns, "-l", selector, "-o", "wide"],
    ]
    port = next((p.get("targetPort") for p in spec.get("ports") or []), 80)
    for pod in facts.pods[:3]:
        pod_name = pod["metadata"]["name"]
        cmds += [["kubectl", "describe", "pod", pod_name, "-n", ns],
                 ["kubectl", "logs", pod_name, "-n", ns, "--all-containers", "--tail", "50"],
                 ["kubectl", "logs", pod_name, "-n", ns, "--previous", "--tail", "50"],
                 ["kubectl", "exec", pod_name, "-n", ns, "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                  f"http://localhost:{port}/"]]
    cmds += [["kubectl", "get", "deploy,rs,pvc", "-n", ns],
             ["kubectl", "get", "nodes", "-o", "wide"],
             ["kubectl", "get", "events", "-n", ns, "--field-selector", "type=Warning"]]
    cmds += oci_steps(facts, oci)
    for ingress in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
        for p in spec.get("ports") or []:
            if ingress.get("ip"):
                cmds.append(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                             f"http://{ingress['ip']}:{p.get('port')}/"])
    return cmds


def oci_steps(facts, oci: str) -> list[list[str]]:
    ctx = facts.context
    out = []
    if any(c.get("id") == ctx.get("cluster") for c in (facts.oci or {}).get("clusters") or []):
        out.append([oci, "ce", "cluster", "get", "--cluster-id", ctx["cluster"]])
    ref = facts.load_balancer
    comp = ctx.get("compartmentId", "")
    if ref is None:
        out.append([oci, "nlb", "network-load-balancer", "list", "--compartment-id", comp, "--all"])
        return out
    if ref.flavor == "nlb":
        out += [[oci, "nlb", "network-load-balancer", "list", "--compartment-id", comp, "--all"],
                [oci, "nlb", "network-load-balancer", "get", "--network-load-balancer-id", ref.id]]
        out += [[oci, "nlb", "backend-set-health", "get", "--network-load-balancer-id", ref.id,
                 "--backend-set-name", bs] for bs in ref.backend_sets]
    else:
        out += [[oci, "lb", "load-balancer", "list", "--compartment-id", comp, "--all"],
                [oci, "lb", "load-balancer", "get", "--load-balancer-id", ref.id]]
        out += [[oci, "lb", "backend-set-health", "get", "--load-balancer-id", ref.id, "--backend-set-name", bs]
                for bs in ref.backend_sets]
    for subnet_id in ref.subnet_ids[:1]:
        out += subnet_steps(facts, oci, subnet_id)
    node = facts.nodes[0] if facts.nodes else None
    instance = ((node or {}).get("spec") or {}).get("providerID", "").removeprefix("oci://")
    vnic = facts.node_vnic(node) if node else None
    if instance.startswith("ocid1.instance"):
        out.append([oci, "compute", "instance", "list-vnics", "--instance-id", instance])
    if vnic:
        out += subnet_steps(facts, oci, vnic.get("subnetId", ""))
    return out


def subnet_steps(facts, oci: str, subnet_id: str) -> list[list[str]]:
    """A subnet, its security lists and its route table (is there a route to the internet?)."""
    subnet = facts.subnet(subnet_id) or {}
    out = [[oci, "network", "subnet", "get", "--subnet-id", subnet_id]]
    out += [[oci, "network", "security-list", "get", "--security-list-id", sl]
            for sl in subnet.get("securityListIds") or []]
    if facts.route_table(subnet.get("routeTableId", "")):
        out.append([oci, "network", "route-table", "get", "--rt-id", subnet["routeTableId"]])
    return out


def curl_redirects(cmd: list[str], redirect: str) -> list[str]:
    """curl of a public address goes where the simulator's redirect map says (never off loopback)."""
    from okedoctor.live.internet import parse_redirect

    if cmd[0] != "curl":
        return cmd
    url = cmd[-1]
    addr = url.split("//", 1)[1].rstrip("/")
    target = (parse_redirect(redirect) or {}).get(addr)
    if target is None:
        return []  # not served by the simulator: a person would get a timeout; not run here
    return cmd[:-1] + ["--connect-to", f"{addr}:{target[0]}:{target[1]}", url]


USAGE_ERRORS = ("Usage:", "No such option", "Missing option", "unknown flag", "unknown command")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, bool]:
    """(seconds, refused as a usage error). An API error or a timeout is an answer, as for a person."""
    started = time.perf_counter()
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return time.perf_counter() - started, run.returncode != 0 and any(e in run.stderr for e in USAGE_ERRORS)


def one(scenario: str, oci: str, latency_ms: int, doctor_runs: int = 1) -> tuple[float, float, int, int]:
    """(okedoctor wall, runbook wall, runbook commands, of which failed) for one scenario; with
    doctor_runs > 1, okedoctor's wall is the median of that many runs (one stall of a shared
    machine weighs on one 1 s process far more than on the runbook's sum of 24 commands)."""
    from okedoctor.snapshot import load_snapshot

    path = ROOT / "okedoctor" / "scenarios" / f"{scenario}.yaml"
    snap = load_snapshot(path)
    with tempfile.TemporaryDirectory() as tmp, sim_serve(path, Path(tmp), latency_ms) as env:
        full = {**os.environ, **env, **DEAD_PROXY, "HOME": str(Path(tmp) / "home"),
                "SUPPRESS_LABEL_WARNING": "True", "OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING": "True"}
        target = f"svc/{snap.target['service']}"
        doctor = statistics.median(
            timed([sys.executable, "-m", "okedoctor", "diagnose", target, "-n",
                   snap.target.get("namespace") or "default", "-o", "json"], full)[0] for _ in range(doctor_runs))
        cmds = [c for c in (curl_redirects(c, env.get("OKEDOCTOR_INTERNET_REDIRECT", ""))
                            for c in runbook(snap, oci)) if c]
        total, failed = 0.0, 0
        for cmd in cmds:
            took, refused = timed(cmd, full)
            total += took
            failed += refused
            if refused:
                print(f"    refused: {shlex.join(cmd)}", file=sys.stderr)
    return doctor, total, len(cmds), failed


def compiled_like_an_install() -> None:
    """Byte-compile okedoctor as pip does when it installs a wheel (the oci CLI's venv is compiled
    the same way): with PYTHONDONTWRITEBYTECODE set, an editable checkout would otherwise compile
    every module from source on each run (~0.15 s), which no installed copy does."""
    import compileall

    for package in ("okedoctor", "checks"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--all", action="store_true", help="every shipped scenario")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--doctor-runs", type=int, default=1, metavar="N",
                    help="run okedoctor N times per pair and take the median wall (default 1)")
    args = ap.parse_args()
    names = args.scenarios or list(DEFAULT_SCENARIOS)
    if args.all:
        names = sorted(p.stem for p in (ROOT / "okedoctor" / "scenarios").glob("*.yaml"))
    oci = ensure_oci_cli(ROOT)
    compiled_like_an_install()
    print(f"latency {args.latency_ms} ms per request; oci CLI {oci}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'scenario':40} {'okedoctor':>10} {'runbook':>9} {'commands':>9} {'speed-up':>9}")
    worst = None
    for name in names:
        doctor, manual, n, failed = one(name, oci, args.latency_ms, args.doctor_runs)
        ratio = manual / doctor if doctor else float("inf")
        worst = ratio if worst is None else min(worst, ratio)
        note = f"  ({failed} refused as usage errors)" if failed else ""
        print(f"{name:40} {doctor:9.2f}s {manual:8.1f}s {n:9d} {ratio:8.1f}x{note}")
    print(f"lowest speed-up {worst:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
