"""What the code imports, read from the source with ast (every import, also those inside functions).

- The command layer's arrows point one way: `okedoctor.cli` registers the sub-commands and only
  the entry points import it; the sub-commands take their shared options from `okedoctor.cliopts`.
"""

from __future__ import annotations

import ast
import importlib
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click

from tests.conftest import ROOT

DISPATCHER = "okedoctor.cli"
# The modules allowed to import the dispatcher: `python -m okedoctor`. The console scripts name
# okedoctor.cli:main in pyproject.toml (checked below).
ENTRY_POINTS = {"okedoctor.__main__"}


def module_name(path: Path) -> str:
    """The import name of a source file (checks/ installs as okedoctor_checks)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts[0] = "okedoctor_checks" if parts[0] == "checks" else parts[0]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files(*tops: str) -> Iterator[Path]:
    for top in tops:
        yield from sorted((ROOT / top).rglob("*.py"))


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) for every import in the file; `from a import b` yields a and a.b."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def test_nothing_but_the_entry_points_imports_the_dispatcher():
    offenders = [f"{path.relative_to(ROOT)}:{line} imports {module}"
                 for path in source_files("okedoctor", "checks") if module_name(path) not in ENTRY_POINTS
                 for module, line in imports(path) if module == DISPATCHER or module.startswith(DISPATCHER + ".")]
    assert offenders == [], "import shared options from okedoctor.cliopts, not okedoctor.cli:\n" + "\n".join(offenders)


def test_the_console_scripts_are_the_dispatcher():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts.values()) == {f"{DISPATCHER}:main"}


def test_the_dispatcher_only_registers_commands_that_live_elsewhere():
    cli = importlib.import_module(DISPATCHER)
    for name, (path, _) in cli.LAZY_COMMANDS.items():
        module, _, attr = path.partition(":")
        assert module != DISPATCHER, name
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command) and command.name == name, path
    defined_here = [k for k, v in vars(cli).items()
                    if isinstance(v, click.Command) and v.callback.__module__ == DISPATCHER]
    assert defined_here == ["cli"]


def test_the_shared_options_import_no_command():
    commands = {DISPATCHER, "okedoctor.commands", "okedoctor.demo", "okedoctor.live.cli", "okedoctor.fleet.cli",
                "okedoctor.sim.cli"}
    found = [m for m, _ in imports(ROOT / "okedoctor" / "cliopts.py")
             if any(m == c or m.startswith(c + ".") for c in commands)]
    assert found == []
