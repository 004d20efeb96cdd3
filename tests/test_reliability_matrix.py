"""Reliability matrix: every simulator fault against every call of NovelAIClient that goes out.

Each case must end in the right typed error or a correct bounded retry, within a bounded time;
the simulator's request counter and Anlas ledger prove that no paid request was resent or
charged twice; and a canary token appears in no result, exception (text, repr, args, chain,
traceback locals) or log record (DEBUG, urllib3 included). This is the one fault table: a new
simulator fault is added here, for every call.
"""

from __future__ import annotations

import io
import logging
import socket
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
    PATH_SUBSCRIPTION,
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
from novelai_core.text.text_models import PATH_CHAT
from novelai_core.transport import http_transport
from novelai_core.transport.http_transport import (
    BUSY_REASON,
    DEFAULT_TIMEOUT,
    QUICK_READ_TIMEOUT,
    QUICK_WAIT_BUDGET,
    STREAM_IDLE_TIMEOUT,
    RetryPolicy,
)
from tests.client_helpers import FLAVOURS, everything_shown, make_client, small_request

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
    "subscription": (PATH_SUBSCRIPTION, lambda c: c.subscription()),
    "text_chat": (PATH_CHAT, lambda c: c.text.chat("a cat on a roof")),
}
FREE_CALLS = {"subscription", "text_chat"}
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
    # A GET is free and idempotent: a dropped connection is simply asked again.
    "subscription": {
        **_ZIP_CALL,
        "truncated_zip": (OK, 1),
        "drop_mid_body": (OK, 2),
        "drop_before_response": (OK, 2),
    },
    # A streamed text answer: free, but a POST that may have been processed is never resent.
    "text_chat": {**_ZIP_CALL, "truncated_zip": (OK, 1)},
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
    with NovelAIClient(
        CANARY, base_url=sim.url, text_base_url=sim.url, retry=POLICY, timeout=TIMEOUT
    ) as client:
        for name, (_, run) in CALLS.items():
            before = sim.spent()
            run(client)
            result[name] = sim.spent() - before
    assert all((price == 0) == (name in FREE_CALLS) for name, price in result.items())
    return result


@pytest.mark.parametrize("fault", FAULT_NAMES)
@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_fault_ends_typed_bounded_charged_once_and_without_the_token(
    sim: Simulator,
    prices: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    *,
    call: str,
    fault: str,
    flavour: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: urllib3's connection logs too
    path, run = CALLS[call]
    expected, sent = EXPECTED[call][fault]
    sim.clear_faults()
    sim.set_fault(fault, count=1, path=path, delay_ms=100)
    requests_before, spent_before = sim.stats()["requests"].get(path, 0), sim.spent()
    client = make_client(
        flavour, CANARY, base_url=sim.url, text_base_url=sim.url, retry=POLICY, timeout=TIMEOUT
    )
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
            assert CANARY not in everything_shown(info.value)
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


# ------------------------------------------------ time bounds with the client's own defaults
# Issue 19: unreachable → a clear message within 10 s; a stalled stream ends ~30 s after its
# last event; small JSON calls wait ~10 s at most; never resend a paid request.


def _refused_url() -> str:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("call", ["subscription", "generate", "stream"])
def test_an_unreachable_host_fails_within_ten_seconds_with_one_quick_retry_at_most(
    call: str,
) -> None:
    runs: dict[str, Call] = {
        "subscription": lambda c: c.subscription(on_wait=lambda *a: waits.append(a)),
        "generate": lambda c: c.generate(small_request(), on_wait=lambda *a: waits.append(a)),
        "stream": lambda c: c.generate(
            small_request(), stream=True, on_wait=lambda *a: waits.append(a)
        ),
    }
    waits: list[Any] = []
    started = time.monotonic()
    client = NovelAIClient(CANARY, base_url=_refused_url())  # default policy and timeouts
    with client, pytest.raises(NovelAIConnectionError) as info:
        runs[call](client)
    assert time.monotonic() - started < 10
    assert len(waits) <= 1
    assert "the connection was refused; nothing was sent." in str(info.value)


def test_the_default_bounds_are_the_ones_users_were_promised() -> None:
    connect, read = DEFAULT_TIMEOUT
    policy = RetryPolicy()
    assert STREAM_IDLE_TIMEOUT == 30 and QUICK_READ_TIMEOUT <= 10 and QUICK_WAIT_BUDGET <= 10
    # A connect that timed out is not tried again: two would not fit the 10 s budget.
    assert connect + policy.connect_delay + connect > policy.connect_budget == 10
    # generate --stream against a host that never answers: the account lookup ends after
    # connect + the quick read timeout (not resent); an answered lookup and a stream that then
    # stalls end after its idle timeout. Both within ~45 s.
    assert connect + QUICK_READ_TIMEOUT + connect + STREAM_IDLE_TIMEOUT <= 45 + connect
    assert policy.max_total_seconds <= 60  # the 429 generation-lock wait, shown as it waits
    assert read <= 120


def test_a_hung_account_lookup_ends_at_the_quick_read_timeout_and_is_not_asked_again(
    sim: Simulator,
) -> None:
    sim.clear_faults()
    sim.set_fault("hang", count=None, path=PATH_SUBSCRIPTION)
    before = sim.stats()["requests"].get(PATH_SUBSCRIPTION, 0)
    started = time.monotonic()
    try:
        client = NovelAIClient(CANARY, base_url=sim.url, timeout=(2.0, 0.4))
        with client, pytest.raises(NovelAITimeoutError, match=r"stopped sending for 0\.4 s"):
            client.subscription()
    finally:
        sim.clear_faults()
    assert time.monotonic() - started < 2
    assert sim.stats()["requests"].get(PATH_SUBSCRIPTION, 0) - before == 1


def test_a_429_on_the_account_lookup_is_waited_out_within_the_quick_budget_and_shown(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_transport, "QUICK_WAIT_BUDGET", 1.5)  # 10 s in use; scaled here
    sim.clear_faults()
    sim.set_fault("concurrent_429", count=None, path=PATH_SUBSCRIPTION)
    waits: list[tuple[int, float, str]] = []
    started = time.monotonic()
    try:
        client = NovelAIClient(CANARY, base_url=sim.url, retry=RetryPolicy(initial_delay=0.4))
        with client, pytest.raises(RateLimitError):
            client.subscription(on_wait=lambda *a: waits.append(a))
    finally:
        sim.clear_faults()
    assert time.monotonic() - started < 1.5 + 0.5
    assert waits and all(reason == BUSY_REASON for _, _, reason in waits)


def test_a_stream_that_stalls_ends_at_the_idle_timeout_and_is_not_resent(
    sim: Simulator,
) -> None:
    sim.clear_faults()
    sim.set_step_ms(3000)  # events stop coming after the stream opened
    before = sim.stats()["requests"].get(PATH_GENERATE_STREAM, 0)
    started = time.monotonic()
    try:
        # The read timeout (0.5 s here, 30 s by default) is the longest gap between events.
        client = NovelAIClient(CANARY, base_url=sim.url, timeout=(2.0, 0.5))
        with client, pytest.raises(NovelAITimeoutError) as info:
            client.generate(small_request(), stream=True)
    finally:
        sim.set_step_ms(0)
    assert time.monotonic() - started < 2.5
    assert "stopped sending for 0.5 s while the answer was arriving" in str(info.value)
    assert "not resent" in str(info.value)
    assert sim.stats()["requests"].get(PATH_GENERATE_STREAM, 0) - before == 1
