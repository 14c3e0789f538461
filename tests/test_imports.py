"""What the code imports, read from the source with ast (every import, also those inside functions).

- The command layer's arrows point one way: `okedoctor.cli` registers the sub-commands and only
  the entry points import it; the sub-commands take their shared options from `okedoctor.cliopts`.
- Every third-party package imported is declared in pyproject.toml: what okedoctor/ and checks/
  import in [project].dependencies (a wheel install gets nothing else), what only the tests and
  bench/ import in the `test` extra. A package that merely arrives with another (cryptography
  with oci, urllib3 with kubernetes) can leave when that one changes its own requirements.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click

from tests.conftest import ROOT

DISPATCHER = "okedoctor.cli"
# The modules allowed to import the dispatcher: `python -m okedoctor`. The console scripts name
# okedoctor.cli:main in pyproject.toml (checked below).
ENTRY_POINTS = {"okedoctor.__main__"}


# Our own top-level packages, and a module tests/fixtures/checks_bad imports to fail on purpose.
OWN = {"okedoctor", "okedoctor_checks", "tests", "bench"}
MISSING_ON_PURPOSE = {"module_that_does_not_exist"}


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


def top_level_imports(*tops: str) -> dict[str, list[str]]:
    """Absolute imports that are neither stdlib nor ours: top-level name -> where; plus the
    `pytest.importorskip("name")` of the tests, an import in all but syntax."""
    found: dict[str, list[str]] = {}
    for path in source_files(*tops):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "importorskip" and node.args and isinstance(node.args[0], ast.Constant)):
                names = [node.args[0].value]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OWN | MISSING_ON_PURPOSE | {"__future__"}:
                    found.setdefault(top, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {normalize(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req).group(0)) for req in requirements}


def undeclared(imported: dict[str, list[str]], allowed: set[str]) -> list[str]:
    dists = importlib.metadata.packages_distributions()
    out = []
    for name, where in sorted(imported.items()):
        candidates = dists.get(name)
        if not candidates:
            out.append(f"{name} (imported at {where[0]}) is not installed, so no distribution provides it")
        elif not allowed & {normalize(d) for d in candidates}:
            out.append(f"{name}: declare {' or '.join(sorted(set(candidates)))} (imported at {', '.join(where[:3])})")
    return out


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_runtime_imports_are_declared_dependencies():
    imported = top_level_imports("okedoctor", "checks")
    assert {"click", "kubernetes", "oci", "cryptography"} <= set(imported)  # the walk sees them
    missing = undeclared(imported, declared(project()["dependencies"]))
    assert missing == [], "\n".join(missing)


def test_the_test_imports_are_declared_in_the_test_extra():
    meta = project()
    allowed = declared(meta["dependencies"]) | declared(meta["optional-dependencies"]["test"])
    imported = top_level_imports("tests", "bench")
    assert {"pytest", "jsonschema", "kubernetes_validate"} <= set(imported)
    missing = undeclared(imported, allowed)
    assert missing == [], "\n".join(missing)
