"""Installing slacknb into a user's own environment: extras, lazy frameworks, the README's commands.

The fast tests check what ``import slacknb`` costs and what a missing framework says. The
``install`` ones create fresh virtualenvs and run the commands of the README's "Install into
your own environment" as written, with an empty pip cache, against a wheel of this checkout
(so ``pip install slacknb`` finds it), then build a report of each framework: minutes, so
they run in CI and locally with ``SLACKNB_INSTALL=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from support.ci import in_ci

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("chainer", "torch", "pytorch_pfn_extras", "optuna")


def python(code: str, *, env=None, executable=sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300, env=env)


def test_import_slacknb_and_load_ext_import_no_framework():
    done = python(f"""
        import sys
        import slacknb
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "slacknb")
        print(sorted(name for name in {FRAMEWORKS!r} if name in sys.modules))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


# A framework that is not installed: its module is None in sys.modules, as Python treats it.
WITHOUT = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
"""


@pytest.mark.parametrize("blocked, code, command", [
    (("chainer",), "from slacknb import SlackReport", 'pip install "slacknb[chainer]"'),
    (("pytorch_pfn_extras",), "from slacknb.ppe import SlackReport", 'pip install "slacknb[ppe]"'),
    (("optuna",), "from slacknb.optuna import SlackBoard", 'pip install "slacknb[optuna]"'),
])
def test_a_missing_framework_raises_an_import_error_naming_the_install(blocked, code, command):
    done = python(WITHOUT.format(blocked=blocked) + textwrap.dedent(f"""
        try:
            {code}
        except ImportError as exc:
            print("ImportError:", exc)
    """))
    assert done.returncode == 0, done.stderr
    assert "ImportError:" in done.stdout and command in done.stdout


def test_the_magic_without_any_framework_reports_the_cell_as_a_job():
    done = python(WITHOUT.format(blocked=("chainer", "pytorch_pfn_extras")) + """
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "slacknb")
result = shell.run_cell("%%slackreport --local --label job\\nanswer = 6 * 7\\nanswer")
print("ok", result.success, result.result)
""")
    assert done.returncode == 0, done.stderr
    assert "ok True 42" in done.stdout


# -- the README's commands, as written, in fresh virtualenvs ------------------------------------

def readme_commands(name: str) -> str:
    """The bash block after ``<!-- install: name -->`` in the README."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- install: {name} -->\n```bash\n(.*?)```", readme, re.S)
    assert match, f"README.md has no install block {name!r}"
    return match.group(1)


CHECK_NONE = f"""
import sys, slacknb
assert not [n for n in {FRAMEWORKS!r} if n in sys.modules]
for code, command in [("from slacknb import SlackReport", "slacknb[chainer]"),
                      ("from slacknb.ppe import SlackReport", "slacknb[ppe]"),
                      ("from slacknb.optuna import SlackBoard", "slacknb[optuna]")]:
    try:
        exec(code)
    except ImportError as exc:
        assert command in str(exc), exc
    else:
        raise AssertionError(code + " imported without its framework")
print("base ok")
"""
CHECK_PPE = """
import torch, pytorch_pfn_extras as ppe
from slacknb.ppe import SlackReport
model = torch.nn.Linear(2, 1)
manager = ppe.training.ExtensionsManager(model, torch.optim.SGD(model.parameters(), lr=0.1), 1, iters_per_epoch=2)
manager.extend(ppe.training.extensions.LogReport())
report = SlackReport(None, None, None, local=True)
manager.extend(report)
while not manager.stop_trigger:
    with manager.run_iteration():
        ppe.reporting.report({"main/loss": model(torch.ones(1, 2)).sum().item()})
assert report.state.status == "Completed", report.state.status
print("ppe ok")
"""
CHECK_OPTUNA = """
import optuna
from slacknb.optuna import SlackBoard
study = optuna.create_study(study_name="install")
board = SlackBoard(study, local=True)
study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
assert board.text.startswith("install \u00b7 minimize \u00b7 2 complete"), board.text
print("optuna ok", optuna.__version__)
"""
CHECK_CHAINER = """
import chainer
from slacknb import SlackReport
report = SlackReport(None, None, ["epoch", "main/loss"], local=True)
assert report.state.status is not None
print("chainer ok", chainer.__version__)
"""


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    """A wheel of this checkout, where ``pip install slacknb`` looks first."""
    if not (in_ci() or os.environ.get("SLACKNB_INSTALL") == "1"):
        pytest.skip("installs into fresh virtualenvs for minutes: SLACKNB_INSTALL=1 (always in CI)")
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    shutil.copytree(ROOT / "slacknb", source / "slacknb", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = work / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(source)], check=True, timeout=300)
    # The tests' only pin: torch's CPU build, as everywhere in the tests (constraints.txt).
    pins = work / "pins.txt"
    pins.write_text("torch==2.13.0\n")
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_CONSTRAINT": str(pins),
           "PIP_FIND_LINKS": " ".join(filter(None, [str(wheels), os.environ.get("PIP_FIND_LINKS")]))}
    for name in ("VIRTUAL_ENV", "SETUPTOOLS_USE_DISTUTILS", "PYTHONPATH"):
        env.pop(name, None)
    return work, env


def run_in(env_dir: Path, env: dict, block: str, check: str) -> str:
    """Run the README's ``block`` with ``env_dir`` first on PATH (as if activated), then ``check``."""
    env = {**env, "PATH": str(env_dir / "bin") + os.pathsep + env["PATH"], "VIRTUAL_ENV": str(env_dir)}
    script = block + f"python - <<'CHECK'\n{textwrap.dedent(check)}\nCHECK\n"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=env_dir, env=env,
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done.stdout


@pytest.mark.install
def test_base_then_ppe_from_the_readme(wheelhouse):
    work, env = wheelhouse
    env_dir = work / "base-ppe"
    venv.create(env_dir, with_pip=True)
    assert "base ok" in run_in(env_dir, env, readme_commands("base"), CHECK_NONE)
    assert "ppe ok" in run_in(env_dir, env, readme_commands("ppe"), CHECK_PPE)
    assert "optuna ok" in run_in(env_dir, env, readme_commands("optuna"), CHECK_OPTUNA)


@pytest.mark.install
def test_chainer_then_both_from_the_readme(wheelhouse):
    work, env = wheelhouse
    env_dir = work / "chainer-both"
    venv.create(env_dir, with_pip=True)
    assert "chainer ok" in run_in(env_dir, env, readme_commands("chainer"), CHECK_CHAINER)
    assert "ppe ok" in run_in(env_dir, env, readme_commands("both"), CHECK_CHAINER + CHECK_PPE)
