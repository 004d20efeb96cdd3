"""Prompt and body rules of the 2026 web app (shared/novelai-api-2026.md §2), one test per rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from novelai_core.converter.auto_text import quoted_strings, reading_order, with_auto_text
from novelai_core.converter.generation import build_generate_request
from novelai_core.converter.prompting import split_sections, with_enhance_addition
from novelai_core.errors import InputError
from novelai_core.models.user import (
    Character,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    Prompt,
)
from tests.golden_cases import solid

V5 = "nai-diffusion-5-full"
V45 = "nai-diffusion-4-5-full"
LIGHT = "very aesthetic, amazing quality, no text"


def _body(model: str = V5, text: str = "1girl", **kwargs: Any) -> dict[str, Any]:
    prompt = kwargs.pop("prompt", None) or Prompt(text=text, quality_preset=kwargs.pop("q", None))
    settings = GenerationSettings(seed=1, **kwargs.pop("settings", {}))
    request = GenerationRequest(model=model, prompt=prompt, settings=settings, **kwargs)
    return build_generate_request(request).body


@pytest.mark.parametrize(
    ("text", "quality", "expected"),
    [
        ("cat", True, f"cat, transparent background, {LIGHT}"),
        ("cat", False, "cat, transparent background"),
        ("cat, text: Hi | b", True, f"cat, transparent background, {LIGHT}, text: Hi | b"),
    ],
)
def test_v5_transparency_puts_the_tag_before_the_quality_tags(
    text: str, quality: bool, expected: str
) -> None:
    prompt = Prompt(text=text, quality=quality, quality_preset="light" if quality else None)
    body = _body(prompt=prompt, settings={"transparent_background": True})
    assert body["input"] == expected
    assert body["parameters"]["v4_prompt"]["caption"]["base_caption"] == expected
    assert body["parameters"]["tag_hint_transparent_background"] is True
    assert body["parameters"]["straight_alpha"] is True


def test_without_transparency_v5_sends_straight_alpha_but_no_hint() -> None:
    params = _body()["parameters"]
    assert params["straight_alpha"] is True
    assert "tag_hint_transparent_background" not in params
    assert params["scale"] == 7  # R3


@pytest.mark.parametrize(
    ("preset", "hint"),
    [("heavy", 2), ("light", 3), ("humanFocus", 4), ("furryFocus", 5), ("none", 0)],
)
def test_v5_sends_the_web_preset_ids_and_integer_hints(preset: str, hint: int) -> None:
    params = _body(prompt=Prompt(text="x", uc_preset=preset))["parameters"]
    assert (params["ucPresetId"], params["tag_hint_uc_preset"]) == (preset, hint)
    assert type(params["tag_hint_uc_preset"]) is int and type(params["tag_hint_qt"]) is int


def test_the_old_uc_preset_names_still_work() -> None:
    assert Prompt(text="x", uc_preset="human").uc_preset == "humanFocus"
    assert Prompt(text="x", uc_preset="furry").uc_preset == "furryFocus"


def test_a_uc_level_the_model_lacks_is_sent_as_none() -> None:
    # R1 (Q4): humanFocus on furry V3 goes out as "none"; V3's none text stands in for no UC.
    prompt = Prompt(text="fox", uc_preset="humanFocus")
    params = _body("nai-diffusion-furry-3", prompt=prompt)["parameters"]
    assert params["negative_prompt"] == "lowres"
    assert params["ucPreset"] == 2  # the index of "none" in furry V3's web order


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a sign saying "Hi"', f'a sign saying "Hi", {LIGHT}, teXt: Hi'),  # Q4's example
        ('"A" and “B” | "C"', f'"A" and “B”, {LIGHT}, teXt: A\n\nB | "C"'),
        ("don't 'quote' me", f"don't 'quote' me, {LIGHT}, teXt: quote"),
        ('say "Hi", text: Bye', f'say "Hi", {LIGHT}, text: Bye'),  # a text: section: skipped
        ('say "Hi", text::x::', f'say "Hi", text::x::, {LIGHT}, teXt: Hi'),  # text:: is not one
        ("no quotes", f"no quotes, {LIGHT}"),
        ('empty "  "', f'empty "  ", {LIGHT}'),
    ],
)
def test_v5_automatic_text_follows_the_web_app(text: str, expected: str) -> None:
    body = _body(prompt=Prompt(text=text, quality_preset="light"))
    assert body["input"] == expected
    assert body["parameters"]["v4_prompt"]["caption"]["base_caption"] == expected


def test_automatic_text_is_v5_only() -> None:
    assert _body(V45, text='a "sign"')["input"] == 'a "sign", very aesthetic, masterpiece, no text'


def test_characters_feed_automatic_text_in_reading_order_but_keep_their_captions() -> None:
    characters = (
        Character(prompt='girl, "second"', position=(0.7, 0.2)),
        Character(prompt='girl, "first"', position=(0.2, 0.25)),
        Character(prompt='girl, "third"', position=(0.5, 0.8)),
        Character(prompt='girl, "off"', enabled=False),
    )
    body = _body(prompt=Prompt(text="3girls", quality=False), characters=characters)
    assert body["input"] == "3girls, teXt: first\n\nsecond\n\nthird"
    captions = body["parameters"]["v4_prompt"]["caption"]["char_captions"]
    assert [c["char_caption"] for c in captions] == [c.prompt for c in characters[:3]]


def test_a_text_section_in_a_character_prompt_turns_automatic_text_off() -> None:
    characters = (Character(prompt="girl, text: Yo"),)
    body = _body(prompt=Prompt(text='say "Hi"', quality=False), characters=characters)
    assert body["input"] == 'say "Hi"'


def test_mostly_cjk_strings_are_reversed_within_each_group() -> None:
    assert with_auto_text("「一」「二」", [], use_coords=False) == "「一」「二」, teXt: 二\n\n一"


def test_quote_and_section_helpers() -> None:
    assert quoted_strings("it's 'a' “b” 「c」 ‘d’") == ["a", "b", "c", "d"]
    assert split_sections("a||x|y||b|c|d|e|f|g|h") == ["a||x|y||b", "c", "d", "e", "f", "g|h"]
    rows = [("r", 0.9, 0.1), ("l", 0.1, 0.15), ("low", 0.5, 0.5)]
    assert reading_order(rows) == ["l", "r", "low"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cat, text: Hello", "cat, -2::upscaled, blurry::,, text: Hello"),  # R10's example
        ("cat", "cat, -2::upscaled, blurry::,"),
        ("cat, upscaled, blurry", "cat, upscaled, blurry"),
    ],
)
def test_the_enhance_addition_goes_before_text_or_at_the_end(text: str, expected: str) -> None:
    assert with_enhance_addition(text) == expected


def _enhance(model: str, **source: Any) -> dict[str, Any]:
    image = Img2ImgSource(image=solid((832, 1216), (9, 9, 9)), strength=0.5, **source)
    return _body(model, prompt=Prompt(text="cat", quality=False), source=image)


def test_enhance_adds_its_prompt_on_v45_and_v5_but_not_v4_or_max() -> None:
    assert _enhance(V45, enhance=True)["input"] == "cat, -2::upscaled, blurry::,"
    assert _enhance("nai-diffusion-4-full", enhance=True)["input"] == "cat"
    maximum = _enhance(V5, enhance=True, upscaled_enhance=True)
    assert maximum["input"] == "cat"
    assert maximum["parameters"]["upscaled_enhance"] is True
    with pytest.raises(InputError, match="Enhance Max"):
        _enhance(V45, upscaled_enhance=True)


def test_v5_full_medium_forces_the_heavy_uc_preset() -> None:
    params = _body("nai-diffusion-5-full-medium", prompt=Prompt(text="x", uc_preset="light"))
    assert (params["parameters"]["ucPresetId"], params["parameters"]["tag_hint_uc_preset"]) == (
        "heavy",
        2,
    )


def test_v5_full_medium_locks_steps_and_character_uc() -> None:
    with pytest.raises(InputError, match="steps"):
        _body("nai-diffusion-5-full-medium", settings={"steps": 23})
    with pytest.raises(InputError, match=r"characters\[0\]\.uc"):
        _body("nai-diffusion-5-full-medium", characters=(Character(prompt="a", uc="b"),))


def _integers(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, value) of the body, for type checks."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _integers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [pair for v in value for pair in _integers(v, path)]
    return [(path, value)]


def test_integer_fields_go_out_as_integer_literals() -> None:
    # R14 c: the Go decoder refuses 1248.0 or true where the schema declares an integer.
    image = Img2ImgSource(image=solid((64, 64), (1, 1, 1)))
    body = _body(V5, source=image, settings={"width": 1280, "height": 1856})
    integer_keys = {"width", "height", "n_samples", "seed", "extra_noise_seed", "params_version"}
    integer_keys |= {"tag_hint_qt", "tag_hint_uc_preset"}
    for path, value in _integers(body):
        if path.rsplit(".", 1)[-1] in integer_keys:
            assert type(value) is int, path
    text = json.dumps(body)
    assert '"width": 1280,' in text and '"tag_hint_qt": 1,' in text  # standard = 1


def test_enhance_max_is_estimated_at_the_size_novelai_enlarges_to() -> None:
    # R10: 832×1216 → 1467×2144 live, 38 Anlas at level 3; the estimate must not be lower.
    from novelai_core.converter.generation import estimate_cost

    request = GenerationRequest(
        model=V5,
        prompt=Prompt(text="cat"),
        settings=GenerationSettings(seed=1),
        source=Img2ImgSource(
            image=solid((832, 1216), (1, 1, 1)), strength=0.5, enhance=True, upscaled_enhance=True
        ),
    )
    assert estimate_cost(request).total >= 38
