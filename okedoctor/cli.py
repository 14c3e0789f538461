"""The command line: parse, dispatch, return an exit code. No logic lives here.

Sub-commands load lazily (`LAZY_COMMANDS`), so `okedoctor --help` and `okedoctor checks list`
never import the kubernetes or oci packages, which cost most of a second.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from okedoctor import __version__
from okedoctor.errors import OkedoctorError, UsageError
from okedoctor.model import ExitCode
from okedoctor.options import AUTH_TYPES, LiveOptions, parse_target
from okedoctor.render import renderer, report_formats

# name -> (module:attribute, one-line help). Listed here so `--help` needs no import.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "diagnose": ("okedoctor.cli:diagnose", "Walk Internet -> LB -> NodePort -> Node -> Pod for one Service."),
    "checks": ("okedoctor.cli:checks", "List the checks or explain one."),
    "sim": ("okedoctor.sim.cli:sim", "Serve a scenario or snapshot as a simulated OKE on loopback."),
    "report": ("okedoctor.fleet.cli:report", "Diagnose every exposed Service: the cron / CronJob health report."),
    "snapshot": ("okedoctor.live.cli:snapshot", "Write the facts of one diagnosis to a snapshot file (redacted)."),
    "demo": ("okedoctor.demo:demo", "Diagnose a shipped scenario live against the embedded simulated OKE."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            path, _ = LAZY_COMMANDS[name]
            module, attr = path.split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, LAZY_COMMANDS[name][1]) for name in sorted(LAZY_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="okedoctor")
def cli() -> None:
    """Diagnose why a Service on OKE cannot be reached.

    Exit codes: 0 healthy, 1 warnings, 2 the chain is broken, 3 unknown (checks could not
    run), 64 usage error.
    """


def finite_seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if value != value:  # NaN passes every range comparison
        raise click.BadParameter("must be a number of seconds")
    return value


def set_but_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An environment variable that is set but empty is "", not unset (click reads it as unset).

    OKEDOCTOR_INTERNET_REDIRECT='' (what the simulator exports for a file without `live.internet`)
    is an empty redirect map, which lets nothing through; unset means no map at all.
    """
    if value is None and isinstance(param.envvar, str) and param.envvar in os.environ:
        return os.environ[param.envvar]
    return value


