"""Director tools nodes against the simulator: what NovelAI receives, what the graph gets back,
and the spend guard refusing before any request."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from novelai_core.contract.constants import EMOTIONS, PATH_AUGMENT
from novelai_core.contract.cost import augment_cost
from novelai_core.contract.tool_sizes import (
    DIRECTOR_MAX_PIXELS,
    DIRECTOR_MIN_PIXELS,
    director_size,
)
from tests.comfy_harness import call_node, comfy_runtime, pack_module
from tests.tool_support import check_image, gradient

director = pack_module("nodes.director")
errors = pack_module("novelai_core.errors")

SOURCE_W, SOURCE_H = 64, 96  # small source: the web app scales it up to about 1 MP
SENT_W, SENT_H = director_size(SOURCE_W, SOURCE_H)


def _only_body(sim: Any) -> dict[str, Any]:
    bodies = sim.requests_seen(PATH_AUGMENT)
    assert len(bodies) == 1
    return bodies[0]


def test_director_size_scales_small_images_up_and_big_ones_down_keeping_the_aspect() -> None:
    w, h = director_size(64, 96)
    assert DIRECTOR_MIN_PIXELS * 0.99 <= w * h <= DIRECTOR_MIN_PIXELS
    assert abs(w / h - 64 / 96) < 0.01
    w, h = director_size(4000, 3000)
    assert w * h <= DIRECTOR_MAX_PIXELS and abs(w / h - 4 / 3) < 0.01
    assert director_size(1024, 1024) == (1024, 1024)


@pytest.mark.parametrize(
    ("node", "kwargs", "req_type"),
    [
        ("NovelAILineArt", {}, "lineart"),
        ("NovelAISketch", {}, "sketch"),
        ("NovelAIDeclutter", {"keep_speech_bubbles": False}, "declutter"),
        ("NovelAIDeclutter", {"keep_speech_bubbles": True}, "declutter-keep-bubbles"),
    ],
)
def test_each_one_image_tool_sends_its_req_type_at_the_web_apps_size(
    sim: Any, node: str, kwargs: dict[str, Any], req_type: str
) -> None:
    (image,) = call_node(
        getattr(director, node)(),
        image=gradient(SOURCE_W, SOURCE_H),
        spend_guard="free only",
        **kwargs,
    )
    body = _only_body(sim)
    assert body["req_type"] == req_type
    assert (body["width"], body["height"]) == (SENT_W, SENT_H)
    assert "prompt" not in body and "defry" not in body
    check_image(image, SENT_W, SENT_H)
    assert sim.spent() == 0  # Opus, at most 1 MP: free


def test_colorize_sends_the_prompt_and_defry(sim: Any) -> None:
    (image,) = call_node(
        director.NovelAIColorize(),
        image=gradient(SOURCE_W, SOURCE_H),
        prompt="red hair",
        defry=3,
        spend_guard="free only",
    )
    body = _only_body(sim)
    assert (body["req_type"], body["prompt"], body["defry"]) == ("colorize", "red hair", 3)
    check_image(image, SENT_W, SENT_H)


@pytest.mark.parametrize(("emotion", "level"), [(EMOTIONS[0], 0), (EMOTIONS[-1], 5)])
def test_emotion_sends_emotion_and_extra_and_the_level_as_defry(
    sim: Any, emotion: str, level: int
) -> None:
    call_node(
        director.NovelAIEmotion(),
        image=gradient(SOURCE_W, SOURCE_H),
        emotion=emotion,
        level=level,
        extra_prompt="tears",
        spend_guard="free only",
    )
    body = _only_body(sim)
    assert (body["req_type"], body["prompt"], body["defry"]) == (
        "emotion",
        f"{emotion};;tears",
        level,
    )


def test_the_emotion_node_offers_all_24_emotions_and_six_levels() -> None:
    spec = director.NovelAIEmotion.INPUT_TYPES()["required"]
    assert spec["emotion"][0] == list(EMOTIONS) and len(EMOTIONS) == 24
    assert (spec["level"][1]["min"], spec["level"][1]["max"]) == (0, 5)


def test_background_removal_gives_three_images_and_the_background_mask(sim: Any) -> None:
    masked, generated, blend, mask = call_node(
        director.NovelAIRemoveBackground(),
        image=gradient(SOURCE_W, SOURCE_H),
        spend_guard="up to 100 Anlas",
    )
    assert _only_body(sim)["req_type"] == "bg-removal"
    for image in (masked, generated, blend):
        assert image.dtype == torch.float32 and tuple(image.shape) == (1, SENT_H, SENT_W, 3)
    assert mask.dtype == torch.float32 and tuple(mask.shape) == (1, SENT_H, SENT_W)
    # The simulator keeps a central ellipse: background (corners) masked 1, centre 0.
    assert float(mask[0, 0, 0]) == 1.0 and float(mask[0, SENT_H // 2, SENT_W // 2]) == 0.0
    assert sim.spent() == augment_cost("bg-removal", SENT_W, SENT_H, tier=3) > 0


def test_background_removal_under_free_only_is_refused_before_any_request(sim: Any) -> None:
    with pytest.raises(errors.SpendLimitError, match="Nothing was sent"):
        call_node(
            director.NovelAIRemoveBackground(),
            image=gradient(SOURCE_W, SOURCE_H),
            spend_guard="free only",
        )
    assert sim.requests_seen(PATH_AUGMENT) == []
    assert sim.spent() == 0


def test_a_paid_tool_on_a_non_opus_account_is_refused_under_free_only(sim: Any) -> None:
    sim.set_tier(1)
    with pytest.raises(errors.SpendLimitError):
        call_node(
            director.NovelAILineArt(), image=gradient(SOURCE_W, SOURCE_H), spend_guard="free only"
        )
    assert sim.requests_seen(PATH_AUGMENT) == []


def test_the_cost_is_shown_under_the_node(sim: Any) -> None:
    with comfy_runtime() as runtime:
        call_node(
            director.NovelAISketch(),
            image=gradient(SOURCE_W, SOURCE_H),
            spend_guard="free only",
            unique_id="7",
        )
    texts = [text for text, node in runtime.texts if node == "7"]
    assert texts[0] == "Sending to NovelAI: free."
    assert texts[-1] == "Done: free."
