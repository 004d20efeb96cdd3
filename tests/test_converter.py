"""The converter: golden request bodies per model family × mode, and the rules behind them.

Goldens live in tests/golden/<case>.json ({endpoint, body, files}); images are replaced by a
description (size, mode, pixel hash). Regenerate with NAI_UPDATE_GOLDENS=1, then review by hand.

Reviewed field by field against shared/novelai-api.md (§3-§8), corrected by
shared/novelai-api-2026.md (R1-R14; where they disagree the 2026 file wins):
- every case: input = prompt + ", " + the row's quality suffix (§5), V4+ before `|`/`text:`,
  V3 on every `|` segment (R6); negative_prompt = [nsfw, ] + UC preset + ", " + user UC; nsfw only
  on non-curated models with a preset other than none and no "nsfw" in the prompt;
  params_version 3 (V3/V4/V4.5 and the V4.5 fallback) / 4 (V5); defaults from the row: V3 23
  steps, karras, scale 5 / furry 6.2 (R5), V5 scale 7 (R3); legacy, legacy_v3_extend false,
  controlnet_strength 1, dynamic_thresholding (false unless V3 Decrisper), add_original_image
  true (infill: the user's), image_format png, use_new_shared_trial true; no `stream` key.
- deliberate_euler_ancestral_bug false + prefer_brownian true on every request (R14 b: the server
  defaults the bug flag to true).
- V3: sm / sm_dyn present, no v4 fields, no characterPrompts, no legacy_uc; V3 UC "none" = the
  user UC alone, "lowres" only when it is empty (R7; furry_v3). V4+: no sm/sm_dyn; legacy_uc
  false; v4_prompt.base_caption == input; v4_negative_prompt.base_caption == negative_prompt;
  use_order true; inpaintImg2ImgStrength 1 and normalize_reference_strength_multiple true as the
  web sends them (C, Q12).
- qualityToggle/ucPreset (index in the row's web order: v4.5 full humanFocus = 3) on
  params_version 3; V5: qualityPresetId/ucPresetId and the integer tag hints of R1's table
  (light 3, heavy 2, none 0), tag_hint_transparent_background only with transparency on, then
  "transparent background" before the quality tags (R2); straight_alpha true; no
  qualityToggle/ucPreset. autoSmea false on V4.5 and V5 rows only.
- Variety+: furry V3 1024² → 19·sqrt(128·128/(104·152)) = 19.3431; V4.5 1024×1536 →
  58·sqrt(128·192/15808) = 72.3178 (both checked by hand); V5 has none.
- characters: same order and centers in characterPrompts and both char_captions; B2 → (0.3, 0.3);
  (0.62, 0.33) snapped to (0.7, 0.3) on V4; free (0.25, 0.42) kept on V5, E5 → (0.9, 0.9), AI's
  choice → (0.5, 0.5); use_coords false only when all are AI's choice (v4_5_curated_characters);
  disabled / blank characters dropped; character UC only in the negative captions.
- img2img: action img2img, image 832×1216 (resized from 416×608), strength 0.6, noise 0.1,
  extra_noise_seed = seed − 1 = 999, color_correct false. V5: the PNG inline in base64 (R9 d),
  1024×1024; extra_noise_seed 4294967295 for seed 0 (R8).
- infill: model = the row's inpainting id (nai-diffusion-4-5-full-inpainting), action infill,
  extra_noise_seed = seed − 1 (R8), mask quantised (8-px blocks, white repaint),
  add_original_image, inpaintImg2ImgStrength, nested img2img {0.8, color_correct true} only when
  it is not 1. V5-curated → nai-diffusion-4-5-curated-inpainting with that row's params_version 3,
  qualityToggle/ucPreset, curated UC (no nsfw).
- V3 vibe: 448×448 RGBA letterbox, information_extracted and strength arrays of equal length.
  V4.5 vibe: base64 of the encodings, strengths, normalize_reference_strength_multiple true, and no
  reference_information_extracted_multiple.
- character reference: 600×400 → 1536×1024 RGB black letterbox; descriptions with the mode as
  base_caption and legacy_uc false; information_extracted [1]; strength [0.9]; secondary [0.3].
"""

from __future__ import annotations

