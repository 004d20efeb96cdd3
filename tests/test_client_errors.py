"""Every error class, from real simulator answers where the simulator produces them."""

from __future__ import annotations

import json
import socket

import pytest
from requests.structures import CaseInsensitiveDict

from novelai_core.client import NovelAIClient
from novelai_core.contract.constants import PATH_GENERATE, PATH_SUBSCRIPTION
from novelai_core.errors import (
    AuthenticationError,
    DecodeError,
    InputError,
    InsufficientAnlasError,
    InvalidRequestError,
    NovelAIConnectionError,
    NovelAIError,
    NovelAITimeoutError,
    RateLimitError,
    ServerError,
    SpendLimitError,
    StreamError,
)
from novelai_core.simulator import Simulator
from novelai_core.transport.http_transport import RetryPolicy
from novelai_core.transport.status_errors import (
    ErrorContext,
    error_from_response,
    parse_retry_after,
    summarize_body,
)
from tests.client_helpers import FAST_RETRY, client_for, requests_to, small_request

CTX = ErrorContext(correlation_id="abc123", path=PATH_GENERATE, paid=True)


def _map(status: int, body: bytes, content_type: str = "application/json") -> NovelAIError:
    headers = CaseInsensitiveDict({"Content-Type": content_type})
    return error_from_response(status, headers, body, CTX)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (402, InsufficientAnlasError),
        (404, InvalidRequestError),
        (409, InvalidRequestError),
        (413, InvalidRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (520, ServerError),
    ],
)
def test_each_status_maps_to_its_error_class_with_status_message_and_correlation_id(
    status: int, cls: type[NovelAIError]
) -> None:
    error = _map(status, b'{"statusCode": %d, "message": "the server says why"}' % status)
    assert type(error) is cls
    assert error.status == status
    assert error.correlation_id == "abc123"
    assert "abc123" in str(error)
    if status != 402:
        assert error.server_message == "the server says why"
        assert "the server says why" in str(error)


def test_a_paid_5xx_says_it_was_not_resent() -> None:
    assert "not resent" in str(_map(500, b'{"message": "Internal Server Error"}'))


def test_an_html_error_page_is_summarised_by_its_title_not_dumped() -> None:
    page = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    page += b"cloudflare " + b"x" * 5000 + b"</body></html>"
    error = _map(403, page, "text/html")
    assert "Just a moment..." in str(error)
    assert "Cloudflare" in str(error)
    assert len(str(error)) < 300


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_wrong_token_is_an_authentication_error(simulator: Simulator) -> None:
    client = NovelAIClient("pst-wrong-token-0000", base_url=simulator.url)
    with pytest.raises(AuthenticationError) as info:
        client.subscription()
    assert info.value.status == 401
    assert "pst-…0000 from argument" in str(info.value)


def test_not_enough_anlas_says_how_much_is_needed_and_the_balance(simulator: Simulator) -> None:
    simulator.set_tier(0)
    simulator.set_balance(None, 3)
    client = client_for(simulator)
    request = small_request(steps=28, samples=2)
    with pytest.raises(InsufficientAnlasError) as info:
        client.generate(request)
    error = info.value
    assert error.status == 402
    assert error.balance == 3
    assert error.needed == client.estimate(request, tier=0).total
    assert str(error).startswith(f"NovelAI: not enough Anlas (this needs about {error.needed}, ")
    assert "balance 3" in str(error)


def test_a_429_then_success_waits_and_returns_the_images(simulator: Simulator) -> None:
    simulator.set_fault("concurrent_429", count=2)
    waits: list[tuple[int, float, str]] = []
    result = client_for(simulator).generate(small_request(), on_wait=lambda *a: waits.append(a))
    assert len(result.images) == 1
    assert [attempt for attempt, _, _ in waits] == [1, 2]
    assert all("another generation" in reason for _, _, reason in waits)
    assert requests_to(simulator, PATH_GENERATE) == 3


def test_429_retries_are_bounded_in_attempts(simulator: Simulator) -> None:
    simulator.set_fault("concurrent_429", count=None)
    with pytest.raises(RateLimitError, match="Concurrent generation is locked") as info:
        client_for(simulator).generate(small_request())
    assert "Gave up after 4 attempts" in str(info.value)
    assert requests_to(simulator, PATH_GENERATE) == FAST_RETRY.max_attempts


def test_429_retries_are_bounded_in_total_time_honouring_retry_after(simulator: Simulator) -> None:
    # The Cloudflare page says Retry-After: 1; a 0.5 s budget must not start that wait.
    simulator.set_fault("cloudflare_429", count=None)
    policy = RetryPolicy(max_attempts=10, max_total_seconds=0.5, initial_delay=0.01)
    with pytest.raises(RateLimitError) as info:
        client_for(simulator, retry=policy).generate(small_request())
    assert info.value.retry_after == 1.0
    assert "HTML page from Cloudflare" in str(info.value)
    assert requests_to(simulator, PATH_GENERATE) == 1


def test_a_server_400_is_an_invalid_request_error(simulator: Simulator) -> None:
    client = client_for(simulator)
    body = {"input": "x", "model": "nai-diffusion-5-curated-inpainting", "action": "generate"}
    with pytest.raises(InvalidRequestError, match="doesn't exist") as info:
        client._transport.send("POST", PATH_GENERATE, ctx=ErrorContext(), json=body)
    assert info.value.status == 400


@pytest.mark.parametrize("fault", ["http_500", "http_502", "http_503"])
def test_a_5xx_is_a_server_error_and_is_never_resent(simulator: Simulator, fault: str) -> None:
    simulator.set_fault(fault)
    with pytest.raises(ServerError):
        client_for(simulator).generate(small_request())
    assert requests_to(simulator, PATH_GENERATE) == 1


