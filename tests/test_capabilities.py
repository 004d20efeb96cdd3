"""The capability table: every model id of the contract, with consistent rows."""

from __future__ import annotations

import pytest

from novelai_core.contract import constants
from novelai_core.contract.capabilities import (
    GENERATION_MODEL_IDS,
    MODELS,
    UnknownModelError,
    get_capability,
    inpainting_capability,
)
from novelai_core.contract.presets import TAG_HINTS

CONTRACT_IDS = {
    "nai-diffusion-3",
    "nai-diffusion-furry-3",
    "nai-diffusion-4-curated-preview",
    "nai-diffusion-4-full",
    "nai-diffusion-4-5-curated",
    "nai-diffusion-4-5-full",
    "nai-diffusion-5-full",
    "nai-diffusion-5-curated",
    "nai-diffusion-5-full-medium",
    "nai-diffusion-3-inpainting",
    "nai-diffusion-furry-3-inpainting",
    "nai-diffusion-4-full-inpainting",
    "nai-diffusion-4-curated-inpainting",
    "nai-diffusion-4-5-full-inpainting",
    "nai-diffusion-4-5-curated-inpainting",
    "nai-diffusion-5-full-inpainting",
    "nai-diffusion-5-curated-inpainting",
}


def test_the_table_lists_every_model_id_of_the_contract() -> None:
    assert set(MODELS) == CONTRACT_IDS


def test_every_generation_model_has_an_inpainting_model_that_novelai_serves() -> None:
    for model_id in GENERATION_MODEL_IDS:
        target = inpainting_capability(model_id)
        assert target.inpainting and target.exists


def test_v5_curated_inpainting_falls_back_to_v45_curated_inpainting() -> None:
    assert not get_capability("nai-diffusion-5-curated-inpainting").exists
    fallback = inpainting_capability("nai-diffusion-5-curated")
    assert fallback.id == "nai-diffusion-4-5-curated-inpainting"
    assert fallback.params_version == 3


def test_an_unknown_model_is_named_in_the_error() -> None:
    with pytest.raises(UnknownModelError, match="nai-diffusion-9"):
        get_capability("nai-diffusion-9")


def test_defaults_are_allowed_by_their_own_row() -> None:
    for cap in MODELS.values():
        assert cap.default_sampler in cap.samplers
        assert cap.default_noise_schedule in cap.noise_schedules
        assert set(cap.samplers) <= set(constants.SAMPLERS)
        assert set(cap.noise_schedules) <= set(constants.NOISE_SCHEDULES)


def test_v4_and_later_never_offer_native_and_v5_forces_karras() -> None:
    for cap in MODELS.values():
        if cap.is_v4_plus:
            assert "native" not in cap.noise_schedules
        if cap.family == "v5":
            assert cap.noise_schedules == ("karras",)


def test_feature_flags_follow_the_contract() -> None:
    v3, v45, v5 = (
        get_capability(m)
        for m in ("nai-diffusion-3", "nai-diffusion-4-5-full", "nai-diffusion-5-full")
    )
    assert v3.smea and v3.decrisper and v3.vibe_mode == "raw" and v3.max_characters == 0
    assert v45.variety_base == 58 and v45.character_reference and v45.max_characters == 6
    assert v5.params_version == 4 and v5.variety_base is None and v5.vibe_mode == "none"
    assert v5.max_characters == 32 and v5.free_positions and v5.cost_multiplier == 1.5
    assert get_capability("nai-diffusion-4-full").variety_base == 19


def test_inpainting_models_take_no_vibes_or_references() -> None:
    for cap in MODELS.values():
        if cap.inpainting:
            assert cap.vibe_mode == "none" and not cap.character_reference


def test_uc_preset_index_follows_the_web_app_order() -> None:
    v45 = get_capability("nai-diffusion-4-5-full")
    names = ("heavy", "light", "furryFocus", "humanFocus", "none")  # the web's ids (R1)
    assert [v45.uc_preset_index(n) for n in names] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="furryFocus"):
        get_capability("nai-diffusion-4-5-curated").uc_preset_index("furryFocus")


def test_both_tag_hints_read_one_numeric_table() -> None:
    # R1 (F §3, P, Q1; on the wire: light 3 / none 0 in C, standard 1 / heavy 2 in Q5).
    assert {name: TAG_HINTS[name] for name in ("none", "standard", "heavy", "light")} == {
        "none": 0,
        "standard": 1,
        "heavy": 2,
        "light": 3,
    }
    assert (TAG_HINTS["humanFocus"], TAG_HINTS["furryFocus"]) == (4, 5)
    for cap in MODELS.values():
        assert set(cap.uc_preset_names) <= set(TAG_HINTS)
        assert set(cap.quality_preset_names) <= set(TAG_HINTS)


def test_constant_names_match_their_values() -> None:
    for name in constants.SAMPLERS:
        assert getattr(constants, name.upper()) == name
    for name in constants.NOISE_SCHEDULES:
        assert getattr(constants, name.upper()) == name


def test_grid_cells_map_to_contract_centres() -> None:
    assert constants.grid_center("A1") == (0.1, 0.1)
    assert constants.grid_center("c3") == (0.5, 0.5)
    assert constants.grid_center("E5") == (0.9, 0.9)
    assert constants.grid_center("B4") == (0.3, 0.7)
    with pytest.raises(ValueError):
        constants.grid_center("F1")


def test_area_limits_samples() -> None:
    assert constants.max_samples_for_area(512, 704) == 8
    assert constants.max_samples_for_area(640, 640) == 6
    assert constants.max_samples_for_area(832, 1216) == 4
    assert constants.max_samples_for_area(2048, 2048) == 0
