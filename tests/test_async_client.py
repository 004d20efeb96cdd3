"""AsyncNovelAIClient against the simulator: results, async streams, task cancellation, closing.

Faults, retries, charges and token redaction run through the same tables as the sync client
(test_client_faults, test_reliability_matrix: parametrized over both flavours).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from novelai_core.async_client import AsyncNovelAIClient
from novelai_core.contract.constants import PATH_GENERATE, PATH_GENERATE_STREAM
from novelai_core.errors import CancelledError, SpendLimitError
from novelai_core.results import FinalImage, Preview
from novelai_core.simulator import Simulator
from tests.client_helpers import FAST_RETRY, requests_to, small_request

PROMPT = 0.5  # the sync client's Cancel promise
STEP_MS = 100
LONG_STEPS = 50


def _client(sim: Simulator, **options: object) -> AsyncNovelAIClient:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("timeout", (2.0, 30.0))
    return AsyncNovelAIClient(sim.token, base_url=sim.url, **options)


def test_generate_returns_what_the_sync_client_returns(simulator: Simulator) -> None:
    async def main() -> tuple[object, ...]:
        async with _client(simulator) as client:
            result = await client.generate(small_request(seed=77))
        image = result.images[0]
        return image.seed, image.image.size, result.estimate

    with _client(simulator).sync as sync:
        result = sync.generate(small_request(seed=77))
        image = result.images[0]
        expected = image.seed, image.image.size, result.estimate
    assert asyncio.run(main()) == expected


def test_two_generations_await_concurrently_without_blocking_the_loop(
    simulator: Simulator,
) -> None:
    simulator.set_latency(300)
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(5):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def main() -> None:
        async with _client(simulator) as client:
            await asyncio.gather(client.subscription(), client.subscription(), ticker())

    started = time.monotonic()
    asyncio.run(main())
    # Both 300 ms calls overlap (free GETs take no lock), and the loop kept ticking meanwhile.
    assert time.monotonic() - started < 0.55
    assert len(ticks) == 5 and ticks[-1] - ticks[0] < 0.4


def test_stream_generate_is_an_async_iterator_of_previews_then_the_final(
    simulator: Simulator,
) -> None:
    async def main() -> list[object]:
        async with _client(simulator) as client:
            return [event async for event in client.stream_generate(small_request(steps=4))]

    events = asyncio.run(main())
    assert all(isinstance(e, Preview) for e in events[:-1]) and len(events) > 1
    assert isinstance(events[-1], FinalImage)


def test_cancelling_the_awaiting_task_closes_the_exchange_promptly(simulator: Simulator) -> None:
    simulator.set_step_ms(STEP_MS)

    async def main() -> float:
        async with _client(simulator) as client:
            task = asyncio.create_task(
                client.generate(small_request(steps=LONG_STEPS), stream=True)
            )
            await asyncio.sleep(0.4)
            cancelled_at = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - cancelled_at

    assert asyncio.run(main()) < PROMPT
    # The connection was shut: the simulator's one-generation lock is free within ~a step,
    # while a stream left running would hold it for the whole ~5 s.
    simulator.set_step_ms(0)
    started = time.monotonic()
    with _client(simulator).sync as sync:
        assert len(sync.generate(small_request()).images) == 1
    assert time.monotonic() - started < 2.0
    assert requests_to(simulator, PATH_GENERATE_STREAM) == 1


def test_leaving_an_async_stream_loop_early_closes_the_connection(simulator: Simulator) -> None:
    simulator.set_step_ms(STEP_MS)

    async def main() -> None:
        async with _client(simulator) as client:
            stream = client.stream_generate(small_request(steps=LONG_STEPS))
            async for event in stream:
                assert isinstance(event, Preview)
                break
            await stream.aclose()  # type: ignore[attr-defined]

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < LONG_STEPS * STEP_MS / 2000


def test_the_cancel_hook_still_works_and_raises_the_sdk_error(simulator: Simulator) -> None:
    simulator.set_fault("delay", delay_ms=3000)

    async def main() -> None:
        deadline = time.monotonic() + 0.2
        async with _client(simulator) as client:
            await client.generate(small_request(), cancel=lambda: time.monotonic() > deadline)

    started = time.monotonic()
    with pytest.raises(CancelledError, match="cannot stop a generation"):
        asyncio.run(main())
    assert time.monotonic() - started < 0.2 + PROMPT


def test_a_spend_limit_refuses_before_anything_is_sent(simulator: Simulator) -> None:
    async def main() -> None:
        async with _client(simulator) as client:
            await client.generate(small_request(samples=4), max_anlas=1)

    with pytest.raises(SpendLimitError, match="nothing was sent"):
        asyncio.run(main())
    assert requests_to(simulator, PATH_GENERATE) == 0


def test_the_async_client_shows_only_the_masked_token() -> None:
    client = AsyncNovelAIClient("pst-async-secret-token-1234", base_url="http://127.0.0.1:9")
    assert "secret" not in repr(client) and "…1234" in repr(client)
    assert client.token_source == "argument"
