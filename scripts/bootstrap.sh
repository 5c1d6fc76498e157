# Sourced by scripts/demo and scripts/test: creates .venv once and installs
# slacknb with its extras; a second run reuses it unless the inputs changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.slacknb-installed"
# Reinstall only when what we install from changes.
want="$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "slacknb: preparing $venv (first run takes a few minutes)" >&2
  python3 -m venv "$venv"
  # PIP_CONSTRAINT also reaches the isolated build environment of chainer's sdist.
  PIP_CONSTRAINT="$root/constraints.txt" "$venv/bin/pip" install --quiet --disable-pip-version-check \
    -e "$root[test]"
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV="$venv"
