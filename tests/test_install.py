"""A plain (non-editable) `pip install .` ships the built-in checks, the scenarios and the schema.

The fresh venv borrows the dependencies of the running interpreter through a .pth file, so
the test proves what the wheel contains without downloading kubernetes and oci a second time.
It runs from another folder, so nothing can be imported from the source tree by accident.
It is offline (the session has loopback only): the wheel is built with the test environment's own
setuptools (the `test` extra brings one that builds wheels) instead of one fetched into an
isolated build environment, and installed without an index.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
import venv
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    env_dir = tmp_path_factory.mktemp("fresh-venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                      text=True).strip()
    # Dependencies come from the running environment; okedoctor itself must come from the wheel.
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "zz_deps.pth").write_text("\n".join(deps) + "\n")
    wheels = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index",
                            "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, cwd=env_dir)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("okedoctor-*.whl")
    install = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                             capture_output=True, text=True, cwd=env_dir)
    assert install.returncode == 0, install.stderr[-2000:]
    return env_dir


def okedoctor(env_dir, *args):
    return subprocess.run([env_dir / "bin" / "okedoctor", *args], capture_output=True, text=True, cwd=env_dir)


def test_installed_package_is_not_the_source_tree(installed):
    out = subprocess.check_output(
        [installed / "bin" / "python", "-c", "import okedoctor, okedoctor_checks, importlib.util; "
         "print(okedoctor.__file__, okedoctor_checks.__file__, importlib.util.find_spec('checks'))"],
        text=True, cwd=installed)
    assert str(ROOT) not in out and "site-packages" in out
    # the built-ins ship under the project's name, not as a top-level `checks` of site-packages
    assert out.split()[-1] == "None"


def test_installed_diagnose_from_shipped_scenario_validates(installed):
    site_pkgs = subprocess.check_output(
        [installed / "bin" / "python", "-c", "import okedoctor, os; print(os.path.dirname(okedoctor.__file__))"],
        text=True, cwd=installed).strip()
    scenario = Path(site_pkgs) / "scenarios" / "healthy-nlb.yaml"
    schema = json.loads((Path(site_pkgs) / "schema" / "report-v1.json").read_text())
    proc = okedoctor(installed, "diagnose", "--from", str(scenario), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, schema)
    assert doc["stats"]["checks_run"] >= 1, "the wheel shipped no built-in check"
    text = okedoctor(installed, "diagnose", "--from", str(scenario))
    assert "Internet ✔ ──▶ LB ✔ ──▶ NodePort ✔ ──▶ Node ✔ ──▶ Pod ✔" in text.stdout


def test_installed_scenario_overlay_expands_from_the_shipped_base(installed):
    proc = okedoctor(installed, "scenario", "expand", "stale-healthcheck-port", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert "base" not in doc and doc["metadata"]["name"] == "stale-healthcheck-port"
    assert {o["kind"] for o in doc["kubernetes"]} >= {"Namespace", "Service", "Pod", "Node"}


def test_installed_checks_list_matches_the_source_tree(installed):
    proc = okedoctor(installed, "checks", "list", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    installed_codes = {c["code"] for c in json.loads(proc.stdout)}
    here = subprocess.run([sys.executable, "-m", "okedoctor", "checks", "list", "-o", "json"],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert installed_codes == {c["code"] for c in json.loads(here.stdout)}
