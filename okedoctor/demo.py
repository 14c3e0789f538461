"""`okedoctor demo`: diagnose a shipped scenario live, against the simulated OKE on loopback.

Needs no cluster and no cloud account: the simulator serves the scenario over the real
Kubernetes, OCI and HTTP wire protocols, and okedoctor's live collector reads it as it would
read a real cluster.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from okedoctor import completion
from okedoctor.cliopts import (
    color_option,
    emit,
    lang_option,
    load_checks,
    output_option,
    timeout_option,
    verbose_option,
)
from okedoctor.errors import UsageError
from okedoctor.render import report_formats

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
PREFERRED = "stale-healthcheck-port"


def scenario_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SCENARIOS_DIR.glob("*.yaml"))}


def first_sentence(text: str) -> str:
    text = " ".join((text or "").split())
    m = re.search(r"^(.+?[.!?])(\s|$)", text)
    return m.group(1) if m else text


def default_scenario(files: dict[str, Path]) -> str:
    """The stale health-check incident if shipped, else the first scenario that is not healthy."""
    from okedoctor.snapshot import load_snapshot

    if PREFERRED in files:
        return PREFERRED
    for name, path in files.items():
        if ((load_snapshot(path).expect or {}).get("verdict") or "ok") != "ok":
            return name
    if not files:
        raise UsageError(f"no scenarios shipped in {SCENARIOS_DIR}")
    return next(iter(files))


@contextmanager
def _environment(env: dict[str, str]):
    """The simulator's settings for the duration of the run (NO_PROXY matters: see wire-facts A3)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@click.command()
@click.argument("scenario", required=False, shell_complete=completion.scenarios)
@output_option(report_formats())
@click.option("--list", "list_only", is_flag=True, help="List the shipped scenarios and exit.")
@click.option("--no-exec", is_flag=True, help="Do not run the in-pod probe.")
@timeout_option()
@color_option
@verbose_option
@lang_option
def demo(scenario, output, list_only, no_exec, timeout, verbose, lang):
    """Diagnose a shipped scenario live against the embedded simulated OKE (no cluster needed)."""
    from okedoctor.snapshot import load_snapshot

    files = scenario_files()
    if list_only:
        width = max((len(n) for n in files), default=0)
        for name, path in files.items():
            desc = (load_snapshot(path).metadata or {}).get("description", "")
            click.echo(f"{name:<{width}}  {first_sentence(desc)}")
        return
    name = scenario or default_scenario(files)
    if name not in files:
        raise UsageError(f"no scenario {name!r}; one of: {', '.join(files)} (okedoctor demo --list)")
    snap = load_snapshot(files[name])
    sys.exit(run_demo(name, snap, output=output, no_exec=no_exec, timeout=timeout, verbose=verbose, lang=lang))


def run_demo(name: str, snap, *, output: str, no_exec: bool, timeout: float, verbose: bool = False,
             lang: str | None = None) -> int:
    from okedoctor.diagnose import diagnose_snapshot
    from okedoctor.live import collect
    from okedoctor.model import Target
    from okedoctor.options import LiveOptions
    from okedoctor.sim import Simulator

    target = Target(snap.target.get("namespace") or "default", snap.target["service"])
    lb_ocid = snap.target.get("lbOcid")
    registry = load_checks(())
    desc = first_sentence((snap.metadata or {}).get("description", ""))
    click.echo(f"demo: scenario {name}: {desc}", err=True)
    with tempfile.TemporaryDirectory(prefix="okedoctor-demo-") as workdir, Simulator(snap, workdir) as sim:
        click.echo(f"demo: simulated OKE on {sim.kube_url} (Kubernetes) and {sim.oci_url} (OCI)", err=True)
        env = dict(sim.env)
        env["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), env.get("NO_PROXY")]))
        with _environment(env):
            opts = LiveOptions(
                kubeconfig=env["KUBECONFIG"], namespace=target.namespace, config_file=env["OCI_CLI_CONFIG_FILE"],
                profile=env.get("OCI_CLI_PROFILE"), auth="api_key", lb_ocid=lb_ocid, no_exec=no_exec,
                timeout=timeout, oci_endpoint=env["OKEDOCTOR_OCI_ENDPOINT"],
                internet_redirect=env["OKEDOCTOR_INTERNET_REDIRECT"])
            result = collect(target, opts)
        report = diagnose_snapshot(result.snapshot, result.target, registry, lb_ocid=lb_ocid, stats=result.stats)
        report.context = result.snapshot.context
        return emit(report, output, verbose, lang)
