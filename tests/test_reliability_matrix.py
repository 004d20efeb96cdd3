"""Reliability matrix: every simulator fault against every paid call of NovelAIClient.

Each case must end in the right typed error or a correct bounded retry, within a bounded time;
the simulator's request counter and Anlas ledger prove that no paid request was resent or
charged twice; and a canary token appears in no result, exception (text, repr, args, chain)
or log record (DEBUG, urllib3 included). Complements test_client_faults (generate, stream and
encode-vibe counts) with augment, upscale, SSE streams, the ledger and the token checks.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from novelai_core.client import NovelAIClient
from novelai_core.contract.constants import (
    PATH_AUGMENT,
    PATH_ENCODE_VIBE,
    PATH_GENERATE,
    PATH_GENERATE_STREAM,
    PATH_UPSCALE,
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

CANARY = "pst-RELIABILITY-CANARY-5e1f0c9a"  # fake, short: never a real token
# 429 waits are short; Cloudflare's Retry-After of 1 s does not fit the 0.5 s budget (an error).
POLICY = RetryPolicy(max_attempts=3, max_total_seconds=0.5, initial_delay=0.02, max_delay=0.05)
TIMEOUT = (2.0, 0.4)  # the read timeout ends `hang` quickly
BOUND_S = 2.5
_PNG = io.BytesIO()
Image.new("RGB", (64, 64), (30, 120, 200)).save(_PNG, "PNG")
IMAGE = _PNG.getvalue()

Call = Callable[[NovelAIClient], Any]
CALLS: dict[str, tuple[str, Call]] = {
    "generate": (PATH_GENERATE, lambda c: c.generate(small_request())),
    "stream_msgpack": (
        PATH_GENERATE_STREAM,
        lambda c: c.generate(small_request(), stream="msgpack"),
    ),
    "stream_sse": (PATH_GENERATE_STREAM, lambda c: c.generate(small_request(), stream="sse")),
    "encode_vibe": (
        PATH_ENCODE_VIBE,
        lambda c: c.encode_vibe(IMAGE, model="nai-diffusion-4-5-full", information_extracted=1),
    ),
    "augment": (PATH_AUGMENT, lambda c: c.augment("lineart", IMAGE)),
    "upscale": (PATH_UPSCALE, lambda c: c.upscale(IMAGE)),
}
OK = None
# fault -> (expected error or OK, requests that reach the simulator)
_ZIP_CALL: dict[str, tuple[type[NovelAIError] | None, int]] = {
    "delay": (OK, 1),
    "http_500": (ServerError, 1),
    "http_502": (ServerError, 1),
    "http_503": (ServerError, 1),
    "cloudflare_429": (RateLimitError, 1),
    "concurrent_429": (OK, 2),  # nothing was generated: waited out and sent again
    "drop_mid_body": (NovelAIConnectionError, 1),
    "truncated_zip": (DecodeError, 1),
    "stream_no_final": (OK, 1),  # a stream-only fault
    "stream_error_event": (OK, 1),
    "hang": (NovelAITimeoutError, 1),
    "drop_before_response": (NovelAIConnectionError, 1),
    "missing_last_image": (OK, 1),  # a generate-only fault
}
_GENERATE_CALL = {**_ZIP_CALL, "missing_last_image": (DecodeError, 1)}
_STREAM_CALL = {
    **_ZIP_CALL,
    "truncated_zip": (OK, 1),  # no ZIP in a stream
    "stream_no_final": (StreamError, 1),
    "stream_error_event": (StreamError, 1),
    "missing_last_image": (StreamError, 1),
}
EXPECTED = {
    "generate": _GENERATE_CALL,
    "stream_msgpack": _STREAM_CALL,
    "stream_sse": _STREAM_CALL,
    "encode_vibe": {**_ZIP_CALL, "truncated_zip": (OK, 1)},  # its answer is not a ZIP
    "augment": _ZIP_CALL,
    "upscale": _ZIP_CALL,
}


def test_the_matrix_covers_every_fault_for_every_call() -> None:
    assert set(EXPECTED) == set(CALLS)
    for expected in EXPECTED.values():
        assert set(expected) == set(FAULT_NAMES)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    # Tier 0: nothing is free, so every successful call shows up in the ledger.
    with run_simulator(token=CANARY, anlas=1_000_000, tier=0) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def prices(sim: Simulator) -> dict[str, int]:
    """What one clean call of each kind costs (measured, so the matrix needs no price table)."""
    result = {}
    with NovelAIClient(CANARY, base_url=sim.url, retry=POLICY, timeout=TIMEOUT) as client:
        for name, (_, run) in CALLS.items():
            before = sim.spent()
            run(client)
            result[name] = sim.spent() - before
    assert all(price > 0 for price in result.values())
    return result


def _texts(error: BaseException) -> Iterator[str]:
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield from (str(item), repr(item), *map(repr, item.args), repr(vars(item)))
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)


@pytest.mark.parametrize("fault", FAULT_NAMES)
@pytest.mark.parametrize("call", list(CALLS))
def test_every_fault_ends_typed_bounded_charged_once_and_without_the_token(
    sim: Simulator,
    prices: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    call: str,
    fault: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: urllib3's connection logs too
    path, run = CALLS[call]
    expected, sent = EXPECTED[call][fault]
    sim.clear_faults()
    sim.set_fault(fault, count=1, path=path, delay_ms=100)
    requests_before, spent_before = sim.stats()["requests"].get(path, 0), sim.spent()
    client = NovelAIClient(CANARY, base_url=sim.url, retry=POLICY, timeout=TIMEOUT)
    started = time.monotonic()
    outcome: Any = None
    try:
        if expected is OK:
            outcome = run(client)
        else:
            with pytest.raises(expected) as info:
                run(client)
            outcome = info.value
            assert info.value.correlation_id  # the user can quote it to support
            for text in _texts(info.value):
                assert CANARY not in text
    finally:
        elapsed = time.monotonic() - started
        sim.clear_faults()
        client.close()
    assert elapsed < BOUND_S
    assert sim.stats()["requests"].get(path, 0) - requests_before == sent
    charged = sim.spent() - spent_before
    assert charged == (prices[call] if expected is OK else 0)
    assert CANARY not in repr(outcome) and CANARY not in repr(client)
    assert caplog.records and CANARY not in caplog.text
