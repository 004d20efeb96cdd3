"""Text generation (client.text) against the simulator's text endpoints, sync and async."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from novelai_core.auth import ENV_TEXT_BASE_URL, resolve_text_base_url
from novelai_core.client import NovelAIClient
from novelai_core.errors import (
    AuthenticationError,
    InputError,
    ModelNotAllowedError,
    RateLimitError,
    StreamError,
)
from novelai_core.simulator import Simulator, run_simulator
from novelai_core.text.chat_client import TextClient, text_error
from novelai_core.text.sse_text import read_text_stream, strip_thinking
from novelai_core.text.text_models import PATH_CHAT, PATH_COMPLETIONS
from novelai_core.transport.http_transport import RetryPolicy
from novelai_core.transport.status_errors import ErrorContext
from tests.client_helpers import FAST_RETRY, FLAVOURS, make_client, requests_to

TOKEN = "pst-text-tests-token-0123"


@pytest.fixture
def tablet() -> Iterator[Simulator]:
    with run_simulator(token=TOKEN, tier=1) as sim:
        yield sim


@pytest.fixture(params=FLAVOURS)
def client(request: pytest.FixtureRequest, tablet: Simulator) -> Iterator[Any]:
    made = make_client(
        request.param, TOKEN, base_url=tablet.url, text_base_url=tablet.url, retry=FAST_RETRY
    )
    yield made
    made.close()


def test_chat_streams_underneath_and_joins_the_answer(client: Any, tablet: Simulator) -> None:
    result = client.text.chat("a cat on a roof", system="answer briefly")
    assert result.text == "Simulated glm-4-6 answer to: a cat on a roof"
    assert result.finish_reason == "stop" and result.correlation_id and result.anlas == 0
    sent = tablet.requests_seen(PATH_CHAT)[-1]
    assert sent["stream"] is True and sent["enable_thinking"] is False
    assert sent["messages"][0] == {"role": "system", "content": "answer briefly"}


def test_think_text_is_removed_from_the_answer(client: Any, tablet: Simulator) -> None:
    tablet.queue_text_reply("<think>the user wants tags</think>\n1girl, smile")
    result = client.text.chat("tags please")
    assert result.text == "1girl, smile"
    assert result.raw.startswith("<think>")


def test_max_tokens_cuts_the_answer_with_finish_reason_length(client: Any) -> None:
    result = client.text.chat("one two three four five six", max_tokens=3)
    assert result.text == "Simulated glm-4-6 answer" and result.finish_reason == "length"


def test_complete_works_streamed_and_not(client: Any, tablet: Simulator) -> None:
    streamed = client.text.complete("Once upon a time")
    plain = client.text.complete("Once upon a time", stream=False)
    assert streamed.text == plain.text == "Simulated glm-4-6 answer to: Once upon a time"
    assert requests_to(tablet, PATH_COMPLETIONS) == 2


def test_models_and_token_counts(client: Any) -> None:
    assert [m.id for m in client.text.models()] == ["glm-4-6", "xialong-v1"]
    assert client.text.count_tokens("three little words") == 3


def test_an_opus_only_model_below_opus_is_its_own_error(client: Any) -> None:
    with pytest.raises(ModelNotAllowedError, match="glm-4-6 works on every tier") as info:
        client.text.chat("hello", model="xialong-v1")
    assert info.value.status == 403 and "\n" not in str(info.value)


def test_a_wrong_token_is_an_authentication_error_without_the_token(tablet: Simulator) -> None:
    text = TextClient("pst-wrong-token-for-text-9999", base_url=tablet.url)
    with pytest.raises(AuthenticationError) as info:
        text.chat("hello")
    assert "pst-wrong-token-for-text-9999" not in str(info.value) + repr(info.value)
    assert "…9999" in str(info.value)


def test_bad_input_fails_before_anything_is_sent(client: Any, tablet: Simulator) -> None:
    with pytest.raises(InputError, match="max_tokens"):
        client.text.chat("hello", max_tokens=5000)
    with pytest.raises(InputError, match="role"):
        client.text.chat([("robot", "hello")])
    with pytest.raises(InputError, match="unknown text option"):
        client.text.chat("hello", tempreature=0.5)
    assert requests_to(tablet, PATH_CHAT) == 0


def test_the_concurrency_lock_is_waited_out_then_reported_in_one_line(tablet: Simulator) -> None:
    tablet.set_step_ms(150)  # a slow answer holds the account's text lock
    slow = TextClient(TOKEN, base_url=tablet.url)
    pieces = slow.stream_chat("a long question with many words in it")
    next(pieces)  # the request is running now
    impatient = RetryPolicy(max_attempts=2, max_total_seconds=0.3, initial_delay=0.05)
    waits: list[str] = []
    started = time.monotonic()
    with pytest.raises(RateLimitError, match="Gave up after 2 attempts") as info:
        TextClient(TOKEN, base_url=tablet.url, retry=impatient).chat(
            "hello", on_wait=lambda a, d, r: waits.append(r)
        )
    assert time.monotonic() - started < 1.0 and len(waits) == 1
    assert "\n" not in str(info.value)
    pieces.close()  # leaving the stream frees the lock
    tablet.set_step_ms(0)
    assert TextClient(TOKEN, base_url=tablet.url, retry=FAST_RETRY).chat("again").text


def test_the_text_host_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_TEXT_BASE_URL, "http://127.0.0.1:1234/")
    assert resolve_text_base_url() == "http://127.0.0.1:1234"
    assert NovelAIClient(TOKEN).text.base_url == "http://127.0.0.1:1234"
    monkeypatch.delenv(ENV_TEXT_BASE_URL)
    assert resolve_text_base_url() == "https://text.novelai.net"


@pytest.mark.parametrize(
    "body",
    [
        b'{"statusCode":403,"message":"Forbidden"}',
        b'{"error":{"message":"Forbidden","code":"model_not_allowed"}}',
    ],
)
def test_both_error_body_shapes_give_the_server_message(body: bytes) -> None:
    ctx = ErrorContext(correlation_id="abc123", token=TOKEN)
    error = text_error(403, {"content-type": "application/json"}, body, ctx)
    assert isinstance(error, ModelNotAllowedError) and error.server_message == "Forbidden"
    shaped = text_error(400, {}, body.replace(b"403", b"400"), ctx)
    assert shaped.server_message == "Forbidden" and "Forbidden" in str(shaped)


def test_the_stream_reader_takes_comments_spaceless_data_and_stops_at_done() -> None:
    body = [
        b': keep-alive\n\ndata:{"choices":[{"delta":{"content":"\xe3\x82\x82"},',
        b'"token_ids":[1],"finish_reason":null}]}\nnot json\n',
        b'data: {"choices":[{"delta":{"content":""},"finish_reason":"stop"}]}\n',
        b"data: [DONE]\n",
        b'data: {"choices":[{"text":"after done"}]}\n',
    ]
    pieces = list(read_text_stream(body))
    assert [p.text for p in pieces] == ["も", ""] and pieces[-1].finish_reason == "stop"


def test_a_stream_cut_before_its_end_is_a_stream_error() -> None:
    with pytest.raises(StreamError, match="cut off"):
        list(read_text_stream([b'data: {"choices":[{"delta":{"content":"half"}}]}\n']))


def test_strip_thinking_removes_closed_open_and_dangling_think_text() -> None:
    assert strip_thinking("<think>a\nb</think>\nanswer") == "answer"
    assert strip_thinking("<think>never closed") == ""
    assert strip_thinking("prefilled reasoning</think> answer") == "answer"
