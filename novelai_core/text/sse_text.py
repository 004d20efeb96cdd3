"""Reading the text host's SSE answers and cleaning what the model wrote.

A stream is ``data: {json}`` lines (with or without a space after the colon), ``: keep-alive``
comments and blank lines, ended by ``data: [DONE]``. Chat chunks carry ``delta.content``,
completion chunks ``text``; both may carry NovelAI's ``token_ids``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import DecodeError, StreamError

DONE = b"[DONE]"
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_MAX_LINE = 1 << 20


@dataclass(frozen=True)
class TextPiece:
    """The text of one stream chunk and its finish reason (None until the last one)."""

    text: str
    finish_reason: str | None = None


def piece_of(data: Any) -> TextPiece | None:
    """The text in one chunk (chat ``delta.content``, else ``text``); None without choices."""
    if not isinstance(data, dict):
        return None
    if data.get("error"):
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise StreamError(f"NovelAI reported an error while writing: {message}", status=200)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    choice = choices[0]
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else None
    if not isinstance(text, str):
        text = choice.get("text")
    if not isinstance(text, str):
        text = ""
    reason = choice.get("finish_reason")
    return TextPiece(text, reason if isinstance(reason, str) else None)


def read_text_stream(chunks: Iterable[bytes]) -> Iterator[TextPiece]:
    """Pieces as their lines complete; StreamError if the body ends before ``[DONE]`` and
    before any finish reason (a cut stream), DecodeError for an overlong line."""
    buffer = b""
    finished = False
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        if len(buffer) > _MAX_LINE:
            raise DecodeError("NovelAI's text stream sent an overlong line", status=200)
        for line in lines:
            payload = _data(line)
            if payload is None:
                continue
            if payload == DONE:
                return
            piece = _parse(payload)
            if piece is not None:
                finished = finished or piece.finish_reason is not None
                yield piece
    payload = _data(buffer)
    if payload == DONE:
        return
    if payload is not None and (piece := _parse(payload)) is not None:
        finished = finished or piece.finish_reason is not None
        yield piece
    if not finished:
        raise StreamError("NovelAI's text stream was cut off before its end.", status=200)


def _data(line: bytes) -> bytes | None:
    line = line.rstrip(b"\r")
    if not line.startswith(b"data:"):
        return None  # blank lines, ": keep-alive" comments, event:/id: fields
    return line[5:].strip()


def _parse(payload: bytes) -> TextPiece | None:
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        return None  # a stray non-JSON line: skipped, as NovelAI's own clients do
    return piece_of(data)


def strip_thinking(text: str) -> str:
    """The text without ``<think>…</think>`` blocks (an unclosed one runs to the end) or a
    stray ``</think>`` left by a prefilled template, trimmed."""
    text = _THINK_BLOCK.sub("", text)
    head, sep, tail = text.partition("</think>")
    return (tail if sep else head).strip()
