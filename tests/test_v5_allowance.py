"""Opus' free V5 images are metered by the subscription's usage.percent (contract §11): once the
allowance is used up, V5 costs Anlas, so estimates and "free only" guards must know the usage."""

from __future__ import annotations

from typing import Any

import pytest

from novelai_core.contract.capabilities import MODELS, get_capability
from novelai_core.contract.constants import PATH_GENERATE, PATH_SUBSCRIPTION
from novelai_core.contract.cost import generation_cost
from novelai_core.errors import SpendLimitError
from novelai_core.simulator import Simulator
from tests.client_helpers import V5, V45, client_for, requests_to, small_request
from tests.comfy_harness import pack_module, run_generate_node

OPUS = 3
SMALL = {"width": 832, "height": 1216, "steps": 23}


def test_every_v5_row_and_only_v5_is_metered_by_the_opus_allowance() -> None:
    for cap in MODELS.values():
        assert cap.opus_allowance_metered == (cap.family == "v5"), cap.id


def test_v5_is_free_on_opus_only_while_the_allowance_is_known_to_last() -> None:
    v5 = get_capability(V5)
    left = generation_cost(v5, **SMALL, tier=OPUS, v5_allowance_left=True)
    assert (left.total, left.free_for_opus, left.note) == (0, True, "")
    used_up = generation_cost(v5, **SMALL, tier=OPUS, v5_allowance_left=False)
    assert used_up.total == used_up.per_image > 0 and not used_up.free_for_opus
    assert "used up" in used_up.note
    unknown = generation_cost(v5, **SMALL, tier=OPUS)
    assert unknown.total == unknown.per_image > 0 and not unknown.free_for_opus
    assert "unknown" in unknown.note


def test_the_allowance_does_not_touch_models_that_are_not_metered() -> None:
    v45 = get_capability(V45)
    for allowance in (True, False, None):
        estimate = generation_cost(v45, **SMALL, tier=OPUS, v5_allowance_left=allowance)
        assert (estimate.total, estimate.note) == (0, "")


def test_with_the_allowance_used_up_v5_is_estimated_paid_and_free_only_sends_nothing(
    simulator: Simulator,
) -> None:
    simulator.set_v5_usage(100)
    client = client_for(simulator)
    request = small_request(V5, steps=23)
    estimate = client.estimate(request)
    assert estimate.total > 0 and "used up" in estimate.note
    with pytest.raises(SpendLimitError, match=r"allowance is used up.*nothing was sent"):
        client.generate(request, max_anlas=0)
    assert requests_to(simulator, PATH_GENERATE) == 0
    assert simulator.spent() == 0


def test_with_allowance_left_v5_is_free_on_opus(simulator: Simulator) -> None:
    simulator.set_v5_usage(50)
    client = client_for(simulator)
    request = small_request(V5, steps=23)
    assert client.estimate(request).total == 0
    client.generate(request, max_anlas=0)
    assert requests_to(simulator, PATH_GENERATE) == 1
    assert requests_to(simulator, PATH_SUBSCRIPTION) == 1  # the estimate's lookup, cached
    assert simulator.spent() == 0


def test_a_free_only_guard_without_a_known_allowance_refuses_v5(simulator: Simulator) -> None:
    client = client_for(simulator)  # never looked up the account: tier and usage unknown
    with pytest.raises(SpendLimitError):
        client.generate(small_request(V5, steps=23), max_anlas=0)
    assert requests_to(simulator, PATH_GENERATE) == 0


def test_the_simulator_charges_v5_on_opus_once_the_allowance_is_used_up(
    simulator: Simulator,
) -> None:
    client = client_for(simulator)
    request = small_request(V5, steps=23)
    simulator.set_v5_usage(99)
    client.generate(request)
    assert simulator.spent() == 0
    assert client.subscription().v5_usage_percent == 100
    client.generate(request)
    assert simulator.spent() == client.estimate(request).per_image


def _generate_v5_node(seed: int) -> Any:
    return run_generate_node(model=V5, seed=seed, stream=False)


def test_the_generate_nodes_free_only_guard_follows_the_v5_allowance(
    sim: Simulator,
) -> None:
    errors = pack_module("novelai_core.errors")
    sim.set_v5_usage(100)
    with pytest.raises(errors.SpendLimitError):
        _generate_v5_node(1)
    assert requests_to(sim, PATH_GENERATE) == 0
    sim.set_v5_usage(50)  # renewed: V5 runs look the account up afresh, no minute's wait
    _generate_v5_node(2)
    assert requests_to(sim, PATH_GENERATE) == 1
    assert sim.spent() == 0
