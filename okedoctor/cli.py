"""The command line: the command group, the sub-commands registered by name, and `main`,
which turns errors into one line and a documented exit code. No logic and no options live here.

Sub-commands load lazily (`LAZY_COMMANDS`), so `okedoctor --help` and `okedoctor checks list`
never import the kubernetes or oci packages, which cost most of a second. A sub-command lives in
its own module and takes its shared options from `okedoctor.cliopts`; nothing imports this
module but the entry points (tests/test_imports.py).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading

import click

from okedoctor import __version__, clock
from okedoctor.errors import OkedoctorError
from okedoctor.model import ExitCode

# name -> (module:attribute, one-line help). Listed here so `--help` needs no import.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "diagnose": ("okedoctor.commands.diagnose:diagnose",
                 "Walk Internet -> LB -> NodePort -> Node -> Pod for one Service."),
    "checks": ("okedoctor.commands.checks:checks", "List the checks or explain one."),
    "fix": ("okedoctor.commands.fix:fix",
            "Apply the fixes of a Service's root causes (asks first), then diagnose again."),
    "sim": ("okedoctor.sim.cli:sim", "Serve a scenario or snapshot as a simulated OKE on loopback."),
    "report": ("okedoctor.fleet.cli:report", "Diagnose every exposed Service: the cron / CronJob health report."),
    "snapshot": ("okedoctor.live.cli:snapshot", "Write one diagnosis' facts to a file for a ticket (redacted)."),
    "demo": ("okedoctor.demo:demo", "Diagnose a shipped scenario live against the embedded simulated OKE."),
    "scenario": ("okedoctor.scenario_cli:scenario", "Print the full snapshot file of a shipped scenario or overlay."),
    "completion": ("okedoctor.completion:completion", "Print the shell completion script (bash, zsh, fish)."),
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


def prog_name() -> str:
    """`kubectl okedoctor` when kubectl runs us as its plugin (kubectl-okedoctor), so help says what to type."""
    return "kubectl okedoctor" if os.path.basename(sys.argv[0] or "").startswith("kubectl-") else "okedoctor"


def one_line(message: str) -> str:
    """An error message as the one line cron mails and scripts read, whatever values it quotes."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


class Terminated(BaseException):
    """SIGTERM (or SIGHUP), raised where the process is, so cleanup (`finally`) runs as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def _on_termination() -> dict[int, object]:
    """Let SIGTERM and SIGHUP unwind the stack: by default they end the process where it stands,
    leaving the temporary file of an atomic write (.metrics.prom.*, .state.json.*) behind."""
    previous: dict[int, object] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # only the main thread may set handlers (in-process callers, tests)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, _raise_terminated)
    return previous


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors and documented exit codes, never a traceback."""
    clock.mark_start(process=argv is None)  # argv is given by tests running commands in-process
    previous = _on_termination()
    try:
        _run(argv)
    except SystemExit as exc:
        if argv is not None:
            raise
        _exit_now(exc.code)
    finally:
        clock.forget_start()
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _exit_now(code: object) -> None:
    """End the process without the interpreter's teardown: a read still stuck in a server that
    trickles or hangs must not hold the exit past --timeout (nor may tearing down the clients'
    modules, seconds of CPU on a loaded machine). Everything the command writes is written by
    now; only the streams need flushing."""
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said there
            stream.flush()
    os._exit(status)


def _run(argv: list[str] | None) -> None:
    try:
        cli.main(args=argv, prog_name=prog_name(), complete_var="_OKEDOCTOR_COMPLETE", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("okedoctor: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        _error(exc.format_message())
        sys.exit(ExitCode.USAGE)
    except OkedoctorError as exc:
        _error(str(exc))
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        sys.exit(130)
    except Terminated as exc:
        sys.exit(128 + exc.signum)  # what a shell reports for a process the signal ended
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)


if __name__ == "__main__":
    main()


def _error(message: str) -> None:
    """The one error line: it may quote the cluster, an API's answer or a file (names, bodies)."""
    from okedoctor.safeout import clean_text

    click.echo(f"okedoctor: {one_line(clean_text(message))}", err=True)
