"""scripts/bootstrap.sh's environment works however its commands are started: .venv/bin/python
and .venv/bin/slacknb, run directly, import Chainer next to torch without the scripts' exports."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
VARIABLE = "SETUPTOOLS_USE_DISTUTILS"


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    if not PYTHON.exists():
        pytest.skip("no .venv: run through bash scripts/test")
    # Started as a user would start it directly: no activation, no variable from the scripts.
    clean = {k: v for k, v in os.environ.items() if k not in (VARIABLE, "VIRTUAL_ENV")}
    return subprocess.run([str(PYTHON), "-c", code], capture_output=True, text=True, timeout=120,
                          env={**clean, **env})


def test_chainer_imports_without_the_variable_in_the_environment():
    done = run("import chainer, os, sys; print(chainer.__version__, os.environ['SETUPTOOLS_USE_DISTUTILS'])")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["7.8.1", "stdlib"]


def test_a_choice_made_in_the_environment_is_kept():
    done = run("import os; print(os.environ['SETUPTOOLS_USE_DISTUTILS'])", SETUPTOOLS_USE_DISTUTILS="local")
    assert done.returncode == 0 and done.stdout.strip() == "local", done.stderr
