"""The Generate node looks the account tier up once a minute, not before every image."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from novelai_core.constants import PATH_SUBSCRIPTION
from tests.comfy_harness import load_pack, pack_module
from tests.conftest import SIM_TOKEN

NODES = load_pack().NODE_CLASS_MAPPINGS
session = pack_module("nodes.session")
errors = pack_module("novelai_core.errors")


@pytest.fixture
def sim(simulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("NAI_IMAGE_BASE_URL", simulator.url)
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    monkeypatch.delenv("NOVELAI_API_KEY", raising=False)
    monkeypatch.setenv("NAI_TOKEN_FILE", str(tmp_path / "no-token-file"))
    yield simulator


def _generate(seed: int) -> Any:
    prompt = NODES["NovelAI_Prompt"]().build(
        prompt="1girl", negative="", quality_tags=True, quality_preset="standard",
        uc_preset="heavy",
    )[0]  # fmt: skip
    return NODES["NovelAI_Generate"]().generate(
        prompt=prompt, model="nai-diffusion-4-5-full", size="Custom", width=256, height=384,
        seed=seed, steps=6, scale=5.0, sampler="k_euler_ancestral", noise_schedule="karras",
        cfg_rescale=0.0, variety=False, samples=1, spend_guard="free only", stream=False,
        smea="off", decrisper=False, transparent_background=False, unique_id="1",
    )  # fmt: skip


def _lookups(sim: Any) -> int:
    return int(sim.stats()["requests"].get(PATH_SUBSCRIPTION, 0))


def test_back_to_back_generations_share_one_account_lookup(sim: Any) -> None:
    for seed in range(3):
        _generate(seed)
    assert _lookups(sim) == 1
    assert sim.stats()["requests"]["/ai/generate-image"] == 3


def test_a_tier_change_is_seen_once_the_lookup_is_older_than_the_ttl(
    sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generate(1)
    sim.set_tier(0)  # Opus ended: nothing is free any more
    _generate(2)  # within the TTL the cached Opus tier still applies
    monkeypatch.setattr(session, "TIER_TTL_S", 0.0)
    with pytest.raises(errors.SpendLimitError, match="Paper"):
        _generate(3)
    assert _lookups(sim) == 2
    assert sim.stats()["requests"]["/ai/generate-image"] == 2
