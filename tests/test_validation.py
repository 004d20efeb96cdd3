"""Local validation: every bad input is an InputError naming the field and the limit."""

from __future__ import annotations

from typing import Any

import pytest

from novelai_core.converter.generation import build_generate_request, validate_request
from novelai_core.errors import InputError
from novelai_core.models.user import (
    Character,
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Prompt,
    Vibe,
)
from tests.golden_cases import box_mask, solid

V45 = "nai-diffusion-4-5-full"
IMG = solid((64, 64), (1, 2, 3))
ENCODED = Vibe(encoding=b"enc", encoding_model=V45)


def _request(
    model: str = V45,
    text: str = "1girl",
    negative: str = "",
    prompt: dict[str, Any] | None = None,
    **fields: Any,
) -> GenerationRequest:
    settings = GenerationSettings(**{"seed": 1, **fields.pop("settings", {})})
    return GenerationRequest(
        model=model,
        prompt=Prompt(text=text, negative=negative, **(prompt or {})),
        settings=settings,
        **fields,
    )


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("size not a multiple of 64", {"settings": {"width": 800}}, r"settings\.width.*64"),
    ("height not a multiple of 64", {"settings": {"height": 1000}}, r"settings\.height.*64"),
    ("area above 3 MiP", {"settings": {"width": 2048, "height": 2048}}, r"3145728"),
    ("side above 2048", {"settings": {"width": 2112, "height": 64}}, r"settings\.width.*2048"),
    ("steps 0", {"settings": {"steps": 0}}, r"settings\.steps.*1–50"),
    ("steps 51", {"settings": {"steps": 51}}, r"settings\.steps.*1–50"),
    ("scale above 10", {"settings": {"scale": 10.5}}, r"settings\.scale.*0–10"),
    ("negative scale", {"settings": {"scale": -1}}, r"settings\.scale.*0–10"),
    ("ddim on V4.5", {"settings": {"sampler": "ddim_v3"}}, r"settings\.sampler.*ddim_v3"),
    ("unknown sampler", {"settings": {"sampler": "k_lms"}}, r"settings\.sampler"),
    ("native on V4.5", {"settings": {"noise_schedule": "native"}}, r"noise_schedule.*native"),
    ("exponential on V5", {"model": "nai-diffusion-5-full",
                           "settings": {"noise_schedule": "exponential"}}, r"noise_schedule"),
    ("7 characters on V4.5", {"characters": tuple(Character(prompt=f"c{i}") for i in range(7))},
     r"characters: 7 characters.*at most 6"),
    ("characters on V3", {"model": "nai-diffusion-3", "characters": (Character(prompt="a"),)},
     r"characters:.*no character prompts"),
    ("position outside 0..1", {"characters": (Character(prompt="a", position=(1.2, 0.5)),)},
     r"characters\[0\]\.position.*0\.\.1"),
    ("bad grid cell", {"characters": (Character(prompt="a", position="F9"),)},
     r"characters\[0\]\.position.*A1\.\.E5"),
    ("vibes on V5", {"model": "nai-diffusion-5-full", "vibes": (ENCODED,)}, r"vibes:.*no vibe"),
    ("character reference on V4", {"model": "nai-diffusion-4-full",
                                   "character_references": (CharacterReference(image=IMG),)},
     r"character_references:.*no character reference"),
    ("character reference on V5", {"model": "nai-diffusion-5-full",
                                   "character_references": (CharacterReference(image=IMG),)},
     r"character_references"),
    ("vibes with a character reference", {"vibes": (ENCODED,),
                                          "character_references": (CharacterReference(image=IMG),)},
     r"vibes:.*cannot be combined"),
    ("vibes with inpainting", {"vibes": (ENCODED,),
                               "source": InpaintSource(image=IMG, mask=IMG)},
     r"vibes: inpainting takes no vibes"),
    ("an unencoded vibe on V4.5", {"vibes": (Vibe(image=IMG),)}, r"vibes\[0\].*encoded first"),
    ("a vibe encoded for another model", {"vibes": (Vibe(encoding=b"e",
                                                         encoding_model="nai-diffusion-4-full"),)},
     r"vibes\[0\]: encoded for nai-diffusion-4-full"),
    ("an encoding-only vibe on V3", {"model": "nai-diffusion-3",
                                     "vibes": (Vibe(encoding=b"e"),)}, r"vibes\[0\].*image"),
    ("an encoding that does not name its model", {"vibes": (Vibe(encoding=b"e"),)},
     r"vibes\[0\]\.encoding_model: .*which model"),
    ("an image and an encoding without its model", {"vibes": (Vibe(image=IMG, encoding=b"e"),)},
     r"vibes\[0\]\.encoding_model"),
    ("17 vibes", {"vibes": (ENCODED,) * 17}, r"vibes: 17 vibes.*16"),
    ("17 character references", {"character_references": (CharacterReference(image=IMG),) * 17},
     r"character_references: 17.*16"),
    ("mask size different from the image", {"source": InpaintSource(
        image=IMG, mask=box_mask((128, 64), (0, 0, 8, 8)))}, r"source\.mask.*same size"),
    ("5 samples at 832×1216", {"settings": {"n_samples": 5}}, r"settings\.n_samples.*1–4"),
    ("9 samples at 512×512", {"settings": {"n_samples": 9, "width": 512, "height": 512}},
     r"settings\.n_samples.*1–8"),
    ("0 samples", {"settings": {"n_samples": 0}}, r"settings\.n_samples"),
    ("empty prompt", {"text": "  "}, r"prompt\.text.*empty"),
    ("negative seed", {"settings": {"seed": -1}}, r"settings\.seed.*0–4294967295"),
    ("seed above the maximum", {"settings": {"seed": 4_294_967_296}}, r"settings\.seed"),
    ("unknown model", {"model": "nai-diffusion-9"}, r"model: unknown model 'nai-diffusion-9'"),
    ("an inpainting id without a mask", {"model": "nai-diffusion-4-5-full-inpainting"},
     r"model:.*inpainting model"),
    ("negative prompt on V5 full-medium", {"model": "nai-diffusion-5-full-medium",
                                           "negative": "x"}, r"prompt\.negative"),
    ("UC preset no model has", {"model": "nai-diffusion-4-full",
                                "prompt": {"uc_preset": "hman"}}, r"prompt\.uc_preset.*hman"),
    ("quality preset the model lacks", {"prompt": {"quality_preset": "light"}},
     r"prompt\.quality_preset"),
    ("SMEA on V4.5", {"settings": {"smea": True}}, r"settings\.smea.*V3"),
    ("SMEA DYN without SMEA", {"model": "nai-diffusion-3", "settings": {"smea_dyn": True}},
     r"settings\.smea_dyn"),
    ("Decrisper on V4.5", {"settings": {"decrisper": True}}, r"settings\.decrisper"),
    ("Variety+ on V5", {"model": "nai-diffusion-5-full", "settings": {"variety": True}},
     r"settings\.variety.*nai-diffusion-5-full"),
    ("transparency on V4.5", {"settings": {"transparent_background": True}},
     r"transparent_background"),
    ("undecodable image bytes", {"source": Img2ImgSource(image=b"not an image")},
     r"source\.image.*not a PNG"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "pattern"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_rejected_before_any_request(fields: dict[str, Any], pattern: str) -> None:
    request = _request(**fields)
    with pytest.raises(InputError, match=pattern):
        validate_request(request)
    with pytest.raises(InputError):
        build_generate_request(request)


GOOD_INPUTS: list[tuple[str, dict[str, Any]]] = [
    ("the largest canvas", {"settings": {"width": 1536, "height": 2048}}),
    ("2048 wide", {"settings": {"width": 2048, "height": 1536}}),
    ("V3 SMEA DYN at 3 MiP, 50 steps: exactly 140", {"model": "nai-diffusion-3", "settings": {
        "width": 1536, "height": 2048, "steps": 50, "smea": True, "smea_dyn": True}}),
    # 150 Anlas, but the 140 limit is on the price before V5's ×1.5 (100 here; disputed).
    ("V5 at 3 MiP, 50 steps", {"model": "nai-diffusion-5-full", "settings": {
        "width": 1536, "height": 2048, "steps": 50}}),
    ("steps 1 and 50", {"settings": {"steps": 50}}),
    ("8 samples at 512×704", {"settings": {"width": 512, "height": 704, "n_samples": 8}}),
    ("6 characters on V4.5", {"characters": tuple(Character(prompt=f"c{i}") for i in range(6))}),
    ("32 characters on V5", {"model": "nai-diffusion-5-full",
                             "characters": tuple(Character(prompt=f"c{i}") for i in range(32))}),
    ("disabled extra characters", {"characters": tuple(
        Character(prompt=f"c{i}", enabled=i < 6) for i in range(9))}),
    ("a free position on a grid model (snapped)",
     {"characters": (Character(prompt="a", position=(0.33, 0.99)),)}),
    ("16 vibes", {"vibes": (ENCODED,) * 16}),
    ("seed at both ends", {"settings": {"seed": 4_294_967_295}}),
    ("V5-curated inpainting (falls back)", {"model": "nai-diffusion-5-curated",
                                            "source": InpaintSource(image=IMG, mask=IMG)}),
]  # fmt: skip


@pytest.mark.parametrize("fields", [c[1] for c in GOOD_INPUTS], ids=[c[0] for c in GOOD_INPUTS])
def test_input_at_the_limits_is_accepted(fields: dict[str, Any]) -> None:
    validate_request(_request(**fields))


def test_a_free_position_is_snapped_on_a_grid_model_not_refused() -> None:
    request = _request(characters=(Character(prompt="a", position=(0.33, 0.99)),))
    params = build_generate_request(request).body["parameters"]
    assert params["characterPrompts"][0]["center"] == {"x": 0.3, "y": 0.9}
