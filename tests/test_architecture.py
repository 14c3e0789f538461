"""The layering the architecture page promises, checked on the code itself.

docs/architecture.md: checks import the chain view, the model and Facts, never another check;
there is no import cycle; codes a check ties its findings to name registered checks; and a
fleet run's per-Service state cannot leak from one Service to the next.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from okedoctor.chain import causes as chain_causes
from okedoctor.chain import health, lb, nodes
from okedoctor.facts import _FACTS_DATA, Facts
from okedoctor.model import Target
from okedoctor.snapshot import load_snapshot
from tests.conftest import ROOT, SCENARIOS_DIR


def _module(path: Path) -> str:
    """The import name of a source file (checks/ installs as okedoctor_checks)."""
    rel = path.relative_to(ROOT).with_suffix("")
    parts = ["okedoctor_checks" if p == "checks" and i == 0 else p for i, p in enumerate(rel.parts)]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Modules a file imports, lazy imports in functions included.

    `from pkg import mod` depends on pkg.mod, not on pkg's __init__ (which may import it
    lazily in turn: that is no cycle)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            out |= subs if len(subs) == len(node.names) else {node.module, *subs}
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    files = [*ROOT.joinpath("okedoctor").rglob("*.py"), *ROOT.joinpath("checks").rglob("*.py")]
    modules = {_module(f): f for f in files}
    return {m: {i for i in _imports(f, set(modules)) if i in modules and i != m} for m, f in modules.items()}


def test_no_check_imports_another_check_module():
    offenders = [f"{m} imports {i}" for m, deps in _graph().items() if m.startswith("okedoctor_checks.")
                 for i in deps if i.startswith("okedoctor_checks.")]
    assert offenders == []


def test_the_chain_view_and_the_core_never_import_a_check():
    offenders = [f"{m} imports {i}" for m, deps in _graph().items() if m.startswith("okedoctor.")
                 for i in deps if i.startswith("okedoctor_checks.")]
    assert offenders == []


def test_there_is_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for dep in sorted(graph.get(m, ())):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep] if dep in path else [m, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_codes_the_chain_names_are_registered_checks(builtin_registry):
    codes = {c.code for c in builtin_registry.checks}
    named = {v for mod in (health, lb, nodes, chain_causes) for k, v in vars(mod).items()
             if k.isupper() and isinstance(v, str) and re.fullmatch(r"OKD-[A-Z]+-\d{3}", v)}
    assert len(named) >= 20
    assert sorted(named - codes) == []


def test_retarget_shares_indices_and_nothing_per_target():
    facts = Facts(load_snapshot(SCENARIOS_DIR / "hand-made-nlb-by-backends.yaml"))
    assert set(facts.__dict__) == _FACTS_DATA  # every field __init__ sets is carried by retarget
    services = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in facts.services]
    seen = {}
    for ns, name in services:
        view = facts.retarget(Target(ns, name))
        seen[name] = (view.service["metadata"]["name"], view.load_balancer and view.load_balancer.id)
        assert view.worker_subnets is facts.worker_subnets or not facts.worker_subnets
    # each Service sees its own Service and its own load balancer, whatever was cached before
    assert all(svc == name for name, (svc, _) in seen.items())
    lbs = [lb_id for _, lb_id in seen.values() if lb_id]
    assert len(lbs) == len(set(lbs)) >= 2


def test_the_wheel_lists_every_package_of_the_source_tree():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {_module(init) for top in ("okedoctor", "checks") for init in ROOT.joinpath(top).rglob("__init__.py")
               if "__pycache__" not in init.parts}
    assert sorted(on_disk - listed) == [] and sorted(listed - on_disk) == []
    # no top-level package named like something else's
    assert not {p for p in listed if p.split(".")[0] not in ("okedoctor", "okedoctor_checks")}


def test_chain_derivations_are_worked_out_once_per_target():
    from okedoctor.chain.lb import port_pairs

    facts = Facts(load_snapshot(SCENARIOS_DIR / "hand-made-nlb-by-backends.yaml"))
    app = facts.retarget(Target("default", "app"))
    admin = facts.retarget(Target("default", "admin"))
    assert port_pairs(app) is port_pairs(app)  # every check of one target shares it
    assert [p.node_port for p in port_pairs(app)] != [p.node_port for p in port_pairs(admin)]
