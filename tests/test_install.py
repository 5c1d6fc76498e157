"""Installing slacknb into a user's own environment: extras, lazy frameworks, the README's commands.

The fast tests check what ``import slacknb`` costs and what a missing framework says. The
``install`` ones create fresh virtualenvs and run the commands of the README's "Install into
your own environment" as written, in a copy of this clone, with an empty pip cache, then build
a report of each framework and run ``slacknb demo`` from the installed package: minutes, so
they run in CI and locally with ``SLACKNB_INSTALL=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import venv
from pathlib import Path

import pytest

from support.venvs import clean_env, require_installs

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
    (("chainer",), "from slacknb import SlackReport", 'pip install ".[chainer]"'),
    (("pytorch_pfn_extras",), "from slacknb.ppe import SlackReport", 'pip install ".[ppe]"'),
    (("optuna",), "from slacknb.optuna import SlackBoard", 'pip install ".[optuna]"'),
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

# The one change made to them: the test machines reach no package index but PyPI's mirror,
# and PyTorch's CPU-only build lies on their disk, as torch 2.13.0.
CPU_TORCH = "pip install torch --index-url https://download.pytorch.org/whl/cpu"
CPU_TORCH_HERE = "pip install torch==2.13.0"


def readme_commands(name: str) -> str:
    """The bash block after ``<!-- install: name -->`` in the README, as run here."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- install: {name} -->\n```bash\n(.*?)```", readme, re.S)
    assert match, f"README.md has no install block {name!r}"
    return "".join(CPU_TORCH_HERE + "\n" if line.startswith(CPU_TORCH) else line
                   for line in match.group(1).splitlines(keepends=True))


CHECK_NONE = f"""
import sys, slacknb
assert not [n for n in {FRAMEWORKS!r} if n in sys.modules]
for code, command in [("from slacknb import SlackReport", 'pip install ".[chainer]"'),
                      ("from slacknb.ppe import SlackReport", 'pip install ".[ppe]"'),
                      ("from slacknb.optuna import SlackBoard", 'pip install ".[optuna]"')]:
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
assert torch.version.cuda is None, "a CUDA build of torch: " + torch.__version__
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
CHECK_EXAMPLES = """
from slacknb.cli.demo import EXAMPLES
assert "site-packages" in str(EXAMPLES), EXAMPLES  # the installed package, not the clone
assert sorted(p.name for p in EXAMPLES.glob("*.ipynb")) == ["extension.ipynb", "failure.ipynb", "optuna.ipynb", "pytorch.ipynb",
                                                   "quickstart.ipynb"]
print("examples ok")
"""


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A copy of this clone (what the README's commands run in), and the environment to run them."""
    require_installs()
    work = tmp_path_factory.mktemp("install")
    source = work / "slacknb"
    shutil.copytree(ROOT / "slacknb", source / "slacknb", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # A guard, not a step: if a block forgot the CPU build, pip fails here instead of
    # downloading a CUDA build of several GB.
    pins = work / "pins.txt"
    pins.write_text("torch==2.13.0\n")
    return source, clean_env(PIP_NO_CACHE_DIR="1", PIP_CONSTRAINT=str(pins))


def run_in(env_dir: Path, env: dict, source: Path, block: str, check: str) -> str:
    """Run the README's ``block`` in the clone ``source`` with ``env_dir`` first on PATH (as if
    activated), then ``check`` with the environment's python."""
    env = {**env, "PATH": str(env_dir / "bin") + os.pathsep + env["PATH"], "VIRTUAL_ENV": str(env_dir)}
    # The check runs outside the clone, so that it imports the installed slacknb, not the clone's.
    script = block + f"cd {str(env_dir)!r}\npython - <<'CHECK'\n{textwrap.dedent(check)}\nCHECK\n"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=source, env=env,
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done.stdout


def run_demo(env_dir: Path, env: dict, workdir: Path) -> tuple[str, float]:
    """``slacknb demo`` of the installed package, started in ``workdir``; (output, seconds)."""
    workdir.mkdir()
    started = time.monotonic()
    done = subprocess.run([str(env_dir / "bin" / "slacknb"), "demo"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    print(f"\nslacknb demo after a normal install ({env_dir.name}): {seconds:.1f} s")
    return output, seconds


def check_demo(output: str, workdir: Path, notebook: str) -> None:
    assert f"examples/{notebook} in a Jupyter kernel" in output and "site-packages" in output
    final = output.split("The Slack message, as Slack shows it")[1]
    assert final.split("\n", 2)[2].lstrip().startswith("Completed - ")
    assert "Thread reply:" in final and (workdir / "demo-output" / notebook).exists()


@pytest.mark.install
def test_base_then_ppe_then_the_demo_from_the_readme(clone):
    source, env = clone
    env_dir = source.parent / "base-ppe"
    venv.create(env_dir, with_pip=True)
    assert "base ok" in run_in(env_dir, env, source, readme_commands("base"), CHECK_NONE + CHECK_EXAMPLES)
    assert "ppe ok" in run_in(env_dir, env, source, readme_commands("ppe"), CHECK_PPE)
    assert "optuna ok" in run_in(env_dir, env, source, readme_commands("optuna"), CHECK_OPTUNA)
    # Only PyTorch here: the demo runs the PyTorch notebook, shipped in the package.
    output, _ = run_demo(env_dir, env, source.parent / "demo-ppe")
    check_demo(output, source.parent / "demo-ppe", "pytorch.ipynb")


@pytest.mark.install
def test_a_wheel_built_in_the_clone_installs_with_its_examples(clone):
    source, env = clone
    env_dir = source.parent / "wheel"
    venv.create(env_dir, with_pip=True)
    out = run_in(env_dir, env, source, readme_commands("wheel"), CHECK_NONE + CHECK_EXAMPLES)
    assert "base ok" in out and "examples ok" in out


@pytest.mark.install
def test_chainer_then_the_demo_then_both_from_the_readme(clone):
    source, env = clone
    env_dir = source.parent / "chainer-both"
    venv.create(env_dir, with_pip=True)
    assert "chainer ok" in run_in(env_dir, env, source, readme_commands("chainer"), CHECK_CHAINER)
    output, _ = run_demo(env_dir, env, source.parent / "demo-chainer")
    check_demo(output, source.parent / "demo-chainer", "quickstart.ipynb")
    assert "ppe ok" in run_in(env_dir, env, source, readme_commands("both"), CHECK_CHAINER + CHECK_PPE)


def test_the_readme_blocks_say_what_the_install_tests_run():
    # The substitution is real: every block that installs PyTorch installs its CPU build first.
    for name in ("ppe", "both"):
        block = readme_commands(name)
        assert CPU_TORCH_HERE in block and CPU_TORCH not in block
        assert block.index(CPU_TORCH_HERE) < block.index(".[")
    assert "pip install ." in readme_commands("base") and "pip wheel" in readme_commands("wheel")
