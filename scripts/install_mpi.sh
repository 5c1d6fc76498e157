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
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "slacknb: no mpiexec/mpicc and no apt-get here: install Open MPI (mpiexec and its development" \
         "headers) with your package manager, or skip the MPI tests with: bash scripts/test -m 'not mpi'" >&2
    exit 1
  fi
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    if sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      echo "slacknb: installing Open MPI needs root: run 'sudo apt-get install openmpi-bin libopenmpi-dev'," \
           "or skip the MPI tests with: bash scripts/test -m 'not mpi'" >&2
      exit 1
    fi
  fi
  echo "slacknb: installing Debian's Open MPI for the ChainerMN tests (about a minute, once)" >&2
  export DEBIAN_FRONTEND=noninteractive
  quiet "${as_root[@]}" apt-get update -qq
  quiet "${as_root[@]}" apt-get install -y -qq openmpi-bin libopenmpi-dev
fi

if ! "$python" -c "import mpi4py" >/dev/null 2>&1; then
  echo "slacknb: building mpi4py against Open MPI (a minute or two, once)" >&2
  quiet "$python" -m pip install --quiet --disable-pip-version-check "mpi4py>=3.1"
fi
