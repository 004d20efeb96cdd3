"""Stream framing: msgpack and SSE encode/decode, any chunk splitting, and malformed bodies."""

from __future__ import annotations

import base64
import json
import struct
import sys
from collections.abc import Callable, Mapping
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from novelai_core.errors import DecodeError
from novelai_core.transport.framing import (
    MAX_FRAME_BYTES,
    MsgpackMissingError,
    MsgpackStreamDecoder,
    SseStreamDecoder,
    content_type_for,
    decoder_for,
    encode_msgpack_event,
    encode_sse_event,
    msgpack_available,
)

EVENTS: list[dict[str, Any]] = [
    {"event_type": "intermediate", "samp_ix": 0, "step_ix": 0, "gen_id": "g1", "sigma": 14.6,
     "image": b"\xff\xd8\xff jpeg 0"},
    {"event_type": "intermediate", "samp_ix": 1, "step_ix": 0, "gen_id": "g1", "sigma": 14.6,
     "image": b"\xff\xd8\xff jpeg 1\n\r\n"},
    {"event_type": "final", "samp_ix": 0, "gen_id": "g1",
     "image": b"\x89PNG\r\n\x1a\n" + bytes(range(256))},
    {"event_type": "error", "message": "Error generating image, an internal error occurred"},
]  # fmt: skip
ENCODERS: dict[str, Callable[[Mapping[str, Any]], bytes]] = {
    "msgpack": encode_msgpack_event,
    "sse": encode_sse_event,
}


def _body(stream: str) -> bytes:
    return b"".join(ENCODERS[stream](event) for event in EVENTS)


def _decode_all(stream: str, chunks: list[bytes]) -> list[dict[str, Any]]:
    decoder = decoder_for(stream)  # type: ignore[arg-type]
    events: list[dict[str, Any]] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


@pytest.mark.parametrize("stream", ["msgpack", "sse"])
def test_events_round_trip_through_one_chunk(stream: str) -> None:
    assert _decode_all(stream, [_body(stream)]) == EVENTS


@pytest.mark.parametrize("stream", ["msgpack", "sse"])
def test_events_round_trip_when_fed_one_byte_at_a_time(stream: str) -> None:
    body = _body(stream)
    assert _decode_all(stream, [body[i : i + 1] for i in range(len(body))]) == EVENTS


@pytest.mark.parametrize("stream", ["msgpack", "sse"])
def test_events_round_trip_at_every_split_point(stream: str) -> None:
    body = _body(stream)
    for cut in range(len(body) + 1):
        assert _decode_all(stream, [body[:cut], body[cut:]]) == EVENTS, cut


@pytest.mark.parametrize("stream", ["msgpack", "sse"])
def test_events_are_returned_as_soon_as_their_last_byte_arrives(stream: str) -> None:
    first = ENCODERS[stream](EVENTS[0])
    decoder = decoder_for(stream)  # type: ignore[arg-type]
    assert decoder.feed(first[:-1]) == []
    assert decoder.feed(first[-1:]) == [EVENTS[0]]


def test_a_big_image_fed_in_small_chunks_decodes_intact() -> None:
    image = bytes(range(256)) * 8192  # 2 MiB
    for stream in ("msgpack", "sse"):
        body = ENCODERS[stream]({"event_type": "final", "samp_ix": 0, "image": image})
        chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
        assert _decode_all(stream, chunks) == [
            {"event_type": "final", "samp_ix": 0, "image": image}
        ]


def test_msgpack_frames_are_length_prefixed_maps_with_binary_images() -> None:
    frame = encode_msgpack_event(EVENTS[0])
    (length,) = struct.unpack(">I", frame[:4])
    assert length == len(frame) - 4
    assert msgpack.unpackb(frame[4:], raw=False) == EVENTS[0]


def test_sse_events_are_one_json_data_line_with_base64_images() -> None:
    event = encode_sse_event(EVENTS[0])
    assert event.startswith(b"data: ") and event.endswith(b"\n\n")
    payload = json.loads(event[len(b"data: ") : -2])
    assert base64.b64decode(payload["image"]) == EVENTS[0]["image"]


def test_sse_handles_crlf_comments_event_lines_and_multiline_data() -> None:
    image = base64.b64encode(b"png bytes").decode()
    body = (
        ": keep-alive comment\r\n"
        "event: final\r\n"
        'data: {"event_type": "final",\r\n'
        f'data:"image": "{image}"}}\r\n'
        "id: 7\r\n"
        "\r\n"
        ": another comment\r\n\r\n"
    ).encode()
    assert _decode_all("sse", [body]) == [{"event_type": "final", "image": b"png bytes"}]


def test_sse_blank_lines_without_data_produce_no_event() -> None:
    assert _decode_all("sse", [b"\n\n: ping\n\n\r\n"]) == []


@pytest.mark.parametrize("stream", ["msgpack", "sse"])
def test_a_body_cut_inside_an_event_fails_on_close(stream: str) -> None:
    body = _body(stream)
    decoder = decoder_for(stream)  # type: ignore[arg-type]
    decoder.feed(body[:-5])
    with pytest.raises(DecodeError, match="ended"):
        decoder.close()


