"""`okedoctor snapshot svc/NAME -f FILE`: write one diagnosis' facts as a snapshot file."""

from __future__ import annotations

import click

from okedoctor.cliopts import live_options, make_live_options, namespace_option
from okedoctor.errors import UsageError
from okedoctor.options import parse_target


@click.command()
@click.argument("target")
@click.option("-f", "--file", "out_file", required=True, metavar="FILE",
              help="Where to write the snapshot (YAML; JSON when the name ends in .json).")
@namespace_option(help="Namespace of the Service (default: the context's).")
@click.option("--lb-ocid", metavar="OCID", help="The LB/NLB to read when it was made by hand.")
@click.option("--force", is_flag=True, help="Overwrite FILE when it exists.")
@live_options
def snapshot(target, out_file, namespace, lb_ocid, force, **kw):
    """Collect the facts of one diagnosis and write them as a snapshot for a ticket: only the
    fields the checks read, every string redacted (no user_data, tags or unrelated annotations).

    Diagnose it later, or elsewhere, with `okedoctor diagnose --from FILE`.
    """
    from pathlib import Path

    from okedoctor.live import collect
    from okedoctor.safeout import clean_text
    from okedoctor.snapshot import dump_snapshot
    from okedoctor.ticket import for_ticket

    # Refused before any request: an incident's earlier snapshot is evidence, not scratch.
    if Path(out_file).is_dir():
        raise UsageError(f"{out_file} is a directory; give a file path with -f")
    if Path(out_file).exists() and not force:
        raise UsageError(f"{out_file} exists; pass --force to overwrite it, or give another -f FILE")
    from okedoctor.live.progress import ChainProgress

    opts = make_live_options(kw, namespace, lb_ocid)
    wanted = parse_target(target, namespace, default_namespace="default")
    if wanted is not None and (wanted.url or wanted.route):
        from okedoctor.live.urlcollect import collect_url

        result = collect_url(wanted, opts)  # records live.dns and the certificate the URL served
    else:
        with ChainProgress() as watch:
            result = collect(wanted, opts, watch=watch)
    try:
        dump_snapshot(for_ticket(result.snapshot), out_file)
    except OSError as exc:
        raise UsageError(f"cannot write {out_file}: {exc.strerror or exc}") from None
    snap = result.snapshot
    gaps = ", ".join(f"{k} {v['kind']}" for k, v in sorted(snap.collection.items()))
    reqs = ", ".join(f"{api} {n}" for api, n in result.stats["api_requests"].items())
    click.echo(clean_text(f"wrote {out_file}: {result.target} from context {snap.context.get('kubeContext')} "
                          f"(cluster {snap.context.get('cluster')}); {len(snap.kubernetes)} Kubernetes objects, "
                          f"requests {reqs}" + (f"; not collected: {gaps}" if gaps else "")), err=True)
