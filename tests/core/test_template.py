import warnings

import pytest
from hypothesis import given, strategies as st

from slacknb.core.template import DEFAULT_TEMPLATE, FIELDS, Template
from support.hostile import templates

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
    assert render("{status!a:>6}", status="é") == "'\\xe9'"


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


@pytest.mark.parametrize("source", ["{status:{elapsed}}", "{status:>{eta}}", "{gpu:{status}}", "{status:{eta}>5}"])
def test_a_placeholder_inside_a_format_spec_is_refused_naming_the_fix(source):
    with pytest.raises(ValueError, match=r"inside the format spec.*Format specs are literal: write the width itself"):
        Template(source, warn=False)


@pytest.mark.parametrize("source", ["{status:>999999999}", "{status:.1001}", "{label:x<1001}",
                                    "{status:" + "9" * 5000 + "}", "{gpu:>99999}"])
def test_a_huge_width_or_precision_is_refused_naming_the_bound(source):
    with pytest.raises(ValueError, match=r"width or precision over 1,000.*go up to 1,000"):
        Template(source, warn=False)


@pytest.mark.parametrize("source", ["{status:>1000}", "{status:.1000}", "{status:0>7}", "{status:9^1000}"])
def test_widths_up_to_the_bound_render(source):
    assert render(source, status="x").strip("09 ") == "x"


@pytest.mark.parametrize("source", ["{status.real}", "{status[0]}", "{a[0]}", "{status!z}", "{status:d}",
                                    "{status:=5}", "{status:+}", "{status:,}"])
def test_every_way_a_field_could_raise_at_render_is_refused_at_construction(source):
    with pytest.raises(ValueError):
        Template(source, warn=False)


def test_a_lone_surrogate_in_the_template_is_refused():
    with pytest.raises(ValueError, match="UTF-8 cannot encode"):
        Template("{status} \ud800")


@given(templates, st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=30)))
def test_an_accepted_template_renders_any_text_values(source, values):
    try:
        template = Template(source, warn=False)
    except ValueError:
        return
    out = template.render({**VALUES, **values})
    # At most 10 fields, each at most 1,000 wide or its value as !a writes it (10 characters each).
    assert isinstance(out, str) and len(out) <= len(source) + 10 * (1000 + 10 * 30 + 2)


def test_position_points_at_the_problem():
    with pytest.raises(ValueError, match="position 9"):
        Template("{status} {0}")


def test_non_string_template_is_a_type_error():
    with pytest.raises(TypeError):
        Template(42)


@given(st.text(alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",))))
def test_text_without_braces_renders_unchanged(text):
    assert Template(text).render(VALUES) == text


@given(st.lists(st.sampled_from(["{status}", "{{", "}}", "{nope}", "x", "{elapsed:>3}", "é"])))
def test_agrees_with_format_map_on_known_fields(pieces):
    source = "".join(pieces).replace("{nope}", "")
    assert Template(source).render(VALUES) == source.format_map(VALUES)
