"""Weight syntax conversion between ComfyUI/A1111 prompts and NovelAI prompts."""

from __future__ import annotations

import pytest

from novelai_core.prompts.weights import (
    a1111_to_novelai,
    novelai_to_a1111,
    parse_a1111,
    parse_novelai,
    strip_weights,
)


@pytest.mark.parametrize(
    ("a1111", "v4", "v3"),
    [
        ("plain, tags", "plain, tags", "plain, tags"),
        ("(tag:1.2)", "1.2::tag::", "{{{{tag}}}}"),
        ("((tag))", "1.21::tag::", "{{{{tag}}}}"),
        ("[tag]", "0.909::tag::", "[[tag]]"),
        ("a, (b:1.5), c", "a, 1.5::b::, c", "a, {{{{{{{{b}}}}}}}}, c"),
        ("(red hair:0.8)", "0.8::red hair::", "[[[[[red hair]]]]]"),
        ("ych \\(character\\)", "ych (character)", "ych (character)"),
        ("(tag:1)", "tag", "tag"),
    ],
)
def test_a1111_weights_convert_to_novelai_syntax(a1111: str, v4: str, v3: str) -> None:
    assert a1111_to_novelai(a1111, numeric=True) == v4
    assert a1111_to_novelai(a1111, numeric=False) == v3


def test_nested_groups_multiply_and_flatten_into_segments() -> None:
    assert parse_a1111("(a (b:1.5) c:1.2)") == [("a ", 1.2), ("b", pytest.approx(1.8)), (" c", 1.2)]
    assert a1111_to_novelai("(a (b:1.5) c:1.2)") == "1.2::a:: 1.8::b:: 1.2::c::"


def test_an_unclosed_group_weights_the_rest_as_a1111_does() -> None:
    assert a1111_to_novelai("x, (rest of it") == "x, 1.1::rest of it::"


def test_a_negative_weight_cannot_be_written_with_v3_braces() -> None:
    with pytest.raises(ValueError, match="braces"):
        a1111_to_novelai("(tag:-1)", numeric=False)


@pytest.mark.parametrize(
    ("novelai", "a1111"),
    [
        ("1.2::tag::", "(tag:1.2)"),
        ("{tag}", "(tag:1.05)"),
        ("{{tag}}", "(tag:1.103)"),
        ("[tag], -0.8::feet::, x", "(tag:0.952), (feet:-0.8), x"),
        ("ych (character)", "ych \\(character\\)"),
        ("very aesthetic, 0::ai-generated::", "very aesthetic, (ai-generated:0)"),
    ],
)
def test_novelai_weights_convert_back_with_literal_brackets_escaped(
    novelai: str, a1111: str
) -> None:
    assert novelai_to_a1111(novelai) == a1111


def test_a_numeric_weight_inside_braces_restores_the_outer_weight() -> None:
    segments = parse_novelai("{a, 0::b::, c}")
    assert segments == [("a, ", 1.05), ("b", 0.0), (", c", 1.05)]


def test_numbers_inside_tags_are_not_read_as_weights() -> None:
    assert parse_novelai("year2000::x") == [("year2000::x", 1.0)]
    assert strip_weights("1.5::blue eyes::, {smile}") == "blue eyes, smile"


def test_round_trip_keeps_weights_within_rounding() -> None:
    original = "a, (b:1.3), [c], ((d))"
    back = parse_a1111(novelai_to_a1111(a1111_to_novelai(original)))
    for (text_a, w_a), (text_b, w_b) in zip(parse_a1111(original), back, strict=True):
        assert text_a == text_b
        assert w_a == pytest.approx(w_b, abs=1e-3)
