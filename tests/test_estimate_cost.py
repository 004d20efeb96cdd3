"""The user-level Anlas estimate (contract §11) through converter.estimate_cost."""

from __future__ import annotations

from typing import Any

from novelai_core.converter.generation import estimate_cost, validate_request
from novelai_core.models.user import (
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Prompt,
    Vibe,
)
from tests.golden_cases import solid

OPUS = 3
IMG = solid((64, 64), (0, 0, 0))


def _req(model: str = "nai-diffusion-4-5-full", **kwargs: Any) -> GenerationRequest:
    settings = GenerationSettings(**{"seed": 1, **kwargs.pop("settings", {})})
    return GenerationRequest(model=model, prompt=Prompt(text="x"), settings=settings, **kwargs)


def test_the_worked_values_of_the_contract() -> None:
    assert estimate_cost(_req(settings={"width": 1024, "height": 1024, "steps": 28})).total == 20
    assert estimate_cost(_req(settings={"steps": 28})).total == 20


def test_steps_default_to_the_models_own() -> None:
    # 832×1216 at V4.5's default 23 steps: ceil(2.985 + 13.387) = 17.
    assert estimate_cost(_req()).per_image == 17


def test_opus_gets_one_sample_free_at_the_edge_of_the_rule() -> None:
    edge = _req(settings={"width": 1024, "height": 1024, "steps": 28, "n_samples": 2})
    assert estimate_cost(edge, tier=OPUS).total == 20
    assert estimate_cost(edge, tier=2).total == 40
    assert estimate_cost(_req(settings={"steps": 28}), tier=OPUS).free_for_opus is True
    one = estimate_cost(_req(settings={"width": 1024, "height": 1024, "steps": 28}), tier=OPUS)
    assert one.total == 0 and one.free_for_opus is True


def test_one_step_or_one_block_over_the_edge_is_never_free() -> None:
    steps = _req(settings={"width": 1024, "height": 1024, "steps": 29})
    assert estimate_cost(steps, tier=OPUS).total == estimate_cost(steps).total > 0
    assert estimate_cost(steps).free_for_opus is False
    assert estimate_cost(steps, tier=OPUS).free_for_opus is False
    area = _req(settings={"width": 1024, "height": 1088, "steps": 28})
    assert estimate_cost(area, tier=OPUS).free_for_opus is False
    assert estimate_cost(area, tier=OPUS).total > 0


def test_v5_costs_half_as_much_again() -> None:
    base = estimate_cost(_req(settings={"steps": 28})).per_image
    assert estimate_cost(_req("nai-diffusion-5-full", settings={"steps": 28})).per_image == 30
    assert base == 20
    square = _req("nai-diffusion-5-full", settings={"width": 1024, "height": 1024, "steps": 28})
    assert estimate_cost(square, tier=0).total == 30  # ceil first, then ×1.5


def test_img2img_strength_discounts_the_image() -> None:
    request = _req(settings={"steps": 28}, source=Img2ImgSource(image=IMG, strength=0.5))
    assert estimate_cost(request).per_image == 10


def test_smea_multiplies_the_v3_price() -> None:
    plain = estimate_cost(_req("nai-diffusion-3", settings={"steps": 28})).per_image
    smea = estimate_cost(_req("nai-diffusion-3", settings={"steps": 28, "smea": True})).per_image
    dyn = estimate_cost(
        _req("nai-diffusion-3", settings={"steps": 28, "smea": True, "smea_dyn": True})
    ).per_image
    assert (plain, smea, dyn) == (20, 24, 28)


def test_character_references_cost_five_each_even_on_opus() -> None:
    request = _req(
        settings={"steps": 28}, character_references=(CharacterReference(image=IMG),) * 2
    )
    assert estimate_cost(request).total == 20 + 10
    opus = estimate_cost(request, tier=OPUS)
    assert opus.total == 10
    assert opus.free_for_opus is False


def test_vibes_beyond_four_and_uncached_encodes_cost_two_each() -> None:
    vibe = Vibe(encoding=b"e")
    request = _req(settings={"steps": 28}, vibes=(vibe,) * 6)
    assert estimate_cost(request).total == 20 + 2 * 2
    assert estimate_cost(request, vibes_to_encode=3).total == 20 + 4 + 6
    assert estimate_cost(request, tier=OPUS, vibes_to_encode=3).total == 4 + 6  # image free
    assert estimate_cost(_req(settings={"steps": 28}, vibes=(vibe,) * 4)).total == 20


def test_the_extra_vibe_charge_is_per_request_and_references_per_image() -> None:
    # Contract §8: +2 per vibe beyond 4 "per generation"; +5 per reference per image.
    vibe = Vibe(encoding=b"e", encoding_model="nai-diffusion-4-5-full")
    two = {"steps": 28, "n_samples": 2}
    assert estimate_cost(_req(settings=two, vibes=(vibe,) * 6)).total == 2 * 20 + 2 * 2
    refs = (CharacterReference(image=IMG),) * 2
    assert estimate_cost(_req(settings=two, character_references=refs)).total == 2 * (20 + 10)


def test_the_140_anlas_limit_is_checked_before_the_v5_multiplier() -> None:
    # 3 MiP at 50 steps: 100 Anlas before V5's ×1.5, so allowed; the image costs 150.
    v5 = _req("nai-diffusion-5-full", settings={"width": 1536, "height": 2048, "steps": 50})
    validate_request(v5)
    assert estimate_cost(v5).per_image == 150


def test_the_v5_curated_inpaint_fallback_is_priced_as_the_model_that_runs() -> None:
    source = InpaintSource(image=IMG, mask=IMG, strength=0.99)  # the contract's maximum
    v5 = estimate_cost(_req("nai-diffusion-5-curated", settings={"steps": 28}, source=source))
    assert v5.per_image == 20  # V4.5 curated inpainting: no ×1.5
