"""`okedoctor fix svc/NAME`: diagnose, preview each root cause's requests, apply the confirmed
ones through the SDK clients, wait for them, and diagnose again.

The only okedoctor command that writes. It asks before each fix (`--yes` for scripts), shows
and sends nothing more than the actions the report prints (`--dry-run` stops after the
preview), refuses to start when `--expect-context` does not match, and exits with the verdict
of the diagnosis after the fix.
"""

from __future__ import annotations

import sys

import click

from okedoctor.cliopts import checks_dir_option, live_options, load_checks, make_live_options
from okedoctor.errors import UsageError
from okedoctor.options import parse_target


@click.command()
@click.argument("target")
@click.option("-n", "--namespace", help="Namespace of the Service (default: the context's).")
@click.option("--lb-ocid", metavar="OCID", help="The LB/NLB to check when it was made by hand.")
@click.option("--yes", is_flag=True, help="Apply every fix without asking (for scripts).")
@click.option("--dry-run", is_flag=True, help="Only show the requests each fix would send.")
@checks_dir_option(help="Also load check files from DIR (repeatable).")
@live_options
def fix(target, namespace, lb_ocid, yes, dry_run, checks_dir, **kw):
    """Apply the fixes of TARGET's root causes (svc/NAME), then diagnose again."""
    from okedoctor.diagnose import diagnose_snapshot
    from okedoctor.live import collect

    if not target:
        raise UsageError("no target: okedoctor fix svc/NAME")
    registry = load_checks(checks_dir)
    opts = make_live_options(kw, namespace, lb_ocid)
    tgt = parse_target(target, namespace, default_namespace="default")

    def diagnose():
        result = collect(tgt, opts)  # --expect-context is checked here, before anything is sent
        return diagnose_snapshot(result.snapshot, result.target, registry, lb_ocid=lb_ocid, stats=result.stats)

    before = diagnose()
    fixes = [f for f in before.root_causes if f.fix.actions]
    echo = click.echo
    echo(f"{before.target}: {before.verdict.value}; {len(before.root_causes)} root cause(s), "
         f"{len(fixes)} with a fix okedoctor can apply")
    for f in before.root_causes:
        if not f.fix.actions:
            echo(f"  {f.code} {f.title}: no applicable request; by hand: {f.fix.summary}")
    if not fixes or dry_run:
        _preview_all(fixes)
        sys.exit(before.verdict.exit_code)
    applier = _applier(opts)
    applied = 0
    for f in fixes:
        _preview(f)
        if not yes and not click.confirm("Apply this fix?", default=False):
            echo("  skipped")
            continue
        for result in (applier.apply(a) for a in f.fix.actions):
            echo(f"  {'done' if result.ok else 'FAILED'}: {result.action.describe}: {result.detail}")
            if not result.ok:
                break
        else:
            applied += 1
    after = diagnose() if applied else before
    echo(f"before: {before.verdict.value} ({', '.join(f.code for f in before.root_causes) or 'no root cause'})")
    echo(f"after:  {after.verdict.value} ({', '.join(f.code for f in after.root_causes) or 'no root cause'})")
    sys.exit(after.verdict.exit_code)


def _preview_all(fixes) -> None:
    for f in fixes:
        _preview(f)


def _preview(f) -> None:
    click.echo(f"\n{f.code} {f.title}\n  {f.fix.summary}")
    for action in f.fix.actions:
        from okedoctor.fixer import preview

        click.echo(f"  [{action.safety}] {action.describe}")
        for line in preview(action):
            click.echo(f"    {line}")


def _applier(opts):
    """The SDK clients of a live run: the OCI reader's clients and a kubernetes ApiClient."""
    from okedoctor.fixer import Applier
    from okedoctor.live import oci_api
    from okedoctor.live.collectors.wires import oci_setup
    from okedoctor.live.kube import make_api_client, resolve_kube_target

    kt = resolve_kube_target(opts.kubeconfig, opts.context, opts.expect_context)
    setup = oci_setup(opts)
    reader = None
    if isinstance(setup, oci_api.OciSetup):
        reader = oci_api.OciReader(setup, region=opts.region, endpoint=opts.oci_endpoint,
                                   timeout=max(5.0, opts.timeout))
    return Applier(reader, make_api_client(kt, pool_size=4), timeout=max(10.0, opts.timeout))
