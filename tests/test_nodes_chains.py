"""Config nodes build immutable values, chains append without mutating, tensors convert exactly."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from PIL import Image

from novelai_core.converter.images import to_pil
from tests.comfy_harness import load_pack, pack_module

PACK = load_pack()
NODES = PACK.NODE_CLASS_MAPPINGS
tensors = PACK.nodes.runtime.tensors
source_module = PACK.nodes.source
spend_guard = PACK.nodes.runtime.spend_guard


def _run(node_id: str, **kwargs: Any) -> tuple[Any, ...]:
    node_class = NODES[node_id]
    return getattr(node_class(), node_class.FUNCTION)(**kwargs)


def _image(width: int = 48, height: int = 32, colour: float = 0.25) -> torch.Tensor:
    return torch.full((1, height, width, 3), colour, dtype=torch.float32)


def test_a_saved_workflows_old_uc_preset_name_still_loads_as_the_web_id() -> None:
    spec = NODES["NovelAI_Prompt"].INPUT_TYPES()["required"]["uc_preset"][0]
    assert {"humanFocus", "furryFocus", "human", "furry"} <= set(spec)
    widgets = {"prompt": "x", "negative": "", "quality_tags": True, "quality_preset": "standard"}
    (prompt,) = _run("NovelAI_Prompt", uc_preset="human", **widgets)
    assert prompt.uc_preset == "humanFocus"


def test_the_prompt_node_builds_a_frozen_prompt_with_every_widget() -> None:
    (prompt,) = _run(
        "NovelAI_Prompt",
        prompt="{1girl}, 1.2::smile::",
        negative="lowres",
        quality_tags=False,
        quality_preset="standard",
        uc_preset="light",
    )
    assert (prompt.text, prompt.negative, prompt.quality, prompt.uc_preset) == (
        "{1girl}, 1.2::smile::",
        "lowres",
        False,
        "light",
    )
    with pytest.raises(Exception, match="frozen"):
        prompt.text = "changed"


def test_a_character_chain_appends_and_leaves_the_incoming_chain_untouched() -> None:
    (first,) = _run(
        "NovelAI_Character", prompt="girl, red hair", uc="", position="B3", x=0.5, y=0.5,
        enabled=True,
    )  # fmt: skip
    snapshot = copy.deepcopy(first)
    (second,) = _run(
        "NovelAI_Character", prompt="boy", uc="hat", position="custom x/y", x=0.8, y=0.2,
        enabled=True, characters=first,
    )  # fmt: skip
    (branch,) = _run(
        "NovelAI_Character", prompt="cat", uc="", position="AI's choice", x=0.5, y=0.5,
        enabled=False, characters=first,
    )  # fmt: skip
    assert isinstance(second, tuple) and isinstance(branch, tuple)
    assert first == snapshot and len(first) == 1
    assert [c.prompt for c in second] == ["girl, red hair", "boy"]
    assert [c.prompt for c in branch] == ["girl, red hair", "cat"]
    assert second[0] is first[0]
    assert (first[0].position, second[1].position, branch[1].position) == ("B3", (0.8, 0.2), None)
    assert branch[1].enabled is False


@pytest.mark.parametrize(
    ("node_id", "kwargs", "chain_input", "size"),
    [
        (  # the picture as sent: letterboxed onto the landscape reference canvas, once
            "NovelAI_CharacterReference",
            {"mode": "style", "strength": 0.8, "fidelity": 0.5},
            "character_references",
            (1536, 1024),
        ),
        ("NovelAI_Vibe", {"information_extracted": 0.7, "strength": 0.4}, "vibes", (48, 32)),
    ],
)
def test_reference_and_vibe_chains_append_a_new_tuple(
    node_id: str, kwargs: dict[str, Any], chain_input: str, size: tuple[int, int]
) -> None:
    (one,) = _run(node_id, image=_image(), **kwargs)
    (two,) = _run(node_id, image=_image(colour=0.75), **{chain_input: one}, **kwargs)
    assert len(one) == 1 and len(two) == 2 and two[0] is one[0]
    assert isinstance(one[0].image, bytes) and to_pil(one[0].image).size == size
    centre = (size[0] // 2, size[1] // 2)
    assert to_pil(two[1].image).getpixel(centre)[:3] == (191, 191, 191)


def test_the_first_image_of_a_batch_feeds_a_vibe() -> None:
    batch = torch.cat([_image(colour=0.0), _image(colour=1.0)])
    (vibes,) = _run("NovelAI_Vibe", image=batch, information_extracted=1.0, strength=0.6)
    assert len(vibes) == 1 and to_pil(vibes[0].image).getpixel((0, 0)) == (0, 0, 0)


def test_the_inpaint_node_keeps_white_as_repaint_and_maps_its_strength() -> None:
    mask = torch.zeros((1, 32, 48))
    mask[:, :, 24:] = 1.0
    (source,) = _run(
        "NovelAI_Inpaint", image=_image(), mask=mask, strength=0.55, noise=0.1,
        add_original_image=True,
    )  # fmt: skip
    assert source.mask.mode == "L"
    assert source.mask.getpixel((0, 0)) == 0 and source.mask.getpixel((47, 0)) == 255
    assert (source.img2img_strength, source.noise, source.add_original_image) == (0.55, 0.1, True)


def test_images_become_a_float32_batch_in_0_1_with_alpha_as_an_inverted_mask() -> None:
    opaque = Image.new("RGB", (8, 4), (255, 0, 128))
    transparent = Image.new("RGBA", (8, 4), (10, 20, 30, 0))
    transparent.putpixel((1, 2), (10, 20, 30, 255))
    batch, mask = tensors.images_to_tensors([opaque, transparent])
    assert batch.shape == (2, 4, 8, 3) and batch.dtype == torch.float32
    assert mask.shape == (2, 4, 8) and mask.dtype == torch.float32
    assert float(batch.min()) >= 0.0 and float(batch.max()) <= 1.0
    assert batch[0, 0, 0].tolist() == pytest.approx([1.0, 0.0, 128 / 255])
    assert float(mask[0].abs().max()) == 0.0  # opaque → zeros
    assert float(mask[1, 0, 0]) == 1.0 and float(mask[1, 2, 1]) == 0.0


def test_images_of_different_sizes_are_refused_as_one_batch() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        tensors.images_to_tensors([Image.new("RGB", (8, 8)), Image.new("RGB", (16, 8))])


def test_a_tensor_round_trips_through_pil_exactly() -> None:
    original = Image.effect_noise((16, 8), 64).convert("RGB")
    batch, _ = tensors.images_to_tensors([original])
    assert tensors.tensor_to_pil(batch).tobytes() == original.tobytes()


def test_fitting_scales_to_cover_and_centre_crops_without_distortion() -> None:
    # 200x100: left quarter red, middle half green, right quarter blue → fit to 64x64.
    image = Image.new("RGB", (200, 100), (0, 255, 0))
    image.paste((255, 0, 0), (0, 0, 50, 100))
    image.paste((0, 0, 255), (150, 0, 200, 100))
    fitted = source_module.fit_cover(image, 64, 64)
    assert fitted.size == (64, 64)
    # Scaled ×0.64 to 128x64, cropped 32 px each side: only green (the middle half) remains.
    for x in (6, 32, 57):
        red, green, blue = fitted.getpixel((x, 32))
        assert red < 16 and green > 239 and blue < 16, (x, fitted.getpixel((x, 32)))


def test_fitting_a_source_returns_a_new_source_and_keeps_the_original() -> None:
    mask = torch.ones((1, 32, 48))
    (source,) = _run(
        "NovelAI_Inpaint", image=_image(), mask=mask, strength=1.0, noise=0.0,
        add_original_image=False,
    )  # fmt: skip
    fitted = source_module.fit_source(source, 64, 128)
    assert to_pil(fitted.image).size == fitted.mask.size == (64, 128)  # the image as sent (PNG)
    assert source.image.size == source.mask.size == (48, 32)
    assert fitted is not source


@pytest.mark.parametrize(
    ("guard", "total", "allowed"),
    [
        ("free only", 0, True),
        ("free only", 2, False),
        ("up to 10 Anlas", 10, True),
        ("up to 10 Anlas", 11, False),
        ("up to 500 Anlas", 140, True),
        ("no limit", 10_000, True),
    ],
)
def test_the_spend_guard_allows_up_to_its_limit(guard: str, total: int, allowed: bool) -> None:
    SpendLimitError = pack_module("novelai_core.errors").SpendLimitError  # noqa: N806 - a class

    estimate = type("Estimate", (), {"total": total})()
    if allowed:
        spend_guard.check_spend(estimate, guard, 3)
        return
    with pytest.raises(SpendLimitError) as caught:
        spend_guard.check_spend(estimate, guard, 1)
    text = str(caught.value)
    assert f"{total} Anlas" in text and "Tablet" in text and "Nothing was sent" in text
    assert "spend guard to 'up to" in text
