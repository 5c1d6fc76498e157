"""The README tells the truth about names: the variables it sets and the ones slacknb reads."""

from __future__ import annotations

import re
from pathlib import Path

from slacknb.slack.config import CHANNEL_ENV_VAR, TOKEN_ENV_VARS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _sources():
    for folder, pattern in (("slacknb", "*.py"), ("scripts", "*"), ("tests", "*.py")):
        yield from (path for path in (ROOT / folder).rglob(pattern) if path.is_file())


def test_every_slacknb_variable_is_documented():
    used = set()
    for path in _sources():
        used |= set(re.findall(r"SLACKNB_[A-Z_]+[A-Z]", path.read_text(errors="ignore")))
    assert used, "no SLACKNB_ variable found: the scan is broken"
    missing = sorted(name for name in used if name not in README)
    assert not missing, f"not in the README: {missing}"


def test_examples_read_the_variables_the_rest_of_the_readme_sets():
    read = set(re.findall(r'os\.environ(?:\.get\(|\[)"([A-Z_]+)"', README))
    assert read, "no os.environ read found in the README: the scan is broken"
    assert read <= {TOKEN_ENV_VARS[0], CHANNEL_ENV_VAR}, read


def test_the_browser_skip_reason_offers_only_what_the_opt_in_does():
    from support.browser import HOW_TO_GET

    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    always = re.search(r'^extras="([^"]*)"', bootstrap, re.MULTILINE).group(1).split(",")
    assert "browser" in always  # so the skip reason must not offer to install it
    assert "extra" not in HOW_TO_GET and "chromium" in HOW_TO_GET
