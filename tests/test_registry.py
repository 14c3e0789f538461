"""Plugin discovery: built-ins by name, entry points, local directories, broken plugins."""

from __future__ import annotations

import importlib
import sys
import textwrap

import okedoctor_checks
import pytest

from okedoctor.check import DOC_SECTIONS
from okedoctor.registry import CHECKS_PATH_ENV, load_registry
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


def test_every_builtin_module_loads_and_every_check_is_well_formed(builtin_registry):
    assert builtin_registry.load_errors == []
    for module in okedoctor_checks.BUILTIN:
        importlib.import_module(module)
    for check in builtin_registry.checks:
        assert check.problems() == [], check
        sections = check.doc_sections()
        assert all(sections[s] for s in DOC_SECTIONS), f"{check.code} has an empty doc section"


def test_one_check_per_builtin_file(builtin_registry):
    per_module = {}
    for check in builtin_registry.checks:
        per_module.setdefault(check.__module__, []).append(check.code)
    assert all(len(codes) == 1 for codes in per_module.values()), per_module


def test_codes_are_unique_and_prefixed_by_hop(builtin_registry):
    # TLS at the edge is checked on the internet hop, under its own prefix; the OCI Native Ingress
    # Controller's checks (OKD-NIC-*) sit on the hops their findings belong to.
    prefixes = {"pod": ("OKD-POD-", "OKD-NIC-"), "node": ("OKD-NODE-",), "nodeport": ("OKD-NP-",),
                "loadbalancer": ("OKD-LB-", "OKD-NIC-"), "internet": ("OKD-INET-", "OKD-TLS-"),
                "cluster": ("OKD-CL-",), "dns": ("OKD-DNS-",), "ingress": ("OKD-ING-", "OKD-NIC-")}
    for check in builtin_registry.checks:
        assert check.code.startswith(prefixes[check.hop.value]), check.code


def test_checks_dir_loads_local_files():
    reg = load_registry([FIXTURES / "checks_ok"], builtins=False, entry_points_enabled=False)
    assert [c.code for c in reg.checks] == ["TEST-WARN-001"]
    assert reg.origin["TEST-WARN-001"].endswith("demo_checks.py")


def test_env_var_adds_check_dirs(monkeypatch):
    monkeypatch.setenv(CHECKS_PATH_ENV, str(FIXTURES / "checks_ok"))
    reg = load_registry(builtins=False, entry_points_enabled=False)
    assert reg.by_code("test-warn-001") is not None


def test_a_broken_plugin_file_is_a_load_error_not_a_crash():
    reg = load_registry([FIXTURES / "checks_bad"], builtins=False, entry_points_enabled=False)
    assert reg.checks == []
    (where, err) = reg.load_errors[0]
    assert where.endswith("broken_check.py") and "module_that_does_not_exist" in err


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A distribution on sys.path that registers checks through the okedoctor.checks entry point."""
    (tmp_path / "okd_plugin_demo.py").write_text(textwrap.dedent('''
        from okedoctor.check import Check
        from okedoctor.model import Fix, Hop

        class PluginCheck(Check):
            """Flags nothing; proves entry-point loading.

            What it checks
                Nothing.
            Why it breaks
                It does not.
            How to fix
                Nothing to fix.
            """
            code = "ACME-POD-001"
            name = "acme-plugin-check"
            hop = Hop.POD

            def run(self, facts):
                return []
    '''))
    dist = tmp_path / "okd_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: okd-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[okedoctor.checks]\nacme = okd_plugin_demo\nbroken = okd_missing_module:Nope\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("okd_plugin_demo", None)


def test_entry_point_plugins_load_and_broken_ones_are_reported(installed_plugin):
    reg = load_registry(builtins=False, entry_points_enabled=True)
    assert reg.origin.get("ACME-POD-001") == "entry-point:acme"
    assert any(where == "entry-point:broken" for where, _ in reg.load_errors)


def test_a_check_without_documentation_is_refused(tmp_path):
    (tmp_path / "undocumented.py").write_text(textwrap.dedent('''
        from okedoctor.check import Check
        from okedoctor.model import Hop

        class Undocumented(Check):
            """No sections here."""
            code = "TEST-POD-009"
            name = "undocumented"
            hop = Hop.POD
    '''))
    reg = load_registry([tmp_path], builtins=False, entry_points_enabled=False)
    assert reg.checks == []
    assert "docstring lacks section" in reg.load_errors[0][1]


def test_a_duplicate_code_is_refused(tmp_path):
    src = (FIXTURES / "checks_ok" / "demo_checks.py").read_text()
    (tmp_path / "again.py").write_text(src)
    reg = load_registry([FIXTURES / "checks_ok", tmp_path], builtins=False, entry_points_enabled=False)
    assert len(reg.checks) == 1
    assert "already registered" in reg.load_errors[0][1]
