"""Every golden request is accepted by the simulator over loopback and charged as estimated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from novelai_core.converter.generation import (
    BuiltRequest,
    build_encode_vibe_request,
    build_generate_request,
    estimate_cost,
)
from novelai_core.models.user import GenerationRequest, Prompt, Vibe
from novelai_core.simulator import Simulator, run_simulator
from tests.golden_cases import CASES, solid

TOKEN = "pst-simulated-token-for-tests"
TIMEOUT = (2, 30)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_simulator(token=TOKEN, anlas=100_000, tier=2) as simulator:
        yield simulator


def _post(sim: Simulator, built: BuiltRequest) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.post(
        sim.url + built.endpoint, json=built.body, headers=headers, timeout=TIMEOUT
    )


def _encoded_request(sim: Simulator, model: str) -> GenerationRequest:
    body = build_encode_vibe_request(
        solid((64, 64), (1, 2, 3)), model=model, information_extracted=1
    )
    response = requests.post(
        sim.url + "/ai/encode-vibe",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    vibe = Vibe(encoding=response.content, encoding_model=model)
    return GenerationRequest(
        model=model, prompt=Prompt(text="1girl"), settings={"seed": 1}, vibes=(vibe,)
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_simulator_accepts_each_golden_request_and_charges_the_estimate(
    sim: Simulator, name: str
) -> None:
    request = CASES[name]()
    if name == "v4_5_vibe_encoded":  # goldens hold placeholder encodings; use real ones here
        request = _encoded_request(sim, request.model)
    built = build_generate_request(request)
    before = sim.balance()
    response = _post(sim, built)
    assert response.status_code == 200, response.text[:300]
    assert response.content.startswith(b"PK\x03\x04")
    assert before - sim.balance() == estimate_cost(request, tier=2).total
