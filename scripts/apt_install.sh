#!/usr/bin/env bash
# apt_install.sh WHAT PACKAGE...: installs Debian packages for a part of the test suite,
# quietly, as root or through passwordless sudo; otherwise says how to get or skip WHAT.
# Used by install_browser.sh and install_mpi.sh.
set -euo pipefail
what="$1"; shift
skip="bash scripts/test -m 'not $what'"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "slacknb: no apt-get here: install $* with your package manager, or skip these tests with: $skip" >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "slacknb: installing $* needs root: run 'sudo apt-get install $*', or skip these tests with: $skip" >&2
    exit 1
  fi
fi
echo "slacknb: installing Debian's $* for the $what tests (about a minute, once)" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
# Quiet when it works, the whole output when it does not.
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq "$@"; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "slacknb: could not install $* (apt output above); or skip these tests with: $skip" >&2
  exit 1
fi
rm -f "$log"
