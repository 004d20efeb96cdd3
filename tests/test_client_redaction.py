"""A canary token must never appear in exception text, args, repr, chains, logs or reprs."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from novelai_core.client import NovelAIClient
from novelai_core.errors import MissingTokenError, NovelAIError
from novelai_core.simulator import FAULT_NAMES, Simulator, run_simulator
from novelai_core.transport.http_transport import RetryPolicy
from tests.client_helpers import everything_shown, small_request

CANARY = "pst-CANARY-7f3a9c1e5b2d-SECRET"  # fake, short: never a real token
WRONG = "pst-CANARY-WRONG-0d2f4b6a-SECRET"
POLICY = RetryPolicy(max_attempts=2, max_total_seconds=0.3, initial_delay=0.01)


def _assert_clean(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    shown = everything_shown(error)
    assert CANARY not in shown and WRONG not in shown
    assert CANARY not in caplog.text and WRONG not in caplog.text


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with run_simulator(token=CANARY, anlas=10_000, tier=0) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # root, so urllib3's connection logs are captured too


@pytest.mark.parametrize("fault", FAULT_NAMES)
@pytest.mark.parametrize("stream", [False, True])
def test_no_fault_path_leaks_the_token(
    sim: Simulator, caplog: pytest.LogCaptureFixture, fault: str, stream: bool
) -> None:
    client = NovelAIClient(CANARY, base_url=sim.url, retry=POLICY, timeout=(2.0, 0.3))
    sim.set_fault(fault, count=None, delay_ms=50)
    try:
        client.generate(small_request(), stream=stream)
    except NovelAIError as error:
        _assert_clean(error, caplog)
    assert CANARY not in repr(client) and CANARY not in str(vars(client))
    assert caplog.records  # DEBUG logging was on and did record the exchange


def test_a_rejected_token_is_shown_masked_only(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(NovelAIError) as info:
        NovelAIClient(WRONG, base_url=sim.url).subscription()
    assert "pst-…CRET from argument" in str(info.value)
    _assert_clean(info.value, caplog)


def test_not_enough_anlas_and_cancel_do_not_leak_the_token(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = NovelAIClient(CANARY, base_url=sim.url)
    sim.set_balance(None, 0)
    with pytest.raises(NovelAIError) as info:
        client.generate(small_request(steps=28))
    _assert_clean(info.value, caplog)
    with pytest.raises(NovelAIError) as cancelled:
        client.generate(small_request(), cancel=lambda: True)
    _assert_clean(cancelled.value, caplog)


def test_connection_failures_do_not_leak_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = NovelAIClient(CANARY, base_url=f"http://127.0.0.1:{port}", retry=POLICY)
    with pytest.raises(NovelAIError) as info:
        client.generate(small_request())
    _assert_clean(info.value, caplog)


def test_a_body_that_echoes_the_token_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from requests.structures import CaseInsensitiveDict

    from novelai_core.transport.status_errors import ErrorContext, error_from_response

    body = b'{"message": "bad token ' + CANARY.encode() + b'"}'
    error = error_from_response(400, CaseInsensitiveDict(), body, ErrorContext(token=CANARY))
    _assert_clean(error, caplog)
    assert "pst-…CRET" in str(error)


def test_a_missing_token_error_names_places_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAI_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("NOVELAI_API_KEY", raising=False)
    monkeypatch.setenv("NAI_TOKEN_FILE", "/nonexistent/novelai/token")
    with pytest.raises(MissingTokenError, match="/nonexistent/novelai/token"):
        NovelAIClient(base_url="http://127.0.0.1:9").subscription()
