"""`okedoctor diagnose svc/NAME`: walk the chain for one Service, live or from a snapshot file."""

from __future__ import annotations

import sys

import click

from okedoctor import completion
from okedoctor.cliopts import (
    checks_dir_option,
    color_option,
    emit,
    lang_option,
    live_options,
    load_checks,
    load_policy,
    make_live_options,
    namespace_option,
    output_option,
    policy_options,
    refuse_live_only_with_file,
    verbose_option,
)
from okedoctor.errors import UsageError
from okedoctor.options import parse_target
from okedoctor.render import report_formats


@click.command()
@click.argument("target", required=False, shell_complete=completion.services)
@click.option("--from", "from_file", metavar="FILE", help="Diagnose a snapshot/scenario file (no network).")
@namespace_option(help="Namespace of the Service (default: the context's, or the file's).")
@output_option(report_formats())
@verbose_option
@lang_option
@color_option
@click.option("--lb-ocid", metavar="OCID", help="The LB/NLB to check when it was made by hand.")
@checks_dir_option(help="Also load check files from DIR (repeatable).")
@click.option("--watch", "watch_", is_flag=True,
              help="Diagnose again every --interval seconds until ok (or Ctrl-C), printing what changed.")
@click.option("--interval", type=click.FloatRange(min=1, max=3600), default=5.0, show_default=True,
              help="Seconds between two runs of --watch.")
@policy_options
@live_options
def diagnose(target, from_file, namespace, output, verbose, lang, lb_ocid, checks_dir, watch_, interval, **kw):
    """Walk Internet -> LB -> NodePort -> Node -> Pod for one Service (TARGET is svc/NAME), or
    DNS -> ... -> Ingress -> Pod for a URL (https://host/path), ingress/NAME or httproute/NAME."""
    from okedoctor.model import ExitCode

    if watch_ and from_file:
        raise UsageError("--watch re-reads the cluster: it cannot be used with --from FILE")
    checks = _Checks(checks_dir, kw)
    if from_file:
        from okedoctor.diagnose import diagnose_snapshot, malformed_input, resolve_target

        registry, policy = checks.load()
        refuse_live_only_with_file()
        from okedoctor.snapshot import load_snapshot

        snap = load_snapshot(from_file)
        with malformed_input(from_file):
            tgt = resolve_target(snap, parse_target(target, namespace), namespace, from_file)
            report = diagnose_snapshot(snap, tgt, registry, lb_ocid=lb_ocid, policy=policy)
            sys.exit(emit(report, output, verbose, lang))
    if not target:
        raise UsageError("no target: okedoctor diagnose svc/NAME (or --from FILE)")
    from okedoctor.live import collect
    from okedoctor.live.progress import ChainProgress

    opts = make_live_options(kw, namespace, lb_ocid)
    wanted = parse_target(target, namespace, default_namespace="default")

    def once():
        if wanted is not None and (wanted.url or wanted.route):
            from okedoctor.live.urlcollect import collect_url

            checks.load()
            result = collect_url(wanted, opts)  # no live chain line yet: the walk has its own hops
        else:
            with ChainProgress() as watch:
                # The checks load while the first answers are awaited, not before the first request.
                result = collect(wanted, opts, watch=watch, while_waiting=checks.load)
        from okedoctor.diagnose import diagnose_snapshot, malformed_input

        registry, policy = checks.load()
        with malformed_input("the API's answers", ExitCode.UNKNOWN):
            report = diagnose_snapshot(result.snapshot, result.target, registry, lb_ocid=lb_ocid,
                                       stats=result.stats, policy=policy)
        report.context = {**result.snapshot.context, **report.context}
        return report

    if watch_:
        from okedoctor.watch import watch as watch_loop

        # the changes go to stderr: stdout keeps one report in the chosen format, the last one
        report = watch_loop(once, interval, sys.stderr)
    else:
        report = once()
    from okedoctor.diagnose import malformed_input

    with malformed_input("the API's answers", ExitCode.UNKNOWN):
        sys.exit(emit(report, output, verbose, lang))


class _Checks:
    """The registry and the policy of this run, loaded once, when first needed: a live diagnosis
    loads them while its first requests are in flight (0.1 s of imports off the critical path);
    a bad --config or --checks-dir is still one line and exit 64."""

    def __init__(self, checks_dir: tuple[str, ...], kw: dict):
        self.checks_dir = checks_dir
        # consumed now, so the live options never see them
        self.policy_kw = {k: kw.pop(k) for k in ("config_file_path", "excludes", "disables") if k in kw}
        self.loaded: tuple | None = None

    def load(self) -> tuple:
        if self.loaded is None:
            registry = load_checks(self.checks_dir)
            self.loaded = (registry, load_policy(registry, dict(self.policy_kw)))
        return self.loaded
