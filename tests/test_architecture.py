"""The house of docs/architecture.md holds: imports point down the layers (import-linter's contracts in
pyproject.toml), every module declares __all__, and none grows past 400 lines (past 300, look at it:
one concept a module; never split or squeeze one to fit a number)."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "slacknb"


def test_imports_point_down_the_layers(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_the_architecture_page_names_every_package_and_module_of_the_top():
    page = (ROOT / "docs" / "architecture.md").read_text()
    parts = [f"`{path.name}/`" for path in PACKAGE.iterdir() if (path / "__init__.py").exists()]
    parts += [f"`{path.name}`" for path in PACKAGE.glob("*.py")
              if path.name not in ("__init__.py", "__main__.py", "ppe.py")]
    assert parts and not [part for part in parts if part not in page]


def test_the_readme_configuration_table_is_the_options_table():
    from slacknb.options import readme_table

    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- options table -->\n") + len("<!-- options table -->\n")
    assert readme[start:readme.index("\n<!-- /options table -->")] == readme_table(), (
        "README.md's configuration table is stale: paste `python -m slacknb.options` between its markers")


MAX_MODULE_LINES = 400


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_longer_than_400_lines():
    long = {str(path.relative_to(ROOT)): count for path in _modules()
            if (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert _modules() and not long, f"modules over {MAX_MODULE_LINES} lines (one concept each?): {long}"


def test_every_module_declares_its_public_names():
    import ast

    missing = [str(path.relative_to(ROOT)) for path in _modules()
               if path.name not in ("__init__.py", "__main__.py")
               and not any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
                           for node in ast.parse(path.read_text()).body)]
    assert not missing, f"modules without __all__: {missing}"
