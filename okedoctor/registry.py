"""Finding checks: built-ins by name, plugins by entry point, local files by directory.

Discovery never crashes the run: a plugin that fails to import becomes a load error that
the runner reports as a `skipped` entry, as pytest reports a broken plugin.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from okedoctor.check import Check
from okedoctor.contain import DEFAULT_TIMEOUT_S
from okedoctor.errors import UsageError

ENTRY_POINT_GROUP = "okedoctor.checks"
CHECKS_PATH_ENV = "OKEDOCTOR_CHECKS_PATH"
PLUGIN_TIMEOUT_ENV = "OKEDOCTOR_PLUGIN_TIMEOUT"


@dataclass
class Registry:
    checks: list[type[Check]] = field(default_factory=list)
    # (where, error) for every plugin that could not be loaded.
    load_errors: list[tuple[str, str]] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # code -> "builtin" | "entry-point:x" | path
    # Plugins run contained (okedoctor/contain.py), each bounded in time; built-ins run inline.
    plugin_timeout_s: float = DEFAULT_TIMEOUT_S
    abandoned: dict[str, str] = field(default_factory=dict)  # code -> why it is not run again

    def is_plugin(self, check: type[Check]) -> bool:
        return self.origin.get(check.code) != "builtin"

    def add(self, check: type[Check], origin: str) -> None:
        problems = check.problems()
        if problems:
            self.load_errors.append((f"{origin}:{check.__name__}", "; ".join(problems)))
            return
        if check.code in self.origin:
            self.load_errors.append(
                (origin, f"code {check.code} already registered by {self.origin[check.code]}")
            )
            return
        self.checks.append(check)
        self.origin[check.code] = origin

    def by_code(self, code: str) -> type[Check] | None:
        code = code.upper()
        return next((c for c in self.checks if c.code == code), None)

    def sorted(self) -> list[type[Check]]:
        return sorted(self.checks, key=lambda c: (c.hop.depth, c.code))


def checks_in_module(module: ModuleType) -> list[type[Check]]:
    """The Check subclasses a module defines itself (not the ones it imports)."""
    return [
        obj for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Check) and obj is not Check
        and obj.__module__ == module.__name__ and not inspect.isabstract(obj)
    ]


def _builtin_modules() -> list[str]:
    import okedoctor_checks  # the built-ins ship as a second top-level package of the wheel

    return list(okedoctor_checks.BUILTIN)


def load_registry(
    checks_dirs: Iterable[str | Path] = (),
    *,
    builtins: bool = True,
    entry_points_enabled: bool = True,
) -> Registry:
    reg = Registry(plugin_timeout_s=_plugin_timeout())
    if builtins:
        for name in _builtin_modules():
            _load_module(reg, name, "builtin")
    if entry_points_enabled and declared_anywhere(ENTRY_POINT_GROUP):
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
            except (Exception, SystemExit) as exc:  # a broken plugin (even one calling exit) must not end the run
                reg.load_errors.append((f"entry-point:{ep.name}", f"{type(exc).__name__}: {exc}"))
                continue
            for check in _as_checks(loaded):
                reg.add(check, f"entry-point:{ep.name}")
    dirs = list(checks_dirs)
    env = os.environ.get(CHECKS_PATH_ENV)
    if env:
        dirs.extend(p for p in env.split(os.pathsep) if p)
    for d in dirs:
        _load_dir(reg, Path(d))
    return reg


def declared_anywhere(group: str) -> bool:
    """Whether a distribution on sys.path may declare entry points of `group`: a text scan of the
    entry_points.txt files. importlib.metadata costs ~40 ms to import and ~15 ms to scan on every
    run, and almost no installation has an okedoctor plugin; it is asked only when one might.
    A path entry that is not a directory (a zip) is left to importlib.metadata."""
    header = re.compile(rf"^\s*\[\s*{re.escape(group)}\s*\]", re.M)
    for entry in sys.path:
        base = entry or "."
        try:
            with os.scandir(base) as found:
                dists = [e.path for e in found if e.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True
        except OSError:
            continue
        for dist in dists:
            try:
                with open(os.path.join(dist, "entry_points.txt"), encoding="utf-8", errors="replace") as fh:
                    if header.search(fh.read()):
                        return True
            except OSError:
                continue
    return False


def _plugin_timeout() -> float:
    raw = os.environ.get(PLUGIN_TIMEOUT_ENV)
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise UsageError(f"{PLUGIN_TIMEOUT_ENV}={raw[:40]!r}: expected seconds, more than 0 and at most 3600")
    return value


def _as_checks(obj: object) -> list[type[Check]]:
    if inspect.ismodule(obj):
        return checks_in_module(obj)
    if inspect.isclass(obj) and issubclass(obj, Check):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [c for c in obj if inspect.isclass(c) and issubclass(c, Check)]
    return []


def _load_module(reg: Registry, name: str, origin: str) -> None:
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        reg.load_errors.append((name, f"{type(exc).__name__}: {exc}"))
        return
    for check in checks_in_module(module):
        reg.add(check, origin)


def _load_dir(reg: Registry, directory: Path) -> None:
    if not directory.is_dir():
        reg.load_errors.append((str(directory), "not a directory"))
        return
    for path in sorted(directory.rglob("*.py")):
        if path.name.startswith("_"):
            continue
        mod_name = f"okedoctor_local_checks.{path.stem}_{abs(hash(str(path)))}"
        try:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            reg.load_errors.append((str(path), f"{type(exc).__name__}: {exc}"))
            continue
        for check in checks_in_module(module):
            reg.add(check, str(path))
