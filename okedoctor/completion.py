"""`okedoctor completion bash|zsh|fish`, and what TAB completes: Service names (from `--from`'s
file, else the cluster, one request with a 3 s deadline), scenario names, check codes and names.

A completion never prints an error or waits long: a shell calls it on every TAB, so any failure
(no kubeconfig, API down) completes nothing.
"""

from __future__ import annotations

import os
from importlib import resources

import click
from click.shell_completion import CompletionItem, get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_OKEDOCTOR_COMPLETE"
LIVE_DEADLINE = 3.0  # a TAB waits no longer for the cluster; $OKEDOCTOR_COMPLETE_TIMEOUT changes it


def _items(values: list[tuple[str, str]], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(v, help=h) for v, h in values if v.startswith(incomplete)]


def services(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """svc/NAME for TARGET: the file's Services with --from, else the cluster's in -n / the context's."""
    try:
        if ctx.params.get("from_file"):
            from okedoctor.snapshot import load_snapshot

            snap = load_snapshot(ctx.params["from_file"])
            ns = ctx.params.get("namespace")
            listed = [(o["metadata"]["name"], str((o.get("spec") or {}).get("type") or "ClusterIP"))
                      for o in snap.kubernetes if o.get("kind") == "Service"
                      and (ns is None or o["metadata"].get("namespace") == ns)]
        else:
            from okedoctor.live.collector import list_services
            from okedoctor.options import LiveOptions

            p = ctx.params
            deadline = float(os.environ.get("OKEDOCTOR_COMPLETE_TIMEOUT") or LIVE_DEADLINE)
            opts = LiveOptions(context=p.get("context"), kubeconfig=p.get("kubeconfig"), timeout=deadline)
            listed = list_services(opts, p.get("namespace"))
    except Exception:  # a TAB must never print a traceback or an error into the command line
        return []
    return _items(sorted((f"svc/{n}", t) for n, t in listed), incomplete)


def scenarios(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The shipped scenarios' names (okedoctor/scenarios/*.yaml), as `demo --list` names them."""
    names = sorted(p.name[:-5] for p in (resources.files("okedoctor") / "scenarios").iterdir()
                   if p.name.endswith(".yaml"))
    return _items([(n, "") for n in names], incomplete)


def check_codes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Codes, and names where a name is accepted too (checks explain, --disable)."""
    from okedoctor.registry import load_registry

    try:
        checks = load_registry(tuple(ctx.params.get("checks_dir") or ()), entry_points_enabled=False).sorted()
    except Exception:
        return []
    values = [(c.code, c.summary()) for c in checks]
    if param.name in ("code", "disables"):
        values += [(c.name, c.code) for c in checks]
    return _items(values, incomplete.upper() if incomplete.lower().startswith("okd") else incomplete)


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    bash:  okedoctor completion bash > ~/.local/share/bash-completion/completions/okedoctor
    zsh:   okedoctor completion zsh > "${fpath[1]}/_okedoctor"
    fish:  okedoctor completion fish > ~/.config/fish/completions/okedoctor.fish
    """
    root = click.get_current_context().find_root().command  # the group, without importing okedoctor.cli
    comp = get_completion_class(shell)(root, {}, "okedoctor", COMPLETE_VAR)
    click.echo(comp.source())
