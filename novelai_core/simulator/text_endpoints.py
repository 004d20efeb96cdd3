"""The text host's /oa/v1 endpoints, served on the simulator's port (rules and shapes from
shared/novelai-text-api.md, not from our client).

* chat and completions answer deterministic text (or the replies queued with
  ``Simulator.queue_text_reply``), cut at ``max_tokens`` (finish_reason "length");
* ``stream: true`` → SSE: a ``: keep-alive`` comment, ``data: {json}`` chunks with NovelAI's
  ``token_ids``, then ``data: [DONE]``; a non-streamed chat answer has the reported broken
  shape (a ``chat.completion.chunk`` whose choice has ``text: ""`` and no message);
* ``messages[].content`` must be a string (the Go backend's unmarshal error otherwise);
* Opus-only models (xialong-v1) answer 403 below Opus; one text generation at a time per
  account (429 "Concurrent generation is locked"); text costs no Anlas.
* ``enable_thinking: true`` puts a ``<think>`` block before the answer.
"""

from __future__ import annotations

import json
import re
import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any, Final

from .context import RequestContext, Response, json_response
from .refusals import SimError

MODELS: Final = {"glm-4-6": False, "xialong-v1": True}  # id → Opus only
OPUS: Final = 3
END_OF_TURN: Final = 151336  # GLM's <|user|> token, sent with the last chunk
TIER_MESSAGE: Final = "Model not allowed for user tier"
_WORD = re.compile(r"\s*\S+")
_ROLES: Final = ("system", "user", "assistant")


def tokens(text: str) -> list[str]:
    """The simulator's tokenizer: a word with its leading spaces is one token."""
    return _WORD.findall(text)


def token_id(token: str) -> int:
    return zlib.crc32(token.encode()) % 150_000


def _bad(message: str) -> SimError:
    return SimError(400, message)


def _model(ctx: RequestContext, body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("model is required")
    if model not in MODELS:
        raise _bad(f"unknown model {model!r}")
    if MODELS[model] and ctx.state.ledger.tier < OPUS:
        raise SimError(403, TIER_MESSAGE, f"{model} needs Opus")
    return model


def _max_tokens(body: dict[str, Any]) -> int:
    value = body.get("max_tokens", 256)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _bad("max_tokens must be a positive integer")
    return value


def _last_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages is required")
    last = ""
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise _bad(f"messages[{index}].role must be system, user or assistant")
        content = message.get("content")
        if not isinstance(content, str):
            kind = "array" if isinstance(content, list) else type(content).__name__
            raise _bad(
                f"json: cannot unmarshal {kind} into Go struct field "
                f"OAIChatMessage.messages.content of type string"
            )
        if message["role"] == "user":
            last = content
    return last


def _reply(ctx: RequestContext, model: str, asked: str, thinking: bool) -> str:
    queued = ctx.state.next_text_reply()
    text = queued if queued is not None else f"Simulated {model} answer to: {asked.strip()}"
    if thinking:
        text = f"<think>The user asks: {asked.strip()[:80]}</think>\n{text}"
    return text


def _pieces(text: str, max_tokens: int) -> tuple[list[str], str]:
    words = tokens(text)
    if len(words) > max_tokens:
        return words[:max_tokens], "length"
    return words, "stop"


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def _stream(ctx: RequestContext, pieces: list[str], reason: str, chat: bool) -> Iterator[bytes]:
    """SSE chunks; the text lock is held until the stream ends or the client leaves."""
    state = ctx.state
    try:
        yield b": keep-alive\n\n"
        if not state.wait(state.latency_ms):
            return
        for piece in pieces:
            if not state.wait(state.step_ms):
                return
            choice: dict[str, Any] = {"token_ids": [token_id(piece)], "finish_reason": None}
            choice.update({"delta": {"content": piece}} if chat else {"text": piece})
            yield _sse({"choices": [choice]})
        last: dict[str, Any] = {"token_ids": [END_OF_TURN], "finish_reason": reason}
        last.update({"delta": {"content": ""}} if chat else {"text": ""})
        yield _sse({"choices": [last]})
        yield b"data: [DONE]\n\n"
    finally:
        state.release_generation(_lock_key(ctx))


def _lock_key(ctx: RequestContext) -> str:
    # Whether image and text share NovelAI's per-account lock is not known: kept apart here.
    return "text:" + ctx.key


def _answer(ctx: RequestContext, text: str, body: dict[str, Any], chat: bool) -> Response:
    pieces, reason = _pieces(text, _max_tokens(body))
    ctx.state.acquire_generation(_lock_key(ctx))
    if body.get("stream") is True:
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        return Response(200, headers=headers, stream=_stream(ctx, pieces, reason, chat))
    try:
        ctx.work(0)
    finally:
        ctx.state.release_generation(_lock_key(ctx))
    ids = [token_id(p) for p in pieces]
    if chat:  # the reported non-streamed chat answer: no message, empty text
        choice = {"index": 0, "text": "", "token_ids": ids, "finish_reason": reason}
        return json_response(200, {"object": "chat.completion.chunk", "choices": [choice]})
    prompt_tokens = len(tokens(str(body.get("prompt", ""))))
    return json_response(
        200,
        {
            "id": f"cmpl-{uuid.uuid4().hex[:12]}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "text": "".join(pieces), "finish_reason": reason}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(pieces),
                "total_tokens": prompt_tokens + len(pieces),
            },
        },
    )


def chat_completions(ctx: RequestContext) -> Response:
    """POST /oa/v1/chat/completions"""
    body = ctx.json()
    model = _model(ctx, body)
    asked = _last_user_text(body)
    text = _reply(ctx, model, asked, body.get("enable_thinking") is True)
    return _answer(ctx, text, body, chat=True)


def _prompt_text(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if isinstance(prompt, dict):  # the schema warns against {"ofString": …}
        raise _bad("prompt must be a string or an array, not an object")
    if isinstance(prompt, list):
        return " ".join(str(p) for p in prompt)
    if not isinstance(prompt, str) or not prompt:
        raise _bad("prompt is required")
    return prompt


def completions(ctx: RequestContext) -> Response:
    """POST /oa/v1/completions"""
    body = ctx.json()
    model = _model(ctx, body)
    text = _reply(ctx, model, _prompt_text(body)[-200:], thinking=False)
    return _answer(ctx, text, body, chat=False)


def models(ctx: RequestContext) -> Response:
    """GET /oa/v1/models"""
    data = [{"id": m, "object": "model", "created": 0, "owned_by": "novelai"} for m in MODELS]
    return json_response(200, {"object": "list", "data": data})


def token_count(ctx: RequestContext) -> Response:
    """POST /oa/v1/internal/token-count → {length, encoded}"""
    body = ctx.json()
    _model(ctx, body)
    found = tokens(_prompt_text(body))
    return json_response(200, {"length": len(found), "encoded": [token_id(t) for t in found]})
