"""The options and helpers the sub-commands share: the kubectl / oci CLI options, `-o`,
`--timeout`, `--checks-dir`, and writing the output.

The command modules (`okedoctor.commands.*`, `okedoctor.live.cli`, `okedoctor.fleet.cli`,
`okedoctor.demo`) import from here; `okedoctor.cli` only registers them, and nothing imports it
but the entry points (tests/test_imports.py). Importing this module stays cheap: no kubernetes,
no oci, no renderer (`okedoctor --help` and `okedoctor checks list` load it). The live options
parse into `okedoctor.options.LiveOptions`, which the collector takes and which knows no click.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click

from okedoctor.options import AUTH_TYPES, LiveOptions

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


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


def checked_namespace(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """-n NAMESPACE: given, it must be a namespace name (an empty one is not "the default")."""
    if value is None:
        return None
    from okedoctor.errors import UsageError
    from okedoctor.options import check_name

    try:
        return check_name(value, "namespace")
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


def namespace_option(help: str) -> Decorator:
    return click.option("-n", "--namespace", help=help, callback=checked_namespace)


def output_option(formats: Iterable[str], show_default: bool = True) -> Decorator:
    """`-o/--output`, its choices read from a format registry (`okedoctor.render.FORMATS`)."""
    choices = list(formats)
    if "text" not in choices:
        raise ValueError(f"an output option needs the default format 'text' among {choices}")
    return click.option("-o", "--output", type=click.Choice(choices), default="text", show_default=show_default,
                        help="Output format (docs/output.md).")


def timeout_option(help: str | None = None) -> Decorator:
    """`--timeout SECONDS`: one deadline for the whole run; positive, finite, at most a day."""
    return click.option("--timeout", type=click.FloatRange(min=0, min_open=True, max=86400), default=30.0,
                        show_default=True, callback=finite_seconds,
                        help=help or "One deadline in seconds for the whole run.")


def checks_dir_option(help: str | None = None) -> Decorator:
    """`--checks-dir DIR` (repeatable): more check files to load; see `load_checks`."""
    return click.option("--checks-dir", multiple=True, metavar="DIR",
                        help=help or "Also load check files from DIR (repeatable; docs/writing-checks.md).")


def _complete_checks(ctx: click.Context, param: click.Parameter, incomplete: str):
    from okedoctor.completion import check_codes

    return check_codes(ctx, param, incomplete)


def policy_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--config`, `--exclude`, `--disable`: what to silence, override or not run (okedoctor.config)."""
    opts = [
        click.option("--config", "config_file_path", metavar="FILE", envvar="OKEDOCTOR_CONFIG",
                     help="Silences and severity overrides (default: ./.okedoctor.yaml if present; "
                          "also $OKEDOCTOR_CONFIG). See docs/configuration.md."),
        click.option("--exclude", "excludes", multiple=True, metavar="CODE", shell_complete=_complete_checks,
                     help="Silence the findings of this code for this run (repeatable; counted in the report)."),
        click.option("--disable", "disables", multiple=True, metavar="CHECK", shell_complete=_complete_checks,
                     help="Do not run this check, by code or name (repeatable)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def load_policy(registry, kw: dict[str, Any]):
    """The Policy of this run from the `policy_options` values in `kw` (consumed)."""
    from okedoctor.config import load_policy as _load

    return _load(kw.pop("config_file_path", None), registry, tuple(kw.pop("excludes", ()) or ()),
                 tuple(kw.pop("disables", ()) or ()))


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
        timeout_option(help="One deadline in seconds for the whole run."),
        click.option("--oci-endpoint", envvar="OKEDOCTOR_OCI_ENDPOINT", hidden=True),
        click.option("--internet-redirect", envvar="OKEDOCTOR_INTERNET_REDIRECT", hidden=True,
                     callback=set_but_empty),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


# What only a live run reads: given on the command line with --from, it would be silently ignored.
LIVE_ONLY = ("context", "kubeconfig", "expect_context", "profile", "config_file", "auth", "region", "compartment_ids")


def refuse_live_only_with_file() -> None:
    """`--from FILE --context X`: an error, not a run that ignores X (the environment's
    KUBECONFIG, OCI_CLI_PROFILE... are fine: they were not given for this run)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    given = [p for p in ctx.command.params if p.name in LIVE_ONLY
             and ctx.get_parameter_source(p.name) is ParameterSource.COMMANDLINE]
    if given:
        flags = ", ".join(p.opts[-1] for p in given)
        raise click.UsageError(f"{flags} {'is' if len(given) == 1 else 'are'} for a live run and --from reads a "
                               f"file: drop {'it' if len(given) == 1 else 'them'}, or drop --from to diagnose the "
                               "cluster")


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
    """The built-in checks, the plugins' (unless OKEDOCTOR_DISABLE_PLUGIN_AUTOLOAD) and `--checks-dir`'s."""
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


def _set_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    from okedoctor.render import COLOR

    COLOR["mode"] = value or "auto"  # every run sets it: an earlier in-process run's choice must not stay


def color_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--color auto|always|never`: auto colours a terminal only and honours NO_COLOR."""
    return click.option("--color", type=click.Choice(("auto", "always", "never")), default=None, expose_value=False,
                        callback=_set_color, help="Colour the text output: auto (a terminal, unless NO_COLOR is "
                                                  "set), always (also in a pipe, e.g. for less -R) or never.")(fn)


def verbose_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-v", "--verbose", is_flag=True,
                        help="Text: every evidence field in full, and the kube context's finding "
                             "(JSON always has all of it).")(fn)


def lang_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--lang", type=click.Choice(("en", "ja")), default=None,
                        help="Language of titles, fixes, hop names and the verdict (default: from "
                             "LC_ALL / LC_MESSAGES / LANG, e.g. ja_JP.UTF-8); codes, commands and JSON keys "
                             "stay as they are.")(fn)


def emit(report, fmt: str, verbose: bool = False, lang: str | None = None) -> int:
    """Write one Service's report in format `fmt` to stdout; return its verdict's exit code."""
    from okedoctor.i18n import detect, localize
    from okedoctor.render import renderer

    language = detect(lang)
    shown = localize(report, language)
    write_out(lambda: renderer(fmt, verbose, language)(shown, sys.stdout))
    return report.verdict.exit_code
