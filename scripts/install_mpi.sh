#!/usr/bin/env bash
# Installs Open MPI and mpi4py for the ChainerMN tests (tests/test_chainermn.py), once.
#
# Open MPI comes from Debian (openmpi-bin for mpiexec, libopenmpi-dev for the headers
# mpi4py compiles against); mpi4py comes from PyPI into the active virtualenv (or
# .venv next to this script). A second run costs a file check and an import.
# CI (CI=true) runs this before the tests; run it by hand to get the MPI tests locally.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${VIRTUAL_ENV:-$root/.venv}/bin/python"
if [ ! -x "$python" ]; then
  echo "slacknb: no virtualenv at ${VIRTUAL_ENV:-$root/.venv}: run scripts/bootstrap.sh (or scripts/test) first" >&2
  exit 1
fi

quiet() {
  # Quiet when it works, the whole output when it does not.
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "slacknb: '$*' failed (output above)" >&2
    return 1
  fi
  rm -f "$log"
}

# mpicc comes with libopenmpi-dev: mpi4py is built with it.
if ! command -v mpiexec >/dev/null 2>&1 || ! command -v mpicc >/dev/null 2>&1; then
  bash "$root/scripts/apt_install.sh" mpi openmpi-bin libopenmpi-dev
fi

if ! "$python" -c "import mpi4py" >/dev/null 2>&1; then
  echo "slacknb: building mpi4py against Open MPI (a minute or two, once)" >&2
  quiet "$python" -m pip install --quiet --disable-pip-version-check "mpi4py>=3.1"
fi