def live_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The kubectl / oci CLI options every live command takes."""
    opts = [
        click.option("--context", help="Kube context to use (default: the current one)."),
        click.option("--kubeconfig", envvar="KUBECONFIG", help="Path of the kubeconfig (also $KUBECONFIG)."),
        click.option("--expect-context", metavar="NAME",
                     help="Refuse to run unless the kube context is NAME (guards against a forgotten switch)."),
        click.option("--profile", envvar="OCI_CLI_PROFILE", help="OCI config profile (also $OCI_CLI_PROFILE)."),
        click.option("--config-file", envvar="OCI_CLI_CONFIG_FILE",
                     help="OCI config file (also $OCI_CLI_CONFIG_FILE; default ~/.oci/config)."),
        click.option("--auth", type=click.Choice(AUTH_TYPES), envvar="OCI_CLI_AUTH", help="OCI auth type."),
        click.option("--region", envvar="OCI_CLI_REGION", help="OCI region (default: config, then node labels)."),
        click.option("--compartment-id", "compartment_ids", multiple=True, metavar="OCID",
                     help="Also look for load balancers in this compartment (repeatable); the cluster's, the "
                          "Service's and the nodes' compartments are always searched."),
        click.option("--no-exec", is_flag=True, help="Do not run the in-pod probe (no pods/exec)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True, max=86400), default=30.0,
                     show_default=True, callback=finite_seconds, help="One deadline in seconds for the whole run."),
        click.option("--oci-endpoint", envvar="OKEDOCTOR_OCI_ENDPOINT", hidden=True),
        click.option("--internet-redirect", envvar="OKEDOCTOR_INTERNET_REDIRECT", hidden=True,
                     callback=set_but_empty),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def make_live_options(kw: dict[str, Any], namespace: str | None, lb_ocid: str | None = None) -> LiveOptions:
    return LiveOptions(
        context=kw.get("context"), kubeconfig=kw.get("kubeconfig"), namespace=namespace,
        expect_context=kw.get("expect_context"), profile=kw.get("profile"),
        config_file=kw.get("config_file"), auth=kw.get("auth"), region=kw.get("region"),
        lb_ocid=lb_ocid, compartment_ids=tuple(kw.get("compartment_ids") or ()),
        no_exec=bool(kw.get("no_exec")), timeout=float(kw.get("timeout") or 30.0),
        oci_endpoint=kw.get("oci_endpoint"), internet_redirect=kw.get("internet_redirect"),
    )


def load_checks(checks_dirs: tuple[str, ...]):
    from okedoctor.registry import load_registry

    no_ep = os.environ.get("OKEDOCTOR_DISABLE_PLUGIN_AUTOLOAD", "") not in ("", "0")
    return load_registry(checks_dirs, entry_points_enabled=not no_ep)


def write_out(render: Callable[[], None]) -> None:
    """Run a renderer; a reader that went away (`| head`) ends the output, not the run."""
    try:
        render()
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def emit(report, fmt: str) -> int:
    write_out(lambda: renderer(fmt)(report, sys.stdout))
    return report.verdict.exit_code


@cli.command()
@click.argument("target", required=False)
@click.option("--from", "from_file", metavar="FILE", help="Diagnose a snapshot/scenario file (no network).")
@click.option("-n", "--namespace", help="Namespace of the Service (default: the context's, or the file's).")
@click.option("-o", "--output", type=click.Choice(report_formats()), default="text", show_default=True)
@click.option("--lb-ocid", metavar="OCID", help="The LB/NLB to check when it was made by hand.")
@click.option("--checks-dir", multiple=True, metavar="DIR", help="Also load check files from DIR (repeatable).")
@live_options
def diagnose(target, from_file, namespace, output, lb_ocid, checks_dir, **kw):
    """Walk Internet -> LB -> NodePort -> Node -> Pod for one Service (TARGET is svc/NAME)."""
    from okedoctor.diagnose import diagnose_snapshot, resolve_target

    registry = load_checks(checks_dir)
    if from_file:
        from okedoctor.snapshot import load_snapshot

        snap = load_snapshot(from_file)
        tgt = resolve_target(snap, parse_target(target, namespace), namespace, from_file)
        report = diagnose_snapshot(snap, tgt, registry, lb_ocid=lb_ocid)
    else:
        if not target:
            raise UsageError("no target: okedoctor diagnose svc/NAME (or --from FILE)")
        from okedoctor.live import collect

        opts = make_live_options(kw, namespace, lb_ocid)
        result = collect(parse_target(target, namespace, default_namespace="default"), opts)
        report = diagnose_snapshot(result.snapshot, result.target, registry, lb_ocid=lb_ocid,
                                   stats=result.stats)
        report.context = {**result.snapshot.context, **report.context}
    sys.exit(emit(report, output))


@cli.group()
def checks() -> None:
    """List the registered checks or explain one."""


def listing_text(rows: list[dict]) -> list[str]:
    width = max((len(r["name"]) for r in rows), default=4)
    return [f"{r['code']:<13} {r['hop']:<13} {r['severity']:<8} {r['name']:<{width}}  {r['summary']}" for r in rows]


def listing_json(rows: list[dict]) -> list[str]:
    import json

    return [json.dumps(rows, indent=2)]


def checks_markdown(rows: list[dict]) -> str:
    out = ["# Checks", "", "Generated by `okedoctor checks list -o markdown`; "
           "`okedoctor checks explain CODE` prints each one's documentation.", ""]
    for hop in ("pod", "node", "nodeport", "loadbalancer", "internet", "cluster"):
        here = [r for r in rows if r["hop"] == hop]
        if here:
            out += [f"## {hop}", "", "| code | name | severity | what it finds |", "| --- | --- | --- | --- |"]
            out += [f"| `{r['code']}` | {r['name']} | {r['severity']} | {r['summary']} |" for r in here]
            out.append("")
    return "\n".join(out)


# The formats of `checks list -o`: name -> the lines it prints for the rows. A table of checks,
# not a diagnosis, so not the report formats of okedoctor.render.FORMATS.
LISTINGS: dict[str, Callable[[list[dict]], list[str]]] = {
    "text": listing_text,
    "json": listing_json,
    "markdown": lambda rows: [checks_markdown(rows)],
}


@checks.command("list")
@click.option("--checks-dir", multiple=True, metavar="DIR")
@click.option("-o", "--output", type=click.Choice(list(LISTINGS)), default="text")
def checks_list(checks_dir, output):
    """Every check: code, hop, severity and a one-line summary (markdown: docs/checks.md)."""
    registry = load_checks(checks_dir)
    rows = [
        {"code": c.code, "name": c.name, "hop": c.hop.value, "severity": c.severity.value,
         "summary": c.summary(), "origin": registry.origin.get(c.code, "")}
        for c in registry.sorted()
    ]
    for line in LISTINGS[output](rows):
        click.echo(line)
    for where, err in registry.load_errors:
        click.echo(f"warning: could not load checks from {where}: {err}", err=True)


@checks.command("explain")
@click.argument("code")
@click.option("--checks-dir", multiple=True, metavar="DIR")
def checks_explain(code, checks_dir):
    """Print a check's documentation."""
    registry = load_checks(checks_dir)
    check = registry.by_code(code)
    if not check:
        raise UsageError(f"no check with code {code!r}; see okedoctor checks list")
    click.echo(f"{check.code}  {check.name}  (hop: {check.hop.value}, severity: {check.severity.value})\n")
    click.echo(check.doc())


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors and documented exit codes, never a traceback."""
    try:
        cli.main(args=argv, prog_name="okedoctor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("okedoctor: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"okedoctor: {exc.format_message()}", err=True)
        sys.exit(ExitCode.USAGE)
    except OkedoctorError as exc:
        click.echo(f"okedoctor: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)


if __name__ == "__main__":
    main()
