"""Framing of /ai/generate-image-stream bodies (msgpack and SSE): encode and incremental decode.

Events are plain dicts here; novelai_core.models.wire gives them types.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Final, Literal

from ..errors import DecodeError

StreamFormat = Literal["msgpack", "sse"]

# A frame or event is one image (a final PNG is a few MiB); anything larger is garbage.
MAX_FRAME_BYTES: Final = 64 << 20
# Base64 grows an image by 4/3; leave room for the other fields.
MAX_SSE_EVENT_BYTES: Final = MAX_FRAME_BYTES * 4 // 3 + (1 << 20)
_LENGTH: Final = struct.Struct(">I")
_CONTENT_TYPES: Final[dict[str, str]] = {
    "msgpack": "application/msgpack",
    "sse": "text/event-stream",
}


class MsgpackMissingError(DecodeError, ImportError):
    """msgpack is not installed; catchable as DecodeError or ImportError."""


def msgpack_available() -> bool:
    """Whether the optional msgpack dependency can be imported."""
    try:
        _msgpack()
    except MsgpackMissingError:
        return False
    return True


def _msgpack() -> ModuleType:
    try:
        import msgpack  # noqa: PLC0415  (optional dependency, imported on use)
    except ImportError as exc:
        raise MsgpackMissingError(
            "msgpack streams need the msgpack package: install msgpack or use stream='sse'"
        ) from exc
    module: ModuleType = msgpack
    return module


def content_type_for(stream: StreamFormat) -> str:
    """The Content-Type of a stream response in this framing."""
    return _CONTENT_TYPES[stream]


def decoder_for(stream: StreamFormat) -> MsgpackStreamDecoder | SseStreamDecoder:
    """A fresh incremental decoder for this framing."""
    if stream == "msgpack":
        return MsgpackStreamDecoder()
    if stream == "sse":
        return SseStreamDecoder()
    raise ValueError(f"unknown stream format {stream!r} (expected 'msgpack' or 'sse')")


# --- encoding (the simulator's side) ------------------------------------------------------


def encode_msgpack_event(event: Mapping[str, Any]) -> bytes:
    """One msgpack frame: 4-byte big-endian length, then the event as a msgpack map."""
    body: bytes = _msgpack().packb(dict(event), use_bin_type=True)
    return _LENGTH.pack(len(body)) + body


def _json_default(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot put {type(value).__name__} in a stream event")


def encode_sse_event(event: Mapping[str, Any]) -> bytes:
    """One SSE event: `data: <json>` and a blank line; bytes values become base64 strings."""
    text = json.dumps(dict(event), default=_json_default, separators=(",", ":"))
    return b"data: " + text.encode("utf-8") + b"\n\n"


# --- decoding (the client's side) ---------------------------------------------------------


def _check_event(event: Any, framing: str) -> dict[str, Any]:
    if not isinstance(event, dict) or not all(isinstance(key, str) for key in event):
        raise DecodeError(f"a {framing} stream event is not a map with string keys")
    return event


class MsgpackStreamDecoder:
    """Splits a msgpack stream body into events, whatever the chunk boundaries."""

    def __init__(self) -> None:
        self._unpackb = _msgpack().unpackb
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Add received bytes; return the events completed by them."""
        buffer = self._buffer
        buffer += chunk
        events: list[dict[str, Any]] = []
        pos = 0
        while len(buffer) - pos >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer, pos)
            if length > MAX_FRAME_BYTES:
                raise DecodeError(f"msgpack stream frame declares {length} bytes; refusing")
            end = pos + _LENGTH.size + length
            if end > len(buffer):
                break
            events.append(self._decode(memoryview(buffer)[pos + _LENGTH.size : end]))
            pos = end
        if pos:
            # Deleting a bytearray's head is cheap in CPython (no shift of the tail).
            del buffer[:pos]
        return events

    def _decode(self, frame: memoryview) -> dict[str, Any]:
        try:
            with frame:
                event = self._unpackb(frame, raw=False)
        except Exception as exc:  # msgpack raises many unrelated types for malformed input
            raise DecodeError(f"malformed msgpack stream frame: {exc}") from exc
        return _check_event(event, "msgpack")

    def close(self) -> list[dict[str, Any]]:
        """The body ended: fail if it stopped in the middle of a frame (frames end themselves,
        so nothing is left to return; the list matches SseStreamDecoder.close)."""
        if self._buffer:
            left = len(self._buffer)
            self._buffer.clear()
            raise DecodeError(f"the stream ended inside a msgpack frame ({left} bytes left)")
        return []


class SseStreamDecoder:
    """Splits a text/event-stream body into events, whatever the chunk boundaries.

    Lines end in LF or CRLF; `data:` lines of one event are joined with newlines; comments
    and other fields (event, id, retry) are ignored; `image` is decoded from base64.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no line feed
        self._data: list[bytes] = []
        self._event_bytes = 0

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Add received bytes; return the events completed by them."""
        buffer = self._buffer
        buffer += chunk
        events: list[dict[str, Any]] = []
        start = 0
        while True:
            newline = buffer.find(b"\n", max(start, self._scanned))
            if newline < 0:
                break
            with memoryview(buffer) as view:
                line = view[start:newline].tobytes()
            start = newline + 1
            event = self._line(line[:-1] if line.endswith(b"\r") else line)
            if event is not None:
                events.append(event)
        if start:
            del buffer[:start]
        self._scanned = len(buffer)
        if self._event_bytes + len(buffer) > MAX_SSE_EVENT_BYTES:
            raise DecodeError(f"an SSE stream event exceeds {MAX_SSE_EVENT_BYTES} bytes")
        return events

    def _line(self, line: bytes) -> dict[str, Any] | None:
        if not line:
            return self._dispatch()
        if line.startswith(b":"):
            return None
        field, _, value = line.partition(b":")
        if field == b"data":
            value = value[1:] if value.startswith(b" ") else value
            self._data.append(value)
            self._event_bytes += len(value) + 1
        return None

    def _dispatch(self) -> dict[str, Any] | None:
        if not self._data:
            return None
        raw = b"\n".join(self._data)
        self._data = []
        self._event_bytes = 0
        try:
            event = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise DecodeError(f"an SSE stream event is not valid JSON: {exc}") from exc
        event = _check_event(event, "SSE")
        image = event.get("image")
        if isinstance(image, str):
            try:
                event["image"] = base64.b64decode(image, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise DecodeError("an SSE stream event's image is not valid base64") from exc
        return event

    def close(self) -> list[dict[str, Any]]:
        """The body ended: return the last event if its `data:` lines are complete.

        Blank lines separate events and nothing terminates the stream (contract §9), so the
        body may end right after the last event's data line. A line cut before its line feed
        means the body stopped in the middle of an event: DecodeError.
        """
        cut = bool(self._buffer)
        self._buffer.clear()
        self._scanned = 0
        if cut:
            self._data = []
            self._event_bytes = 0
            raise DecodeError("the stream ended in the middle of an SSE event")
        event = self._dispatch()
        return [] if event is None else [event]