def test_sse_data_without_the_closing_blank_line_is_the_last_event() -> None:
    # Contract §9: blank lines separate events and there is no terminator, so a body may end
    # right after the last event's data line.
    decoder = SseStreamDecoder()
    assert decoder.feed(b'data: {"event_type": "final", "samp_ix": 0}\n') == []
    assert decoder.close() == [{"event_type": "final", "samp_ix": 0}]
    assert decoder.close() == []  # dispatched once


def test_a_whole_sse_body_without_its_last_blank_line_decodes_every_event() -> None:
    body = _body("sse")[:-1]
    decoder = SseStreamDecoder()
    events = decoder.feed(body)
    assert events + decoder.close() == EVENTS


def test_an_sse_data_line_cut_before_its_line_feed_fails_on_close() -> None:
    decoder = SseStreamDecoder()
    assert decoder.feed(b'data: {"event_type": "final", "samp_ix": 0}') == []
    with pytest.raises(DecodeError, match="ended in the middle"):
        decoder.close()


def test_a_stream_whose_last_final_has_no_blank_line_still_delivers_it() -> None:
    from novelai_core.results import FinalImage
    from novelai_core.transport.events import read_events

    png = b"\x89PNG\r\n\x1a\n final"
    final = {"event_type": "final", "samp_ix": 0, "gen_id": "g", "image": png}
    body = encode_sse_event(final)[:-1]
    events = list(read_events([body[:7], body[7:]], SseStreamDecoder(), n_samples=1, seed=3))
    assert events == [FinalImage(0, png, 3, "g")]


def test_an_absurd_msgpack_frame_length_is_refused_early() -> None:
    with pytest.raises(DecodeError, match="refusing"):
        MsgpackStreamDecoder().feed(struct.pack(">I", MAX_FRAME_BYTES + 1) + b"\x80")


@pytest.mark.parametrize(
    "payload",
    [b"\xc1", b"", b"\x92\x01\x02", b"\x81\x01\x02", b"\x81\xa1k"],
    ids=["reserved-byte", "empty", "array-not-map", "integer-key", "truncated-map"],
)
def test_a_malformed_msgpack_frame_is_a_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError, match="msgpack"):
        MsgpackStreamDecoder().feed(struct.pack(">I", len(payload)) + payload)


@pytest.mark.parametrize(
    "event",
    [
        b"data: {not json}\n\n",
        b"data: [1, 2]\n\n",
        b'data: {"image": "***"}\n\n',
        b"data: \xff\n\n",
    ],
    ids=["bad-json", "not-an-object", "bad-base64", "bad-utf8"],
)
def test_a_malformed_sse_event_is_a_decode_error(event: bytes) -> None:
    with pytest.raises(DecodeError, match="SSE"):
        SseStreamDecoder().feed(event)


def test_content_types_and_the_factory_match_the_framing() -> None:
    assert content_type_for("msgpack") == "application/msgpack"
    assert content_type_for("sse") == "text/event-stream"
    assert isinstance(decoder_for("msgpack"), MsgpackStreamDecoder)
    assert isinstance(decoder_for("sse"), SseStreamDecoder)
    with pytest.raises(ValueError, match="unknown stream format"):
        decoder_for("json")  # type: ignore[arg-type]


def test_without_msgpack_the_decoder_explains_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "msgpack", None)
    assert not msgpack_available()
    with pytest.raises(MsgpackMissingError, match="install msgpack or use stream='sse'") as info:
        decoder_for("msgpack")
    assert isinstance(info.value, DecodeError) and isinstance(info.value, ImportError)
    with pytest.raises(ImportError):
        encode_msgpack_event(EVENTS[0])
    assert _decode_all("sse", [_body("sse")]) == EVENTS


def _fuzz(decoder: MsgpackStreamDecoder | SseStreamDecoder, chunks: list[bytes]) -> None:
    try:
        for chunk in chunks:
            for event in decoder.feed(chunk):
                assert isinstance(event, dict)
        assert all(isinstance(event, dict) for event in decoder.close())
    except DecodeError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_any_bytes_fed_to_the_msgpack_decoder_only_raise_decode_error(chunks: list[bytes]) -> None:
    _fuzz(MsgpackStreamDecoder(), chunks)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_any_bytes_fed_to_the_sse_decoder_only_raise_decode_error(chunks: list[bytes]) -> None:
    _fuzz(SseStreamDecoder(), chunks)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet='data:{}"image\n\r :,abc=+/1', max_size=40), max_size=8))
def test_sse_like_text_only_raises_decode_error(lines: list[str]) -> None:
    _fuzz(SseStreamDecoder(), [line.encode() for line in lines])


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_damaged_msgpack_streams_only_raise_decode_error(data: st.DataObject) -> None:
    body = bytearray(_body("msgpack"))
    for _ in range(data.draw(st.integers(1, 3))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    _fuzz(MsgpackStreamDecoder(), [bytes(body)])
