"""ComfyUI's Cancel: stops waiting (429 backoff, headers, stream chunks) within 0.5 s."""

from __future__ import annotations

import time

import pytest

from novelai_core.contract.constants import PATH_GENERATE
from novelai_core.errors import CancelledError
from novelai_core.results import Preview
from novelai_core.simulator import Simulator
from novelai_core.transport.http_transport import RetryPolicy
from tests.client_helpers import CancelAfter, client_for, requests_to, small_request

SLOW_RETRY = RetryPolicy(max_attempts=5, max_total_seconds=60, initial_delay=10, jitter=0)
PROMPT = 0.5
# A stream long enough that "stopped early" and "ran to the end" are seconds apart, so a busy
# machine's scheduling noise cannot blur them: 50 steps of 100 ms.
STEP_MS = 100
LONG_STEPS = 50
LONG_STREAM_S = STEP_MS * LONG_STEPS / 1000


def _returns_promptly(cancel: CancelAfter) -> None:
    assert cancel.fired_at is not None
    assert time.monotonic() - cancel.fired_at < PROMPT


def test_cancel_during_a_429_wait_returns_within_half_a_second(simulator: Simulator) -> None:
    simulator.set_fault("concurrent_429", count=None)
    client = client_for(simulator, retry=SLOW_RETRY)
    waits: list[float] = []
    cancel = CancelAfter(0.2).start()
    with pytest.raises(CancelledError):
        client.generate(small_request(), cancel=cancel, on_wait=lambda a, d, r: waits.append(d))
    _returns_promptly(cancel)
    assert waits == [10]  # it was in the 10 s wait when cancelled
    assert requests_to(simulator, PATH_GENERATE) == 1


def test_cancel_while_waiting_for_response_headers_returns_promptly(simulator: Simulator) -> None:
    simulator.set_fault("delay", delay_ms=5000)
    client = client_for(simulator, timeout=(2.0, 30.0))
    cancel = CancelAfter(0.2).start()
    with pytest.raises(CancelledError, match="cannot stop a generation"):
        client.generate(small_request(), cancel=cancel)
    _returns_promptly(cancel)
    # The client is still usable afterwards (on a new connection).
    assert len(client.generate(small_request()).images) == 1


def test_cancel_mid_stream_closes_the_connection_promptly(simulator: Simulator) -> None:
    simulator.set_step_ms(STEP_MS)
    client = client_for(simulator, timeout=(2.0, 30.0))
    cancel = CancelAfter(10)  # fired by hand after the first preview
    seen: list[Preview] = []

    def on_preview(preview: Preview) -> None:
        seen.append(preview)
        if not cancel.flag.is_set():
            cancel.fired_at = time.monotonic()
            cancel.flag.set()

    request = small_request(steps=LONG_STEPS)
    with pytest.raises(CancelledError):
        client.generate(request, stream=True, on_preview=on_preview, cancel=cancel)
    _returns_promptly(cancel)
    assert len(seen) == 1
    # The simulator holds its one-generation lock until it notices the closed connection; a
    # closed socket makes its next step write fail, so the lock is free again within ~a step.
    simulator.set_step_ms(0)
    patient = client_for(
        simulator,
        retry=RetryPolicy(
            max_attempts=400, max_total_seconds=2 * LONG_STREAM_S, initial_delay=0.05,
            max_delay=0.05,
        ),
    )  # fmt: skip
    started = time.monotonic()
    result = patient.generate(small_request())
    assert len(result.images) == 1
    # A step or two of 100 ms; a lock held to the stream's end would take ~5 s.
    assert time.monotonic() - started < LONG_STREAM_S / 2


def test_leaving_a_stream_loop_early_closes_the_connection(simulator: Simulator) -> None:
    simulator.set_step_ms(STEP_MS)
    client = client_for(simulator, timeout=(2.0, 30.0))
    started = time.monotonic()
    for event in client.stream_generate(small_request(steps=LONG_STEPS)):
        assert isinstance(event, Preview)
        break
    # The first preview comes after one step; reading to the end would take the whole ~5 s.
    assert time.monotonic() - started < LONG_STREAM_S / 2


def test_a_cancel_hook_that_raises_propagates_its_own_exception(simulator: Simulator) -> None:
    class HostInterruptError(Exception):
        pass

    simulator.set_fault("delay", delay_ms=3000)
    deadline = time.monotonic() + 0.2

    def cancel() -> bool:
        if time.monotonic() > deadline:
            raise HostInterruptError
        return False

    with pytest.raises(HostInterruptError):
        client_for(simulator, timeout=(2.0, 30.0)).generate(small_request(), cancel=cancel)
    assert time.monotonic() - deadline < PROMPT


def test_an_already_cancelled_call_sends_nothing(simulator: Simulator) -> None:
    with pytest.raises(CancelledError):
        client_for(simulator).generate(small_request(), cancel=lambda: True)
    assert requests_to(simulator, PATH_GENERATE) == 0
