"""The house of ARCHITECTURE.md holds: imports point down the layers (import-linter's
contracts in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "slacknb"


def test_imports_point_down_the_layers(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_the_readme_configuration_table_is_the_options_table():
    from slacknb.options import readme_table

    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- options table -->\n") + len("<!-- options table -->\n")
    assert readme[start:readme.index("\n<!-- /options table -->")] == readme_table(), (
        "README.md's configuration table is stale: paste `python -m slacknb.options` between its markers")
