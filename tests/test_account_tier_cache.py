"""The Generate node looks the account tier up once a minute, not before every image; a model
metered by the Opus V5 allowance is looked up before every run (it can run out mid-queue)."""

from __future__ import annotations

from typing import Any

import pytest

from novelai_core.contract.constants import PATH_SUBSCRIPTION
from tests.comfy_harness import load_pack, pack_module, run_generate_node

NODES = load_pack().NODE_CLASS_MAPPINGS
session = pack_module("nodes.runtime.session")
errors = pack_module("novelai_core.errors")


V5 = "nai-diffusion-5-full"


def _generate(seed: int, model: str = "nai-diffusion-4-5-full") -> Any:
    return run_generate_node(seed=seed, model=model, stream=False)


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


def test_free_only_refuses_v5_once_the_allowance_runs_out_even_within_the_minute(
    sim: Any,
) -> None:
    sim.set_v5_usage(99)  # one free V5 image left: this run uses it up
    _generate(1, model=V5)
    assert sim.spent() == 0
    with pytest.raises(errors.SpendLimitError):
        _generate(2, model=V5)  # well within TIER_TTL_S of the first lookup
    assert sim.stats()["requests"]["/ai/generate-image"] == 1
    assert sim.spent() == 0
    assert _lookups(sim) == 2  # V5 asks afresh each run


def test_other_models_keep_the_cached_lookup_after_a_v5_run(sim: Any) -> None:
    _generate(1, model=V5)
    _generate(2)
    _generate(3)
    assert _lookups(sim) == 1
