import warnings

import pytest
from hypothesis import given, strategies as st

from slacknb.core.template import DEFAULT_TEMPLATE, FIELDS, Template

VALUES = {name: f"<{name}>" for name in FIELDS}


def render(source, **values):
    return Template(source, warn=False).render({**VALUES, **values})


def test_default_template_has_chainer_slack_report_layout():
    text = Template(DEFAULT_TEMPLATE).render(
        {**VALUES, "status": "Training", "elapsed": "0:00:05", "hostname": "h",
         "pwdshort": "~/x", "cmd": "train.py", "args": "--lr 1",
         "content": "TABLE", "finish_mentions": "<@U1>", "updated": "DATE"})
    assert text == "Training - 0:00:05 (updated DATE) `h:~/x$ train.py --lr 1`\nTABLE\n<@U1>"


def test_named_placeholders_and_format_specs():
    assert render("[{elapsed:>6}]", elapsed="0:01") == "[  0:01]"
    assert render("{status!r}", status="ok") == "'ok'"
    assert render("{status:{eta}}", status="x", eta=">3") == "  x"


def test_double_braces_are_literal():
    assert render("{{status}} {{", status="x") == "{status} {"


def test_unknown_placeholders_round_trip_with_one_warning():
    with pytest.warns(UserWarning) as caught:
        template = Template("{status} {gpu:>4} {gpu} {host!r:x}")
    assert len(caught) == 1
    assert "{gpu}" in str(caught[0].message) and "{host}" in str(caught[0].message)
    assert template.render({"status": "S"}) == "S {gpu:>4} {gpu} {host!r:x}"


def test_known_template_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Template(DEFAULT_TEMPLATE)


@pytest.mark.parametrize("source, problem", [
    ("{status", "unbalanced '{'"),
    ("status}", "single '}'"),
    ("{}", "positional"),
    ("{0}", "positional"),
    ("{status!x}", "bad conversion"),
    ("{a.b}", "not a plain name"),
    ("{elapsed:d}", "format spec"),
])
def test_malformed_templates_raise_with_position_and_hint(source, problem):
    with pytest.raises(ValueError) as error:
        Template(source)
    message = str(error.value)
    assert problem in message
    if "format spec" not in problem:
        assert "position" in message


def test_position_points_at_the_problem():
    with pytest.raises(ValueError, match="position 9"):
        Template("{status} {0}")


def test_non_string_template_is_a_type_error():
    with pytest.raises(TypeError):
        Template(42)


@given(st.text(alphabet=st.characters(blacklist_characters="{}")))
def test_text_without_braces_renders_unchanged(text):
    assert Template(text).render(VALUES) == text


@given(st.lists(st.sampled_from(["{status}", "{{", "}}", "{nope}", "x", "{elapsed:>3}", "é"])))
def test_agrees_with_format_map_on_known_fields(pieces):
    source = "".join(pieces).replace("{nope}", "")
    assert Template(source).render(VALUES) == source.format_map(VALUES)
