# Sourced by scripts/demo and scripts/test: creates .venv once and installs
# slacknb with its extras; a second run reuses it unless the inputs changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.slacknb-installed"
# Reinstall only when what we install from changes.
extras="test,browser"
want="$({ cat "$root/pyproject.toml" "$root/constraints.txt"; echo "$extras"; } | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "slacknb: preparing $venv (first run takes a few minutes)" >&2
  python3 -m venv "$venv"
  # PIP_CONSTRAINT also reaches the isolated build environment of chainer's sdist.
  # (Some machines' pip configuration names package folders that do not exist;
  # its warnings about them say nothing about slacknb, so they are filtered.)
  PIP_CONSTRAINT="$root/constraints.txt" "$venv/bin/pip" install --quiet --disable-pip-version-check \
    -e "$root[$extras]" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
fi
# Chainer and torch in one environment (see constraints.txt): numpy.distutils needs
# Python's own distutils, chosen by SETUPTOOLS_USE_DISTUTILS=stdlib before setuptools'
# distutils-precedence.pth reads it. A .pth that sorts before that one sets it (unless
# set already) at every start of the environment's Python, however it is started:
# .venv/bin/slacknb, .venv/bin/python, a Jupyter kernel. Written on every run: cheap,
# and environments made before it get it too.
for site in "$venv"/lib/python3*/site-packages; do
  printf '%s\n' "import os; os.environ.setdefault('SETUPTOOLS_USE_DISTUTILS', 'stdlib')" \
    > "$site/_slacknb_distutils_stdlib.pth"
done
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV="$venv"
# System parts of the test suite: Chromium for the browser tests, Open MPI and
# mpi4py for the ChainerMN tests. CI always installs them (there a missing one
# fails its tests); a developer opts in with SLACKNB_BROWSER=1 / SLACKNB_MPI=1.
case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
  true | 1 | yes) in_ci=1 ;;
  *) in_ci="" ;;
esac
if [ -n "$in_ci" ] || [ "${SLACKNB_BROWSER:-}" = 1 ]; then
  bash "$root/scripts/install_browser.sh"
fi
if [ -n "$in_ci" ] || [ "${SLACKNB_MPI:-}" = 1 ]; then
  bash "$root/scripts/install_mpi.sh"
fi
