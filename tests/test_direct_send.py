"""The direct sender puts the same request on the wire as requests.Session.request would."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from client_helpers import small_request

from novelai_core.client import NovelAIClient
from novelai_core.simulator import Simulator
from novelai_core.transport.direct_send import send_direct
from novelai_core.transport.worker import new_session
from tests.conftest import SIM_TOKEN

# "Connection: close": the recorder closes each connection, so no client may reuse one.
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\n{}"
)


@contextmanager
def _recorder() -> Iterator[tuple[str, list[bytes]]]:
    """A one-connection-per-request HTTP server that keeps each raw request it receives."""
    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")),
                    0,
                )  # fmt: skip
                while len(body) < length:
                    body += conn.recv(65536)
                seen.append(head + b"\r\n\r\n" + body)
                conn.sendall(ANSWER)
                conn.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        listener.close()


def _parsed(raw: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.split(b"\r\n")
    headers = {}
    for field in fields:
        name, _, value = field.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return line, headers, body


def test_a_json_post_goes_out_with_the_same_line_headers_and_body_as_session_request() -> None:
    payload = {"input": "1girl, ünïcode", "parameters": {"width": 832, "seed": 7}}
    headers = {"User-Agent": "novelai-test/1", "x-correlation-id": "abc123"}
    with _recorder() as (url, seen):
        session = new_session(url)
        direct = send_direct(
            session, "POST", url + "/ai/generate-image", headers=headers,
            kwargs={"json": payload}, timeout=(5.0, 5.0),
        )  # fmt: skip
        assert direct is not None and direct.status_code == 200
        assert direct.raw.read() == b"{}"
        direct.close()
        plain = session.request(
            "POST", url + "/ai/generate-image", headers=headers, json=payload, timeout=5
        )
        assert plain.status_code == 200
        session.close()
    assert len(seen) == 2
    assert _parsed(seen[0]) == _parsed(seen[1])


def test_a_get_without_a_body_matches_session_request_too() -> None:
    with _recorder() as (url, seen):
        session = new_session(url)
        direct = send_direct(
            session, "GET", url + "/user/subscription", headers={"x-correlation-id": "zz9"},
            kwargs={}, timeout=(5.0, 5.0),
        )  # fmt: skip
        assert direct is not None
        direct.raw.read()
        direct.close()
        session.get(url + "/user/subscription", headers={"x-correlation-id": "zz9"}, timeout=5)
        session.close()
    assert _parsed(seen[0]) == _parsed(seen[1])


@pytest.mark.parametrize(
    "kwargs",
    [{"files": {"image": ("image", b"png", "image/png")}}, {"params": {"q": "x"}}, {"data": b"x"}],
)
def test_anything_but_a_json_or_empty_body_is_left_to_session_request(
    kwargs: dict[str, object],
) -> None:
    session = new_session("http://127.0.0.1:9")
    assert send_direct(
        session, "POST", "http://127.0.0.1:9/x", headers={}, kwargs=kwargs, timeout=(1.0, 1.0)
    ) is None  # fmt: skip


def test_a_session_with_a_proxy_is_left_to_session_request() -> None:
    session = new_session("http://127.0.0.1:9")
    session.proxies["http"] = "http://proxy.invalid:3128"
    assert send_direct(
        session, "GET", "http://127.0.0.1:9/x", headers={}, kwargs={}, timeout=(1.0, 1.0)
    ) is None  # fmt: skip


def test_a_refused_connection_raises_urllib3s_error_that_says_nothing_was_sent() -> None:
    from novelai_core.transport.status_errors import nothing_was_sent

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    session = new_session(f"http://127.0.0.1:{port}")
    with pytest.raises(Exception) as caught:
        send_direct(
            session, "POST", f"http://127.0.0.1:{port}/x", headers={},
            kwargs={"json": {}}, timeout=(1.0, 1.0),
        )  # fmt: skip
    assert not isinstance(caught.value, requests.RequestException)
    assert nothing_was_sent(caught.value)


def test_the_client_on_its_own_session_generates_through_the_direct_path(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = requests.Session.request

    def counting(self: requests.Session, method: str, url: str, **kw: object) -> object:
        calls.append(url)
        return original(self, method, url, **kw)

    monkeypatch.setattr(requests.Session, "request", counting)
    with NovelAIClient(SIM_TOKEN, base_url=simulator.url) as client:
        result = client.generate(small_request())
    assert len(result.images) == 1 and calls == []
