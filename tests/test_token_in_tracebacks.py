"""The token is in no repr and in no local variable a traceback can show (pytest --showlocals,
error trackers, rich tracebacks print them): the Authorization header is built at send time
with a masked repr, and error contexts hide the token."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from novelai_core.client import NovelAIClient
from novelai_core.errors import NovelAIError
from novelai_core.simulator import Simulator, run_simulator
from novelai_core.transport.http_transport import RetryPolicy
from novelai_core.transport.status_errors import ErrorContext
from tests.client_helpers import everything_shown, small_request

SECRET = secrets.token_hex(20)  # random: it cannot turn up in source lines or file names
CANARY = f"pst-{SECRET}"
POLICY = RetryPolicy(max_attempts=2, max_total_seconds=0.3, initial_delay=0.01)


def _assert_no_canary(text: str) -> None:
    assert SECRET[:-4] not in text, "the token (or most of it) is visible"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with run_simulator(token=CANARY, anlas=10_000, tier=0) as simulator:
        yield simulator


def _client(url: str, token: str = CANARY) -> NovelAIClient:
    return NovelAIClient(token, base_url=url, retry=POLICY, timeout=(2.0, 0.3))


def test_an_error_context_does_not_show_its_token() -> None:
    _assert_no_canary(repr(ErrorContext(token=CANARY, token_source="argument")))


Scenario = Callable[[Simulator], Any]
SCENARIOS: dict[str, Scenario] = {
    "401 wrong token": lambda s: _client(s.url, CANARY + "x").generate(small_request()),
    "402 no anlas": lambda s: (s.set_balance(None, 0), _client(s.url).generate(small_request())),
    "500": lambda s: (s.set_fault("http_500"), _client(s.url).generate(small_request())),
    "stream error event": lambda s: (
        s.set_fault("stream_error_event"),
        _client(s.url).generate(small_request(), stream="sse"),
    ),
    "drop mid body": lambda s: (
        s.set_fault("drop_mid_body"),
        _client(s.url).generate(small_request()),
    ),
    "drop mid stream": lambda s: (
        s.set_fault("drop_mid_body"),
        _client(s.url).generate(small_request(), stream="msgpack"),
    ),
    "timeout": lambda s: (s.set_fault("hang"), _client(s.url).generate(small_request())),
    "cancel": lambda s: _client(s.url).generate(small_request(), cancel=lambda: True),
    "short zip": lambda s: (
        s.set_fault("missing_last_image"),
        _client(s.url).generate(small_request(samples=2)),
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_error_or_traceback_local_shows_the_token(sim: Simulator, scenario: str) -> None:
    with pytest.raises(NovelAIError) as info:
        SCENARIOS[scenario](sim)
    _assert_no_canary(everything_shown(info.value))


def test_a_refused_connection_shows_no_token_in_its_traceback_locals() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NovelAIError) as info:
        _client(f"http://127.0.0.1:{port}").generate(small_request())
    _assert_no_canary(everything_shown(info.value))