def test_a_refused_connection_is_retried_once_then_reported() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = NovelAIClient("pst-token-for-refused-1", base_url=f"http://127.0.0.1:{port}",
                           retry=FAST_RETRY)  # fmt: skip
    waits: list[tuple[int, float, str]] = []
    with pytest.raises(NovelAIConnectionError, match="refused; nothing was sent"):
        client.generate(small_request(), on_wait=lambda *a: waits.append(a))
    assert [reason for _, _, reason in waits] == ["NovelAI could not be reached"]


def test_a_hanging_answer_is_a_timeout_and_is_not_resent(simulator: Simulator) -> None:
    simulator.set_fault("hang")
    with pytest.raises(NovelAITimeoutError, match="not resent"):
        client_for(simulator, timeout=(2.0, 0.3)).generate(small_request())
    assert requests_to(simulator, PATH_GENERATE) == 1


def test_a_broken_zip_is_a_decode_error(simulator: Simulator) -> None:
    simulator.set_fault("truncated_zip")
    with pytest.raises(DecodeError, match="damaged or truncated") as info:
        client_for(simulator).generate(small_request())
    assert info.value.correlation_id


def test_an_error_event_inside_a_stream_is_a_stream_error(simulator: Simulator) -> None:
    simulator.set_fault("stream_error_event")
    with pytest.raises(StreamError, match="internal error") as info:
        client_for(simulator).generate(small_request(), stream=True)
    assert info.value.status == 200


def test_input_errors_are_raised_before_any_request(simulator: Simulator) -> None:
    client = client_for(simulator)
    with pytest.raises(InputError):
        client.generate(small_request(model="no-such-model"))
    bad_size = small_request().model_copy(
        update={"settings": small_request().settings.model_copy(update={"width": 250})}
    )
    with pytest.raises(InputError):
        client.generate(bad_size)
    assert simulator.stats()["requests"] == {}


def test_a_spend_limit_stops_the_request_before_it_is_sent(simulator: Simulator) -> None:
    simulator.set_tier(0)
    client = client_for(simulator)
    client.subscription()  # the tier is now known
    with pytest.raises(SpendLimitError, match="nothing was sent"):
        client.generate(small_request(samples=2), max_anlas=1)
    assert requests_to(simulator, PATH_GENERATE) == 0
    assert requests_to(simulator, PATH_SUBSCRIPTION) == 1


def test_augment_and_upscale_say_what_they_would_cost_when_anlas_run_out(
    simulator: Simulator,
) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256)).save(buffer, "PNG")
    simulator.set_balance(None, 0)
    client = client_for(simulator)
    with pytest.raises(InsufficientAnlasError, match=r"needs about 1, balance 0"):
        client.upscale(buffer.getvalue())
    with pytest.raises(InsufficientAnlasError, match=r"needs about \d+, balance 0"):
        client.augment("bg-removal", buffer.getvalue())


def test_a_preview_callback_that_raises_stops_the_stream(simulator: Simulator) -> None:
    class PreviewFailedError(Exception):
        pass

    def on_preview(_: object) -> None:
        raise PreviewFailedError

    with pytest.raises(PreviewFailedError):
        client_for(simulator).generate(small_request(), stream=True, on_preview=on_preview)


def test_each_request_carries_a_correlation_id_that_the_error_repeats() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(dict(self.headers))
            body = b'{"statusCode": 500, "message": "Internal Server Error"}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        client = NovelAIClient(
            "pst-header-test-token-1", base_url=f"http://127.0.0.1:{server.server_port}"
        )
        with pytest.raises(ServerError) as info:
            client.generate(small_request())
    finally:
        server.shutdown()
        server.server_close()
    (headers,) = seen
    cid = headers["x-correlation-id"]
    assert len(cid) == 6 and cid.isalnum()
    assert info.value.correlation_id == cid
    assert headers["Authorization"] == "Bearer pst-header-test-token-1"
    assert headers["User-Agent"].startswith("comfyui-novelai-nodes/")
    assert headers["Content-Type"] == "application/json"


def test_the_default_session_never_retries_at_the_urllib3_level() -> None:
    client = NovelAIClient("pst-session-test-token-1", base_url="http://127.0.0.1:9")
    adapter = client.session.get_adapter("http://127.0.0.1:9/")
    assert adapter.max_retries.total == 0  # type: ignore[attr-defined]


def test_a_session_passed_in_is_used_and_left_open(simulator: Simulator) -> None:
    import requests

    session = requests.Session()
    client = client_for(simulator, session=session)
    assert client.session is session
    client.generate(small_request())
    client.close()
    assert session.adapters  # still usable: closing the client did not close it
    assert len(client_for(simulator, session=session).generate(small_request()).images) == 1


@pytest.mark.parametrize("trailer", [b"500 Internal Server Error", b"PK\x03\x04\x14\x00\xff\xfe"])
def test_an_error_json_followed_by_stray_bytes_still_gives_novelais_message(
    trailer: bytes,
) -> None:
    # R9 b (F §12, Q7): a 400 "doesn't support action infill" carries bytes after its JSON.
    message_text = "Model nai-diffusion-4-5-full doesn't support action infill"
    body = json.dumps({"statusCode": 400, "message": message_text}).encode()
    message, html = summarize_body(
        CaseInsensitiveDict({"Content-Type": "application/json"}), body + trailer
    )
    assert (message, html) == (message_text, False)
