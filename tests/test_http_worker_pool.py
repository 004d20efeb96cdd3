"""Exchanges run on reused daemon threads; a hung exchange never holds up the next one."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from novelai_core.simulator import Simulator, run_simulator
from novelai_core.transport import worker as http_worker
from tests.client_helpers import client_for

HUNG_READ_S = 10.0  # the hung exchange's read timeout: what a held-up next exchange would wait


def _http_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "novelai-http"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with run_simulator(token="pst-pool-test-token", anlas=10_000, tier=3) as simulator:
        yield simulator


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> http_worker._Pool:
    fresh = http_worker._Pool()
    monkeypatch.setattr(http_worker, "_POOL", fresh)
    return fresh


def test_sequential_exchanges_reuse_one_thread(sim: Simulator, pool: http_worker._Pool) -> None:
    before = _http_threads()
    with client_for(sim) as client:
        for _ in range(5):
            client.subscription()
    assert len(_http_threads() - before) == 1


def test_a_hung_exchange_does_not_hold_up_the_next(sim: Simulator, pool: http_worker._Pool) -> None:
    sim.set_fault("hang", count=1, path="/user/subscription")
    hung = client_for(sim, timeout=(2.0, HUNG_READ_S))
    waiting = threading.Thread(target=lambda: _quietly(hung.subscription), daemon=True)
    waiting.start()
    _wait_until(lambda: sim.stats()["faults"] == [])  # the hung exchange holds a pool thread
    started = time.monotonic()
    with client_for(sim) as client:
        assert client.subscription().tier == 3
    # Held up, it would wait for the hung read's timeout; half of it leaves room for a slow box.
    assert time.monotonic() - started < HUNG_READ_S / 2
    sim.stop()  # ends the hang
    waiting.join(timeout=HUNG_READ_S + 1)
    hung.close()


def test_idle_threads_leave_after_the_idle_time(
    monkeypatch: pytest.MonkeyPatch, pool: http_worker._Pool
) -> None:
    monkeypatch.setattr(http_worker._Pool, "IDLE_SECONDS", 0.05)
    done = threading.Event()
    pool.submit(done.set)
    assert done.wait(1)
    deadline = time.monotonic() + 2
    while pool._idle and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool._idle == 0
    again = threading.Event()
    pool.submit(again.set)  # a new thread is started when none is idle
    assert again.wait(1)


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _quietly(call: object) -> None:
    # The hang ends in a timeout or a dropped connection; that is not under test here.
    with contextlib.suppress(Exception):
        call()  # type: ignore[operator]
