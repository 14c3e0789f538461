"""One registry of output formats (okedoctor.render.FORMATS) feeds every `-o` choice."""

from __future__ import annotations

import inspect

import click
import pytest

from okedoctor.render import FORMATS, Format, fleet_formats, fleet_renderer, renderer, report_formats


def output_choices(command: click.Command) -> list[str]:
    (option,) = [p for p in command.params if p.name == "output"]
    return list(option.type.choices)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_registered_format_names_functions_that_exist(name):
    if FORMATS[name].report:
        extra = [opt for opt in ("verbose", "lang") if getattr(FORMATS[name], opt)]
        assert list(inspect.signature(renderer(name)).parameters) == ["report", "out", *extra]
    if FORMATS[name].fleet:
        assert list(inspect.signature(fleet_renderer(name)).parameters) == ["fleet", "out", "only_changes"]


def test_a_format_for_the_fleet_report_only_is_one_entry(monkeypatch):
    """`report -o html` (interfaces.md) renders a fleet and no single report: not a diagnose choice."""
    monkeypatch.setitem(FORMATS, "html", Format(None, "okedoctor.fleet.render:render_markdown"))
    assert "html" in fleet_formats() and "html" not in report_formats()
    assert fleet_renderer("html") is fleet_renderer("markdown")
    with pytest.raises(KeyError, match="no report format 'html'"):
        renderer("html")


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


def test_every_output_option_reads_its_registry():
    from okedoctor.cli import cli
    from okedoctor.commands.checks import LISTINGS
    from okedoctor.scenario_cli import DOCUMENT_FORMATS

    expected = {("diagnose",): report_formats(), ("demo",): report_formats(), ("report",): fleet_formats(),
                ("checks", "list"): tuple(LISTINGS), ("scenario", "expand"): tuple(DOCUMENT_FORMATS)}
    found = {path: tuple(output_choices(cmd)) for path, cmd in all_commands(cli)
             if any(p.name == "output" for p in cmd.params)}
    assert found == expected
    assert tuple(LISTINGS) == ("text", "json", "markdown")
    assert report_formats() == ("text", "json", "markdown", "junit")
    assert fleet_formats() == ("text", "json", "markdown", "junit", "html")


def test_an_unknown_format_is_refused_not_rendered_as_text():
    with pytest.raises(KeyError, match="yaml"):
        renderer("yaml")
    with pytest.raises(KeyError, match="yaml"):
        fleet_renderer("yaml")
