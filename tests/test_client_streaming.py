"""Streaming: previews before finals, interleaved samples, any step order, both framings."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

from novelai_core.client import NovelAIClient
from novelai_core.contract.constants import PATH_GENERATE_STREAM
from novelai_core.errors import DecodeError, StreamError
from novelai_core.results import FinalImage, Preview
from novelai_core.simulator import Simulator
from novelai_core.transport import events as stream_reader
from novelai_core.transport.framing import encode_msgpack_event, encode_sse_event
from tests.client_helpers import client_for, small_request


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("framing", ["msgpack", "sse"])
def test_previews_of_interleaved_samples_come_before_their_finals(
    simulator: Simulator, framing: str
) -> None:
    client = client_for(simulator)
    events = list(client.stream_generate(small_request(samples=2, steps=4), stream=framing))
    previews = [e for e in events if isinstance(e, Preview)]
    finals = [e for e in events if isinstance(e, FinalImage)]
    assert [(p.sample, p.step) for p in previews[:4]] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert len(previews) == 8
    assert sorted(f.sample for f in finals) == [0, 1]
    assert events.index(finals[0]) > max(events.index(p) for p in previews)
    assert [f.seed for f in sorted(finals, key=lambda f: f.sample)] == [1234, 1235]
    assert all(p.jpeg.startswith(b"\xff\xd8") for p in previews)
    assert simulator.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]["stream"] == framing


def test_generate_with_stream_true_returns_the_same_images_as_without(simulator: Simulator) -> None:
    client = client_for(simulator)
    plain = client.generate(small_request(samples=2))
    seen: list[Preview] = []
    streamed = client.generate(small_request(samples=2), stream=True, on_preview=seen.append)
    assert [i.seed for i in streamed.images] == [i.seed for i in plain.images]
    assert [i.image.size for i in streamed.images] == [(256, 384), (256, 384)]
    assert len(seen) == 2 * 6
    assert streamed.correlation_id and streamed.correlation_id != plain.correlation_id


def test_stream_true_falls_back_to_sse_when_msgpack_is_missing(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_reader, "msgpack_available", lambda: False)
    result = client_for(simulator).generate(small_request(), stream=True)
    assert len(result.images) == 1
    assert simulator.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]["stream"] == "sse"


def test_a_stream_without_finals_is_a_stream_error(simulator: Simulator) -> None:
    simulator.set_fault("stream_no_final")
    with pytest.raises(StreamError, match="ended before image 1 of 1 arrived"):
        list(client_for(simulator).stream_generate(small_request()))


# --- a hand-made stream server, for orders and framings the simulator does not produce -----


@contextmanager
def _stream_server(pieces: list[bytes], content_type: str) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in pieces:  # odd chunk boundaries, each flushed on its own
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _inter(sample: int, step: int) -> dict[str, Any]:
    return {"event_type": "intermediate", "samp_ix": sample, "step_ix": step, "gen_id": "g",
            "sigma": 1.0, "image": b"\xff\xd8jpeg"}  # fmt: skip


OUT_OF_ORDER = [
    _inter(1, 1),
    _inter(0, 0),
    _inter(1, 0),
    {"event_type": "final", "samp_ix": 1, "gen_id": "g", "image": _png((0, 0, 255))},
    _inter(0, 1),
    {"event_type": "final", "samp_ix": 0, "gen_id": "g", "image": _png((255, 0, 0))},
]


@pytest.mark.parametrize(
    ("framing", "encode", "content_type"),
    [
        ("msgpack", encode_msgpack_event, "application/msgpack"),
        ("sse", encode_sse_event, "text/event-stream"),
    ],
)
def test_out_of_order_steps_and_finals_are_keyed_by_sample(
    framing: str, encode: Any, content_type: str
) -> None:
    body = b"".join(encode(e) for e in OUT_OF_ORDER)
    with _stream_server(_split(body, 7), content_type) as url:
        client = NovelAIClient("pst-stream-test-token", base_url=url)
        seen: list[Preview] = []
        result = client.generate(
            small_request(samples=2, seed=10), stream=framing, on_preview=seen.append
        )  # type: ignore[arg-type]
    assert [(p.sample, p.step) for p in seen] == [(1, 1), (0, 0), (1, 0), (0, 1)]
    assert [image.seed for image in result.images] == [10, 11]
    assert result.images[0].image.getpixel((0, 0)) == (255, 0, 0)
    assert result.images[1].image.getpixel((0, 0)) == (0, 0, 255)


def test_a_stream_cut_inside_a_frame_is_a_stream_error() -> None:
    body = b"".join(encode_msgpack_event(e) for e in OUT_OF_ORDER)
    with _stream_server([body[:-5]], "application/msgpack") as url:
        client = NovelAIClient("pst-stream-test-token", base_url=url)
        with pytest.raises(StreamError, match="cut off"):
            client.generate(small_request(samples=2), stream="msgpack")


def test_a_garbled_frame_is_a_decode_error() -> None:
    with _stream_server([b"\x00\x00\x00\x03\xc1\xc1\xc1"], "application/msgpack") as url:
        client = NovelAIClient("pst-stream-test-token", base_url=url)
        with pytest.raises(DecodeError):
            client.generate(small_request(), stream="msgpack")
