"""Simulator contract: Anlas ledger, 402, no charge on failure, subscription, concurrency lock."""

from __future__ import annotations

import contextlib
import threading

import requests

from novelai_core.simulator import Simulator
from tests.simulator_support import V5, V45, b64, body, png, session, unzip

GEN = "/ai/generate-image"
NORMAL = {"width": 832, "height": 1216, "steps": 28}


def post(sim: Simulator, b: object, s: requests.Session | None = None) -> requests.Response:
    return (s or session(sim)).post(sim.url + GEN, json=b, timeout=10)


def test_a_normal_portrait_costs_20_anlas_below_opus(simulator: Simulator) -> None:
    simulator.set_tier(1)
    assert post(simulator, body(**NORMAL)).status_code == 200
    assert simulator.balance() == 10_000 - 20


def test_opus_gets_one_free_sample_per_request(simulator: Simulator) -> None:
    assert post(simulator, body(**NORMAL)).status_code == 200
    assert simulator.balance() == 10_000
    assert post(simulator, body(n_samples=2, **NORMAL)).status_code == 200
    assert simulator.balance() == 10_000 - 20


def test_v5_costs_one_and_a_half_times(simulator: Simulator) -> None:
    simulator.set_tier(1)
    assert post(simulator, body(V5, **NORMAL)).status_code == 200
    assert simulator.balance() == 10_000 - 30


def test_a_character_reference_costs_5_even_on_opus(simulator: Simulator) -> None:
    b = body(
        V45,
        director_reference_images=[b64(png(1024, 1536))],  # a canvas the encoder takes (R9 c)
        director_reference_descriptions=[{"caption": {"base_caption": "character"}}],
        director_reference_information_extracted=[1],
        director_reference_strength_values=[1],
        director_reference_secondary_strength_values=[0],
        **NORMAL,
    )
    assert post(simulator, b).status_code == 200
    assert simulator.balance() == 10_000 - 5


def test_a_balance_that_cannot_pay_gets_402_and_keeps_its_anlas(simulator: Simulator) -> None:
    simulator.set_tier(1)
    simulator.set_balance(simulator.token, 19)
    r = post(simulator, body(**NORMAL))
    assert r.status_code == 402
    assert r.json()["statusCode"] == 402
    assert simulator.balance() == 19


def test_failed_requests_are_never_charged(simulator: Simulator) -> None:
    simulator.set_tier(1)
    for fault in ("http_500", "truncated_zip", "drop_mid_body"):
        simulator.set_fault(fault)
        with contextlib.suppress(requests.RequestException):
            assert post(simulator, body(**NORMAL)).content is not None
    assert post(simulator, body(width=830, height=1216)).status_code == 500
    assert simulator.balance() == 10_000
    assert [a["spent"] for a in simulator.stats()["anlas"].values()] == [0]


def test_subscription_reports_tier_anlas_and_v5_usage(simulator: Simulator) -> None:
    s = session(simulator)
    sub = s.get(simulator.url + "/user/subscription", timeout=5).json()
    steps = sub["trainingStepsLeft"]
    assert sub["tier"] == 3 and sub["active"] is True
    assert steps["fixedTrainingStepsLeft"] + steps["purchasedTrainingSteps"] == 10_000
    assert sub["usage"]["percent"] == 0
    assert post(simulator, body(V5), s).status_code == 200
    simulator.set_tier(1)
    simulator.set_balance(simulator.token, 1500)
    sub = s.get(simulator.url + "/user/subscription", timeout=5).json()
    assert sub["tier"] == 1
    assert sub["usage"]["percent"] > 0
    assert sub["trainingStepsLeft"] == {
        "fixedTrainingStepsLeft": 1000,
        "purchasedTrainingSteps": 500,
    }
    assert requests.get(simulator.url + "/user/subscription", timeout=5).status_code == 401


def test_a_second_concurrent_generation_for_one_token_gets_429(simulator: Simulator) -> None:
    simulator.set_step_ms(20)  # 20 steps → ~0.4 s of generation holding the lock
    results: list[int] = []
    first = threading.Thread(
        target=lambda: results.append(post(simulator, body(steps=20)).status_code)
    )
    first.start()
    assert simulator.generation_running.wait(timeout=5)  # the first holds the lock now
    second = post(simulator, body(steps=1))
    first.join()
    assert not simulator.generation_running.is_set()  # released when the first finished
    assert results == [200]
    assert second.status_code == 429
    assert second.json() == {"statusCode": 429, "message": "Concurrent generation is locked"}
    assert post(simulator, body(steps=1)).status_code == 200


def test_different_tokens_generate_at_the_same_time(simulator: Simulator) -> None:
    simulator.set_step_ms(5)
    tokens = [f"client-token-{i}" for i in range(6)]
    for token in tokens:
        simulator.set_balance(token, 100)
    statuses: list[int] = []

    def run(token: str) -> None:
        r = requests.post(
            simulator.url + GEN,
            json=body(steps=20),
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        statuses.append(r.status_code)
        assert len(unzip(r.content)) == 1

    threads = [threading.Thread(target=run, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 6


def test_the_simulator_masks_tokens_with_the_sdks_one_mask_function() -> None:
    from novelai_core.auth import mask_token
    from novelai_core.simulator import run_simulator

    token = "jwt.simulator-mask-check-0123456789abcdef"  # not a pst- token: no prefix is shown
    with run_simulator(token=token) as sim:
        assert repr(sim) == f"Simulator(url={sim.url!r}, token={mask_token(token)!r})"
        assert token[:4] not in repr(sim) and token[4:-4] not in repr(sim)


def _encoded_vibes(sim: Simulator, count: int) -> list[str]:
    """Encodings made by the simulator for V4.5 (2 Anlas each), restored to the balance after."""
    image = b64(png(64, 64))
    vibe = {"image": image, "information_extracted": 1.0, "model": V45}
    encodings = [
        b64(session(sim).post(sim.url + "/ai/encode-vibe", json=vibe, timeout=10).content)
        for _ in range(count)
    ]
    sim.set_balance(sim.token, 10_000)
    return encodings


def test_vibes_beyond_four_cost_two_each_per_request_not_per_image(simulator: Simulator) -> None:
    simulator.set_tier(1)
    refs = _encoded_vibes(simulator, 6)
    b = body(V45, n_samples=2, reference_image_multiple=refs,
             reference_strength_multiple=[0.1] * 6, **NORMAL)  # fmt: skip
    assert post(simulator, b).status_code == 200
    assert simulator.balance() == 10_000 - (2 * 20 + 2 * 2)


def test_v5_at_the_largest_canvas_and_50_steps_is_accepted_and_costs_150(
    simulator: Simulator,
) -> None:
    # The 140-per-image limit is checked before V5's ×1.5 (contract §11 states it for V3-V4.5).
    simulator.set_tier(1)
    r = post(simulator, body(V5, width=1536, height=2048, steps=50))
    assert r.status_code == 200
    assert simulator.balance() == 10_000 - 150
