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


# -- the README's Python snippets: complete as written, and they work -----------------------------

# What a reader's own code has before a snippet runs: their Chainer trainer or ppe manager.
READER_HAS = {"trainer", "manager"}


def python_blocks() -> list[str]:
    """The README's ```python blocks that are Python (not IPython magics)."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    return [block for block in blocks if not block.lstrip().startswith("%")]


def undefined_names(code: str) -> set[str]:
    """Names ``code`` reads without defining, importing or getting them from builtins."""
    import ast
    import builtins

    tree = ast.parse(code)
    defined = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            defined.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return used - defined


def test_every_python_snippet_imports_what_it_uses():
    blocks = python_blocks()
    assert len(blocks) >= 4, "the README's snippets were not found: the scan is broken"
    for block in blocks:
        assert undefined_names(block) <= READER_HAS, (block, undefined_names(block) - READER_HAS)


def test_the_scan_sees_a_missing_import():
    assert undefined_names("report = f(os.environ.get('X'))\ntrainer.run()") == {"f", "os", "trainer"}


def the_block(*needles: str) -> str:
    [block] = [b for b in python_blocks() if all(needle in b for needle in needles)]
    return block


def final_text(server) -> str:
    assert server.wait_for(lambda s: bool(s.messages()) and s.messages()[0].text.startswith("Completed"),
                           timeout=30), [m.text for m in server.messages()]
    return server.messages()[0].text


def test_the_drop_in_snippet_reports_a_chainer_trainer(slack_env, tmp_path):
    from support.training import make_trainer

    trainer = make_trainer(tmp_path, epochs=2)  # a LogReport, as Chainer's examples have
    exec(the_block("trainer.run()", "chainer_slack_report"), {"trainer": trainer})
    text = final_text(slack_env)
    assert "epoch" in text.split("```")[1] and len(text.split("```")[1].strip().splitlines()) == 3


def test_the_ppe_snippet_reports_a_manager_that_had_no_log_report(slack_env, tmp_path):
    import pytorch_pfn_extras as ppe
    import torch

    model = torch.nn.Linear(2, 1)
    manager = ppe.training.ExtensionsManager(model, torch.optim.SGD(model.parameters(), lr=0.1), 2,
                                             iters_per_epoch=3, out_dir=str(tmp_path))
    exec(the_block("manager.extend(SlackReport"), {"manager": manager})
    while not manager.stop_trigger:
        with manager.run_iteration():
            ppe.reporting.report({"train/loss": model(torch.ones(1, 2)).sum().item()})
    table = final_text(slack_env).split("```")[1].strip().splitlines()
    assert table[0].split() == ["epoch", "train/loss", "val/loss", "elapsed_time"]  # as the snippet asks
    assert [row.split()[0] for row in table[1:]] == ["1", "2"]


def test_links_to_slack_go_to_its_current_addresses():
    # Slack's developer documentation moved to docs.slack.dev (2025); the app management pages
    # (https://api.slack.com/apps) stayed where they were.
    texts = {path: path.read_text(errors="ignore") for folder in ("slacknb", "docs", "scripts", "tests")
             for path in (ROOT / folder).rglob("*") if path.is_file() and path.suffix in (".py", ".md", ".ipynb", "")}
    texts[ROOT / "README.md"] = README
    old = {str(path.relative_to(ROOT)): link for path, text in texts.items()
           for link in re.findall(r"https?://api\.slack\.com/[^\s)>\"'`]*", text)
           if link.rstrip(".,;:") != "https://api.slack.com/apps"}
    assert not old, old
    assert "https://docs.slack.dev/" in README


def test_the_click_through_list_names_every_scope_of_the_manifest():
    from slacknb.slack.scopes import BOT_TOKEN, SCOPES

    section = README[README.index("## Connect your Slack workspace"):README.index("### A Stop button")]
    missing = [row.name for row in SCOPES if f"`{row.name}`" not in section]
    assert not missing, f"the README's scopes by hand lack {missing} (slacknb/slack/scopes.py has them)"
    assert any(row.token == BOT_TOKEN for row in SCOPES)
