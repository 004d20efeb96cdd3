"""Every simulator fault against every kind of call: the right typed error or a bounded retry,
never a hang, and a paid request is never sent twice (the simulator's counters prove it)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from novelai_core.client import NovelAIClient
from novelai_core.contract.constants import (
    PATH_ENCODE_VIBE,
    PATH_GENERATE,
    PATH_GENERATE_STREAM,
    PATH_SUBSCRIPTION,
)
from novelai_core.errors import (
    DecodeError,
    NovelAIConnectionError,
    NovelAIError,
    NovelAITimeoutError,
    RateLimitError,
    ServerError,
    StreamError,
)
from novelai_core.simulator import FAULT_NAMES, Simulator, run_simulator
from novelai_core.transport.http_transport import RetryPolicy
from tests.client_helpers import small_request

# Retry 429 quickly, but never wait out Cloudflare's Retry-After: 1 (the budget is 0.5 s).
POLICY = RetryPolicy(max_attempts=3, max_total_seconds=0.5, initial_delay=0.02, max_delay=0.05)
TIMEOUT = (2.0, 0.3)
OK = None
_IMAGE = io.BytesIO()
Image.new("RGB", (64, 64), (10, 200, 90)).save(_IMAGE, "PNG")

Call = Callable[[NovelAIClient], Any]
CALLS: dict[str, tuple[str, Call]] = {
    "generate": (PATH_GENERATE, lambda c: c.generate(small_request())),
    "stream": (PATH_GENERATE_STREAM, lambda c: c.generate(small_request(), stream=True)),
    "encode_vibe": (
        PATH_ENCODE_VIBE,
        lambda c: c.encode_vibe(
            _IMAGE.getvalue(), model="nai-diffusion-4-5-full", information_extracted=1.0
        ),
    ),
    "subscription": (PATH_SUBSCRIPTION, lambda c: c.subscription()),
}
# fault -> call -> (expected error or OK, requests the simulator must have seen)
_PAID = {
    "delay": (OK, 1),
    "http_500": (ServerError, 1),
    "http_502": (ServerError, 1),
    "http_503": (ServerError, 1),
    "cloudflare_429": (RateLimitError, 1),
    "concurrent_429": (OK, 2),
    "drop_mid_body": (NovelAIConnectionError, 1),
    "truncated_zip": (DecodeError, 1),
    "stream_no_final": (OK, 1),
    "stream_error_event": (OK, 1),
    "hang": (NovelAITimeoutError, 1),
    "drop_before_response": (NovelAIConnectionError, 1),
    "missing_last_image": (DecodeError, 1),  # its one sample is missing from the ZIP
}
EXPECTED: dict[str, dict[str, tuple[type[NovelAIError] | None, int]]] = {
    "generate": _PAID,
    "stream": {
        **_PAID,
        "truncated_zip": (OK, 1),
        "stream_no_final": (StreamError, 1),
        "stream_error_event": (StreamError, 1),
        "missing_last_image": (StreamError, 1),
    },
    "encode_vibe": {**_PAID, "truncated_zip": (OK, 1), "missing_last_image": (OK, 1)},
    # A GET is free and idempotent: a dropped connection is simply asked again.
    "subscription": {
        **_PAID,
        "truncated_zip": (OK, 1),
        "drop_mid_body": (OK, 2),
        "drop_before_response": (OK, 2),
        "missing_last_image": (OK, 1),
    },
}


def test_the_matrix_covers_every_simulator_fault() -> None:
    for expected in EXPECTED.values():
        assert set(expected) == set(FAULT_NAMES)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_simulator(token="pst-fault-matrix-token", anlas=1_000_000, tier=0) as simulator:
        yield simulator


@pytest.mark.parametrize("fault", FAULT_NAMES)
@pytest.mark.parametrize("call", list(CALLS))
def test_each_fault_ends_in_the_right_error_or_a_bounded_retry(
    sim: Simulator, call: str, fault: str
) -> None:
    path, run = CALLS[call]
    expected, requests = EXPECTED[call][fault]
    client = NovelAIClient(sim.token, base_url=sim.url, retry=POLICY, timeout=TIMEOUT)
    sim.clear_faults()
    sim.set_fault(fault, count=1, path=path, delay_ms=100)
    before = sim.stats()["requests"].get(path, 0)
    started = time.monotonic()
    try:
        if expected is None:
            run(client)
        else:
            with pytest.raises(expected) as info:
                run(client)
            assert info.value.correlation_id
    finally:
        sim.clear_faults()
        client.close()
    assert time.monotonic() - started < 2.0
    assert sim.stats()["requests"].get(path, 0) - before == requests
