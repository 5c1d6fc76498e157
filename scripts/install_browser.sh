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
bash "$(dirname "$0")/apt_install.sh" browser chromium
if [ ! -x "$chromium" ]; then
  echo "slacknb: chromium was installed but $chromium is not there: set SLACKNB_CHROMIUM to its path" >&2
  exit 1
fi
