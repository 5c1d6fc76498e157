#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/test_browser.py), once.
#
# Playwright drives this system Chromium (/usr/bin/chromium); Playwright's own
# browser downloads (`playwright install`) are never used. A second run costs a
# file check. scripts/bootstrap.sh runs this in CI (CI=true) or when
# SLACKNB_BROWSER=1; run it by hand to get the browser tests locally.
set -euo pipefail
chromium="${SLACKNB_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "slacknb: no $chromium and no apt-get here: install Chromium with your package manager and" \
       "set SLACKNB_CHROMIUM to its path, or skip the browser tests with: bash scripts/test -m 'not browser'" >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "slacknb: installing Chromium needs root: run 'sudo apt-get install chromium', or skip the" \
         "browser tests with: bash scripts/test -m 'not browser'" >&2
    exit 1
  fi
fi
echo "slacknb: installing Debian's chromium for the browser tests (about a minute, once)" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
# Quiet when it works, the whole apt output when it does not.
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "slacknb: 'apt-get install chromium' failed (output above)" >&2
  exit 1
fi
rm -f "$log"
if [ ! -x "$chromium" ]; then
  echo "slacknb: apt-get installed chromium but $chromium is missing: set SLACKNB_CHROMIUM to its path" >&2
  exit 1
fi