import base64
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from novelai_core.converter.generation import (
    build_augment_request,
    build_encode_vibe_request,
    build_generate_request,
    build_upscale_request,
    estimate_cost,
    reference_png,
    resolve_seed,
)
from novelai_core.converter.images import exact_png
from novelai_core.errors import InputError
from novelai_core.models.user import (
    Character,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    Prompt,
)
from tests.golden_cases import CASES, describe_bytes, scrub

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("NAI_UPDATE_GOLDENS") == "1"


def _golden_view(name: str) -> dict[str, Any]:
    built = build_generate_request(CASES[name]())
    return {
        "endpoint": built.endpoint,
        "body": scrub(built.body),
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_request_body_matches_the_reviewed_golden(name: str) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    actual = _golden_view(name)
    if UPDATE:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected


def _params(request: GenerationRequest, **kwargs: Any) -> dict[str, Any]:
    return build_generate_request(request, **kwargs).body["parameters"]


def _req(model: str = "nai-diffusion-4-5-full", text: str = "1girl", **settings: Any) -> Any:
    return GenerationRequest(
        model=model, prompt=Prompt(text=text), settings=GenerationSettings(seed=1, **settings)
    )


def test_the_same_request_always_builds_the_same_body() -> None:
    request = CASES["v4_5_character_reference"]()
    assert build_generate_request(request) == build_generate_request(request)


def test_a_reference_picture_prepared_once_builds_the_body_its_original_builds() -> None:
    request = CASES["v4_5_character_reference"]()
    original = request.character_references[0]
    prepared = original.model_copy(update={"image": reference_png(original.image)})
    again = request.model_copy(update={"character_references": (prepared,)})
    assert build_generate_request(again).body == build_generate_request(request).body
    sent = build_generate_request(again).body["parameters"]["director_reference_images"][0]
    assert base64.b64decode(sent) == prepared.image  # sent as it is, not encoded again


@pytest.mark.parametrize("case", ["v4_5_img2img", "v5_img2img"])
def test_a_source_fitted_once_builds_the_body_its_original_builds(case: str) -> None:
    request = CASES[case]()
    width, height = request.settings.width, request.settings.height
    source = request.source
    assert source is not None
    fitted = source.model_copy(update={"image": exact_png(source.image, width, height)})
    again = request.model_copy(update={"source": fitted})
    assert build_generate_request(again).body == build_generate_request(request).body
    sent = build_generate_request(again).body["parameters"]["image"]
    assert base64.b64decode(sent) == fitted.image  # sent as it is, not encoded again


def test_a_request_without_a_seed_is_refused_until_the_seed_is_resolved() -> None:
    request = GenerationRequest(prompt=Prompt(text="1girl"))
    with pytest.raises(InputError, match="resolve_seed"):
        build_generate_request(request)
    resolved = resolve_seed(request, random.Random(3))
    # R12: the web draws over the full unsigned 32-bit range (captured 2,849,895,151).
    assert resolved.settings.seed == random.Random(3).randint(0, 2**32 - 1)
    assert build_generate_request(resolved).body["parameters"]["seed"] == resolved.settings.seed


def test_resolve_seed_keeps_a_given_seed() -> None:
    request = GenerationRequest(prompt=Prompt(text="x"), settings=GenerationSettings(seed=17))
    assert resolve_seed(request) is request


@pytest.mark.parametrize("stream", ["msgpack", "sse"])
def test_a_stream_request_goes_to_the_stream_endpoint_with_the_format(stream: Any) -> None:
    built = build_generate_request(_req(), stream=stream)
    assert built.endpoint == "/ai/generate-image-stream"
    assert built.body["parameters"]["stream"] == stream
    plain = build_generate_request(_req())
    assert plain.endpoint == "/ai/generate-image"
    assert "stream" not in plain.body["parameters"]


@pytest.mark.parametrize(
    ("model", "text", "expected"),
    [
        # R6: V3 puts the quality tags on every `|` segment, before a trailing weight.
        (
            "nai-diffusion-3",
            "a | b",
            "a, best quality, amazing quality, very aesthetic, absurdres|"
            " b, best quality, amazing quality, very aesthetic, absurdres",
        ),
        (
            "nai-diffusion-furry-3",
            "cat:0.5|dog",
            "cat, {best quality}, {amazing quality}:0.5|dog, {best quality}, {amazing quality}",
        ),
        (
            "nai-diffusion-furry-3",
            "cat:0.5 |dog",
            "cat:0.5, {best quality}, {amazing quality}|dog, {best quality}, {amazing quality}",
        ),
        ("nai-diffusion-4-5-full", "a, b | c", "a, b, very aesthetic, masterpiece, no text | c"),
        (
            "nai-diffusion-4-5-full",
            "sign, text: Open | x",
            "sign, very aesthetic, masterpiece, no text, text: Open | x",
        ),
        # As typed, the tag completion's trailing ", " included: real V4.5 files from the web app
        # read "…, dancing, , very aesthetic, masterpiece, no text" (../shared/real-samples).
        ("nai-diffusion-4-5-full", "a, ", "a, , very aesthetic, masterpiece, no text"),
        (
            "nai-diffusion-4-5-full",
            "context: x",
            "context: x, very aesthetic, masterpiece, no text",
        ),
    ],
)
def test_the_quality_suffix_goes_where_the_web_app_puts_it(
    model: str, text: str, expected: str
) -> None:
    assert build_generate_request(_req(model, text)).body["input"] == expected


def test_quality_off_leaves_the_prompt_untouched() -> None:
    request = GenerationRequest(prompt=Prompt(text="a | b", quality=False), settings={"seed": 1})
    body = build_generate_request(request).body
    assert body["input"] == "a | b"
    assert body["parameters"]["qualityToggle"] is False


def test_quality_off_on_v5_sends_the_none_quality_preset() -> None:
    request = GenerationRequest(
        model="nai-diffusion-5-full",
        prompt=Prompt(text="1girl", quality=False),
        settings={"seed": 1},
    )
    parameters = build_generate_request(request).body["parameters"]
    assert body_input_unchanged(request)
    assert parameters["qualityPresetId"] == "none"
    assert parameters["tag_hint_qt"] == 0


def body_input_unchanged(request: GenerationRequest) -> bool:
    return build_generate_request(request).body["input"] == request.prompt.text


@pytest.mark.parametrize(
    ("model", "text", "uc_preset", "starts_with_nsfw"),
    [
        ("nai-diffusion-4-5-full", "1girl", "heavy", True),
        ("nai-diffusion-4-5-full", "1girl, NSFW", "heavy", False),
        ("nai-diffusion-4-5-full", "1girl", "none", False),
        ("nai-diffusion-4-5-curated", "1girl", "heavy", False),
        ("nai-diffusion-3", "1girl", "light", True),
    ],
)
def test_the_web_apps_nsfw_uc_rule(
    model: str, text: str, uc_preset: str, starts_with_nsfw: bool
) -> None:
    request = GenerationRequest(
        model=model, prompt=Prompt(text=text, uc_preset=uc_preset), settings={"seed": 1}
    )
    negative = _params(request)["negative_prompt"]
    assert negative.startswith("nsfw") is starts_with_nsfw


def test_uc_preset_none_sends_only_the_users_uc_and_v3_lowres_only_when_it_is_empty() -> None:
    # R7 (L model_post_init, Q2 mergeUcPreset): V3's "lowres" stands in for an empty user UC.
    for model, negative, expected in (
        ("nai-diffusion-4-5-full", "bad", "bad"),
        ("nai-diffusion-3", "bad hands", "bad hands"),
        ("nai-diffusion-3", "", "lowres"),
        ("nai-diffusion-5-full", "monochrome, ", "monochrome, "),  # verbatim, as captured (C)
    ):
        request = GenerationRequest(
            model=model,
            prompt=Prompt(text="x", negative=negative, uc_preset="none"),
            settings={"seed": 1},
        )
        assert _params(request)["negative_prompt"] == expected


def test_variety_plus_scales_with_the_canvas_area() -> None:
    small = _params(_req(width=832, height=1216, variety=True))["skip_cfg_above_sigma"]
    assert small == pytest.approx(58.0)
    v4 = _params(_req("nai-diffusion-4-full", width=1216, height=832, variety=True))
    assert v4["skip_cfg_above_sigma"] == pytest.approx(19.0)
    assert "skip_cfg_above_sigma" not in _params(_req())


def test_every_request_turns_the_servers_ancestral_bug_default_off() -> None:
    # R14 b: the server defaults deliberate_euler_ancestral_bug to true when it is left out.
    for request in (
        _req(sampler="k_euler"),
        _req("nai-diffusion-3", noise_schedule="native"),
        _req("nai-diffusion-5-full"),
    ):
        params = _params(request)
        assert params["deliberate_euler_ancestral_bug"] is False
        assert params["prefer_brownian"] is True


def test_a_lone_character_with_a_position_sets_use_coords() -> None:
    request = GenerationRequest(
        model="nai-diffusion-5-full",
        prompt=Prompt(text="1girl"),
        settings={"seed": 1},
        characters=(Character(prompt="girl", position=(0.123, 0.987)),),
    )
    params = _params(request)
    assert params["use_coords"] is True
    assert params["v4_prompt"]["use_coords"] is True
    assert params["characterPrompts"][0]["center"] == {"x": 0.123, "y": 0.987}


def test_img2img_extra_noise_seed_wraps_seed_zero_to_the_top_of_the_32_bit_range() -> None:
    from tests.golden_cases import solid

    # R8: seed − 1, and 4294967295 for seed 0 (2026-09 bundle), never negative.
    for seed, expected in ((0, 4_294_967_295), (1_876_249_869, 1_876_249_868)):
        request = GenerationRequest(
            prompt=Prompt(text="x"),
            settings={"seed": seed},
            source=Img2ImgSource(image=solid((64, 64), (1, 2, 3))),
        )
        assert _params(request)["extra_noise_seed"] == expected


def test_the_built_request_carries_the_tier_free_estimate() -> None:
    built = build_generate_request(_req(steps=28))
    assert built.cost == estimate_cost(_req(steps=28))
    assert built.cost.total == 20  # 832×1216, 28 steps (contract §11)


def test_encode_vibe_body_names_the_generation_model() -> None:
    from tests.golden_cases import solid

    body = build_encode_vibe_request(
        solid((64, 64), (5, 5, 5)), model="nai-diffusion-4-5-full", information_extracted=0.4
    )
    assert set(body) == {"image", "information_extracted", "model"}
    assert body["model"] == "nai-diffusion-4-5-full"
    assert body["information_extracted"] == 0.4
    assert not body["image"].startswith("data:")
    with pytest.raises(InputError, match="encoded vibes"):
        build_encode_vibe_request(b"", model="nai-diffusion-3", information_extracted=1)


def test_augment_bodies_follow_the_director_tool_rules() -> None:
    from tests.golden_cases import solid

    image = solid((128, 64), (9, 9, 9))
    emotion = build_augment_request(
        "emotion", image, emotion="happy", emotion_extra="wink", defry=2
    )
    assert emotion["prompt"] == "happy;;wink"
    assert (emotion["width"], emotion["height"], emotion["defry"]) == (128, 64, 2)
    lineart = build_augment_request("lineart", image)
    assert set(lineart) == {"req_type", "image", "width", "height"}
    with pytest.raises(InputError, match="emotion"):
        build_augment_request("emotion", image, emotion="grumpy")
    with pytest.raises(InputError, match="defry"):
        build_augment_request("colorize", image, defry=6)
    with pytest.raises(InputError, match="tool"):
        build_augment_request("paint", image)


def test_upscale_body_and_source_limit() -> None:
    from tests.golden_cases import solid

    body = build_upscale_request(solid((64, 64), (1, 1, 1)))
    assert body["model"] == "nai-diffusion-5-curated"
    assert body["declared_blur_sigma"] == 0
    assert build_upscale_request(solid((2048, 1536), (1, 1, 1)))["image"]
    with pytest.raises(InputError, match="upscale limit"):
        build_upscale_request(solid((1600, 2048), (1, 1, 1)))


def test_v5_inpaint_sends_image_and_mask_inline_as_base64_json() -> None:
    from novelai_core.models.user import InpaintSource
    from tests.golden_cases import box_mask, solid

    request = GenerationRequest(
        model="nai-diffusion-5-full",
        prompt=Prompt(text="x"),
        settings={"seed": 1, "width": 512, "height": 512},
        source=InpaintSource(
            image=solid((256, 256), (1, 2, 3)), mask=box_mask((256, 256), (0, 0, 128, 128))
        ),
    )
    # R9 d: the schema's JSON form with base64 is what live probes got 200 for on V5.
    built = build_generate_request(request)
    params = built.body["parameters"]
    assert built.body["model"] == "nai-diffusion-5-full-inpainting"
    assert describe_bytes(base64.b64decode(params["image"])).startswith("png 512x512 RGB")
    assert describe_bytes(base64.b64decode(params["mask"])).startswith("png 512x512 L")
    assert params["extra_noise_seed"] == 0
