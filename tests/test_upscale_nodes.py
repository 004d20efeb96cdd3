"""Upscale and Enhance nodes against the simulator: the bodies NovelAI receives, sizes, the
source limit and the spend guard, each checked before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from novelai_core.contract.constants import (
    ENHANCE_LEVELS,
    PATH_GENERATE,
    PATH_GENERATE_STREAM,
    PATH_UPSCALE,
)
from novelai_core.contract.cost import upscale_cost
from novelai_core.contract.tool_sizes import enhance_size
from novelai_core.errors import InputError
from tests.comfy_harness import call_node, pack_module, prompt_from_node
from tests.tool_support import check_image, gradient

upscale = pack_module("nodes.upscale")
errors = pack_module("novelai_core.errors")
NO_GUARD = "no limit"


def test_upscale_sends_the_2026_body_and_returns_twice_the_size(sim: Any) -> None:
    (image,) = call_node(upscale.NovelAIUpscale(), image=gradient(96, 64), spend_guard=NO_GUARD)
    (body,) = sim.requests_seen(PATH_UPSCALE)
    assert set(body) == {"image", "model", "declared_blur_sigma"}
    assert (body["model"], body["declared_blur_sigma"]) == ("nai-diffusion-5-curated", 0)
    check_image(image, 192, 128)
    assert sim.spent() == upscale_cost(96, 64) == 1


def test_upscale_is_refused_under_free_only_even_on_opus(sim: Any) -> None:
    with pytest.raises(errors.SpendLimitError, match="Nothing was sent") as caught:
        call_node(upscale.NovelAIUpscale(), image=gradient(96, 64), spend_guard="free only")
    message = str(caught.value)
    assert "this Upscale run is estimated at 1 Anlas on your Opus" in message
    assert "generation" not in message and "1024x1024" not in message
    assert "spend guard to 'up to 10 Anlas'" in message
    assert sim.requests_seen(PATH_UPSCALE) == []


def test_a_source_above_1536_by_2048_is_refused_before_any_request(sim: Any) -> None:
    with pytest.raises(errors.InputError, match="upscale limit"):
        call_node(upscale.NovelAIUpscale(), image=gradient(1600, 1600), spend_guard=NO_GUARD)
    assert sim.stats()["requests"] == {}  # not even the subscription lookup


def test_enhance_sizes_are_the_source_times_magnitude_rounded_to_64() -> None:
    assert enhance_size(832, 1216, 1.0) == (832, 1216)
    assert enhance_size(832, 1216, 1.5) == (1280, 1856)  # 1248 → 1280, 1824 → 1856
    assert enhance_size(100, 70, 1.5) == (128, 128)
    with pytest.raises(InputError, match="above NovelAI's limit"):
        enhance_size(1536, 2048, 1.5)


def _prompt() -> Any:
    return prompt_from_node("1girl, smile", quality_tags=False, uc_preset="none")


def _enhance(**overrides: Any) -> tuple[Any, ...]:
    kwargs: dict[str, Any] = {
        "image": gradient(128, 192),
        "prompt": _prompt(),
        "model": "nai-diffusion-4-5-full",
        "magnitude": "1.5x",
        "level": 5,
        "seed": 77,
        "steps": 6,
        "scale": 5.0,
        "sampler": "k_euler_ancestral",
        "spend_guard": "free only",
        "stream": False,
    }
    return call_node(upscale.NovelAIEnhance(), **{**kwargs, **overrides})


@pytest.mark.parametrize("level", [1, 5])
def test_enhance_is_img2img_on_the_enlarged_copy_at_the_levels_strength_and_noise(
    sim: Any, level: int
) -> None:
    images, _mask, seed, metadata = _enhance(level=level, stream=True)
    (body,) = sim.requests_seen(PATH_GENERATE_STREAM)
    params = body["parameters"]
    # R10: on V4.5/V5 Enhance adds the web app's prompt addition.
    assert body["action"] == "img2img" and body["input"] == "1girl, smile, -2::upscaled, blurry::,"
    assert (params["width"], params["height"]) == (192, 320)  # 128×192 × 1.5, rounded to 64
    assert (params["strength"], params["noise"]) == ENHANCE_LEVELS[level]
    assert params["seed"] == seed == 77
    assert params["image"].startswith("<image sha256=")  # a real PNG went (elided in the log)
    check_image(images, 192, 320)
    assert '"seed": 77' in metadata


def test_enhance_above_the_opus_free_size_is_refused_under_free_only(sim: Any) -> None:
    with pytest.raises(errors.SpendLimitError):
        _enhance(image=gradient(832, 1216), magnitude="1.5x", steps=6)
    assert sim.requests_seen(PATH_GENERATE_STREAM) == []


def test_enhance_max_on_v5_keeps_the_source_size_and_asks_novelai_to_enlarge(sim: Any) -> None:
    _enhance(model="nai-diffusion-5-full", magnitude=upscale.MAX_MAGNITUDE, spend_guard=NO_GUARD)
    (body,) = sim.requests_seen(PATH_GENERATE)
    params = body["parameters"]
    assert (params["width"], params["height"], params["upscaled_enhance"]) == (128, 192, True)
    assert body["input"] == "1girl, smile"  # no prompt addition for Max (R10)


def test_enhance_under_fit_to_free_redraws_a_smaller_copy_for_free(sim: Any) -> None:
    # 832×1216 × 1.5 = 1280×1856: above Opus' free 1 MP, so fit to free shrinks the canvas.
    images, *_ = _enhance(image=gradient(832, 1216), spend_guard="fit to free", stream=True)
    (body,) = sim.requests_seen(PATH_GENERATE_STREAM)
    width, height = body["parameters"]["width"], body["parameters"]["height"]
    assert width * height <= 1024 * 1024 and (width, height) == (832, 1216)
    assert sim.spent() == 0
    check_image(images, width, height)
