"""The code base stays ruff clean (the rules are in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_ruff_clean():
    # The ruff installed beside this interpreter (the venv's), else one on PATH.
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if not ruff:
        pytest.skip("ruff is not installed (pip install '.[test]')")
    proc = subprocess.run([ruff, "check", "--no-cache", "okedoctor", "checks", "tests", "bench"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_python_version():
    assert sys.version_info >= (3, 11)
