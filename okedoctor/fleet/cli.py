"""`okedoctor report`: the scheduled health report over every exposed Service."""

from __future__ import annotations

import sys
import time

import click

from okedoctor.cliopts import (
    checks_dir_option,
    color_option,
    lang_option,
    live_options,
    load_checks,
    load_policy,
    make_live_options,
    namespace_option,
    output_option,
    policy_options,
    refuse_live_only_with_file,
    write_out,
)
from okedoctor.errors import UsageError
from okedoctor.model import ExitCode
from okedoctor.render import fleet_formats, fleet_renderer


def progress(message: str):
    """A spinner on stderr when it is a terminal; nothing at all for cron, pipes and CI."""
    import contextlib

    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(message)


def localized_fleet(fleet, lang: str | None):
    """The fleet as printed: its sentences in the language asked for (state and metrics keep English)."""
    from dataclasses import replace

    from okedoctor.i18n import detect, localize

    language = detect(lang)
    if language == "en":
        return fleet
    return replace(fleet, services=[localize(r, language) for r in fleet.services])


def frozen_handover(snap) -> None:
    """The snapshot (collected, or read from a file) made read-only object by object before the
    checks: Facts would otherwise freeze a copy of it whole, and a fleet's pods and probe answers
    would be held twice while the checks run. Nothing but the snapshot holds them by then."""
    from okedoctor.frozen import freeze_in_place

    freeze_in_place(snap.kubernetes)
    for section in (snap.oci or {}).values():
        freeze_in_place(section)
    for part in snap.live.values():
        freeze_in_place(part)


def _judge(snap, registry, scope, include_nodeport, stats, policy):
    from okedoctor.fleet.run import diagnose_fleet, exposed_services

    targets = exposed_services(snap, scope, include_nodeport)
    with progress(f"diagnosing {len(targets)} services"):
        return diagnose_fleet(snap, registry, targets, stats=stats, policy=policy)


@click.command()
@namespace_option(help="Only this namespace (default: the context's namespace).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace.")
@click.option("--include-nodeport", is_flag=True, help="Also diagnose Services of type NodePort.")
@click.option("--from", "from_file", metavar="FILE",
              help="Report on a snapshot file (no network); without -n it covers every namespace in the file.")
@output_option(fleet_formats())
@lang_option
@color_option
@click.option("--state", "state_file", metavar="FILE",
              help="Remember findings here and report what is new, resolved or persisting.")
@click.option("--only-changes", is_flag=True, help="Print only what changed since the last run (needs --state).")
@click.option("--prometheus-file", metavar="PATH", help="Write node_exporter textfile metrics here (atomically).")
@click.option("--webhook", metavar="URL", envvar="OKEDOCTOR_WEBHOOK_URL",
              help="POST a Slack-compatible message with the changes (also $OKEDOCTOR_WEBHOOK_URL).")
@checks_dir_option()
@policy_options
@live_options
def report(namespace, all_namespaces, include_nodeport, from_file, output, lang, state_file, only_changes,
           prometheus_file, webhook, checks_dir, **kw):
    """Diagnose every Service of type LoadBalancer in one collection pass (cron / CronJob)."""
    from okedoctor.diagnose import malformed_input
    from okedoctor.fleet import state as fleet_state
    from okedoctor.fleet.run import (
        listed_services,
        name_some,
        namespaces_in,
        nothing_to_check,
        probe_codes,
    )

    if namespace and all_namespaces:
        raise UsageError("give -n NAMESPACE or -A, not both")
    if only_changes and not state_file:
        raise UsageError("--only-changes needs --state FILE to compare with")
    if webhook:
        from okedoctor.fleet.webhook import check_url

        check_url(webhook)
    for path, what in ((state_file, "--state"), (prometheus_file, "--prometheus-file")):
        if path:
            fleet_state.check_writable(path, what)
    started = time.perf_counter()
    previous = fleet_state.load_state(state_file) if state_file else None
    registry = load_checks(checks_dir)
    policy = load_policy(registry, kw)
    if from_file:
        refuse_live_only_with_file()
        from okedoctor.snapshot import load_snapshot

        snap, stats = load_snapshot(from_file), {"api_requests": {"kubernetes": 0, "oci": 0}}
        scope = namespace if namespace else None
        if scope is not None and scope not in (known := namespaces_in(snap)):
            raise UsageError(f"namespace {scope} not found in {from_file}; namespaces: {name_some(sorted(known))}")
        listed, scope_unknown = listed_services(snap, scope), None
    else:
        from okedoctor.live import collect_fleet
        from okedoctor.live.progress import ChainProgress

        opts = make_live_options(kw, namespace)
        if previous:
            from dataclasses import replace

            opts = replace(opts, probe_all_pods_of=fleet_state.open_probe_findings(previous, probe_codes(registry)))
        with ChainProgress() as watch:
            result = collect_fleet(namespace, opts, include_nodeport=include_nodeport,
                                   all_namespaces=all_namespaces, watch=watch)
        snap, stats, scope = result.snapshot, result.stats, result.namespace
        listed, scope_unknown = result.listed, result.scope_unknown
        del result

    def guard():
        return malformed_input(from_file) if from_file else malformed_input("the API's answers", ExitCode.UNKNOWN)

    frozen_handover(snap)

    with guard():
        fleet = _judge(snap, registry, scope, include_nodeport, stats, policy)
    fleet.stats["duration_s"] = round(time.perf_counter() - started, 4)
    fleet.scope, fleet.listed, fleet.include_nodeport = scope, listed, include_nodeport
    if not fleet.services:
        fleet.scope_unknown = scope_unknown
        fleet.nothing_to_check = nothing_to_check(listed, scope, include_nodeport) + (
            f"; {scope_unknown}" if scope_unknown else "")
    if state_file:
        fleet.changes = fleet_state.compare(fleet, previous)
        fleet.since = fleet_state.first_seen(fleet, previous)
    with guard():
        shown = localized_fleet(fleet, lang)
        write_out(lambda: fleet_renderer(output)(shown, sys.stdout, only_changes=only_changes))
    if prometheus_file:
        from okedoctor.fleet.prometheus import write_metrics

        write_metrics(prometheus_file, fleet)
    delivered = True
    if webhook and (fleet.changes is None or fleet.changes.any):
        from okedoctor.fleet.webhook import build_message, post
        from okedoctor.safeout import clean_text

        result = post(webhook, build_message(fleet, str(fleet.context.get("kubeContext", "?"))))
        delivered = result.ok
        if not result.ok:
            keep = "; state not saved, so the next run posts these changes again" if state_file else ""
            click.echo(clean_text(f"okedoctor: webhook post failed after {result.attempts} attempt(s): "
                                  f"{result.detail}{keep}"), err=True)
    # Saved only once the changes were delivered: a failed post must not swallow the alert.
    if state_file and delivered:
        fleet_state.save_state(state_file, fleet, previous)
    sys.exit(fleet.verdict.exit_code)
