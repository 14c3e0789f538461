"""`okedoctor scenario expand NAME|FILE`: print the full snapshot file an overlay stands for."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from okedoctor import completion


def _yaml(doc: dict[str, Any]) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# The file formats a snapshot document is written in (not report formats: okedoctor.render.FORMATS).
DOCUMENT_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {"yaml": _yaml, "json": _json}


@click.group()
def scenario():
    """Shipped scenarios and scenario overlays (docs/snapshot-format.md)."""


@scenario.command()
@click.argument("name_or_file", metavar="NAME|FILE", shell_complete=completion.scenarios)
@click.option("-o", "--output", type=click.Choice(list(DOCUMENT_FORMATS)), default="yaml", show_default=True,
              help="Print the snapshot as YAML or JSON.")
def expand(name_or_file, output):
    """Print the full snapshot file of a shipped scenario (by NAME) or of a FILE.

    A scenario written as an overlay (`base: NAME` plus its changes) is expanded onto its base
    cluster; what is printed is an ordinary okedoctor/v1 file that `diagnose --from` and
    `sim serve` read as they read the overlay.
    """
    from okedoctor.overlay import load_document, scenario_path
    from okedoctor.snapshot import snapshot_from_dict

    path = scenario_path(name_or_file)
    doc = load_document(path)
    snapshot_from_dict(doc, str(path))  # refuse, with the loader's one-line reason, what --from would refuse
    click.echo(DOCUMENT_FORMATS[output](doc), nl=False)
