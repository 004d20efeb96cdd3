"""TextClient: chat, completions, the model list and token counts on NovelAI's text host.

Host: argument > $NAI_TEXT_BASE_URL > https://text.novelai.net. The same token as for images.
Chat always streams underneath (a non-streamed chat answer comes back without its text, as
several clients report) and ``chat()`` joins the pieces. Text costs no Anlas. The same
transport as the image client: retries of 429 waits and failed connects only, cancel within
0.1 s, the token in no error or log line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import requests

from ..auth import ResolvedToken, mask_token, redact, resolve_text_base_url, resolve_token
from ..errors import InputError, ModelNotAllowedError, NovelAIError
from ..transport.http_transport import (
    CancelCheck,
    ExchangeFailedError,
    HttpResponse,
    RetryPolicy,
    StreamResponse,
    Transport,
    WaitCallback,
)
from ..transport.status_errors import ErrorContext, error_from_response, summarize_body
from .sse_text import TextPiece, piece_of, read_text_stream, strip_thinking
from .text_models import (
    DEFAULT_TEXT_MODEL,
    PATH_CHAT,
    PATH_COMPLETIONS,
    PATH_MODELS,
    PATH_TOKEN_COUNT,
    ROLES,
    TEXT_MODELS,
    TEXT_TIMEOUT,
    TextModel,
    TextResult,
)

ChatMessage = Mapping[str, str] | tuple[str, str]
_SAMPLING = (
    "temperature", "top_p", "top_k", "min_p", "frequency_penalty", "presence_penalty",
    "stop", "seed",
)  # fmt: skip


def text_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    ctx: ErrorContext,
    *,
    gave_up: str = "",
) -> NovelAIError:
    """The image host's mapping, except that a JSON 403 means "model not allowed for this tier"."""
    summary, html = summarize_body(headers, body)
    if status == 403 and not html:
        message = redact(summary, ctx.token) if summary else None
        return ModelNotAllowedError(
            f"NovelAI: this text model is not available on your subscription tier (HTTP 403"
            f"{': ' + message if message else ''}); {DEFAULT_TEXT_MODEL} works on every tier.",
            status=status,
            server_message=message,
            correlation_id=ctx.correlation_id,
        )
    return error_from_response(status, headers, body, ctx, gave_up=gave_up)


def chat_messages(prompt: str | Sequence[ChatMessage], system: str | None) -> list[dict[str, str]]:
    """The ``messages`` list: a string is one user turn; ``system`` goes first."""
    turns: Sequence[ChatMessage] = [("user", prompt)] if isinstance(prompt, str) else prompt
    messages = [{"role": "system", "content": system}] if system else []
    for turn in turns:
        role, content = (turn["role"], turn["content"]) if isinstance(turn, Mapping) else turn
        if role not in ROLES:
            raise InputError(f"a chat message's role must be one of {', '.join(ROLES)}: {role!r}")
        if not isinstance(content, str):
            raise InputError("a chat message's content must be a string")
        messages.append({"role": role, "content": content})
    if not any(m["role"] == "user" and m["content"].strip() for m in messages):
        raise InputError("the chat needs a non-empty user message")
    return messages


def _check_max_tokens(model: str, max_tokens: int) -> None:
    info = TEXT_MODELS.get(model)
    cap = info.max_output if info is not None else None
    if max_tokens < 1 or (cap is not None and max_tokens > cap):
        limit = f"1…{cap}" if cap is not None else "at least 1"
        raise InputError(f"max_tokens for {model} must be {limit}, not {max_tokens}")


class TextClient:
    """NovelAI's text API (``/oa/v1``). Reuse one instance: it keeps the connection alive."""

    def __init__(
        self,
        token: str | ResolvedToken | None = None,
        *,
        base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TEXT_TIMEOUT,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
    ) -> None:
        from ..client import USER_AGENT  # noqa: PLC0415  (the client imports this module lazily)

        self._token = token if isinstance(token, ResolvedToken) else resolve_token(token)
        self.base_url = resolve_text_base_url(base_url)
        self._owns_session = session is None
        self._transport = Transport(
            self.base_url,
            session=session,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            user_agent=user_agent or USER_AGENT,
            token=self._token.require,
            errors=text_error,
        )

    def __repr__(self) -> str:
        return (
            f"TextClient(base_url={self.base_url!r}, token={mask_token(self._token.value)!r}, "
            f"token_source={self._token.source!r})"
        )

    def close(self) -> None:
        if self._owns_session:
            self._transport.close()

    def __enter__(self) -> TextClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ctx(self) -> ErrorContext:
        return ErrorContext(paid=False, token=self._token.value, token_source=self._token.source)

    # --- chat ---------------------------------------------------------------------------------

    def chat(
        self,
        prompt: str | Sequence[ChatMessage],
        /,
        *,
        system: str | None = None,
        model: str = DEFAULT_TEXT_MODEL,
        max_tokens: int = 400,
        enable_thinking: bool = False,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
        **sampling: Any,
    ) -> TextResult:
        """One chat answer: ``prompt`` is the user's message (or a list of (role, content)
        turns), ``system`` the instruction. Sampling: temperature, top_p, top_k, min_p,
        frequency_penalty, presence_penalty, stop, seed. ``<think>`` text is removed."""
        body = self._chat_body(
            prompt, system, model=model, max_tokens=max_tokens,
            enable_thinking=enable_thinking, sampling=sampling,
        )  # fmt: skip
        return self._joined(PATH_CHAT, body, cancel, on_wait)

    def stream_chat(
        self,
        prompt: str | Sequence[ChatMessage],
        /,
        *,
        system: str | None = None,
        model: str = DEFAULT_TEXT_MODEL,
        max_tokens: int = 400,
        enable_thinking: bool = False,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
        **sampling: Any,
    ) -> Iterator[TextPiece]:
        """The answer's pieces as they arrive (raw: a ``<think>`` block is not removed)."""
        body = self._chat_body(
            prompt, system, model=model, max_tokens=max_tokens,
            enable_thinking=enable_thinking, sampling=sampling,
        )  # fmt: skip
        return self._stream(PATH_CHAT, body, cancel, on_wait)

    # --- completions --------------------------------------------------------------------------

    def complete(
        self,
        prompt: str,
        /,
        *,
        model: str = DEFAULT_TEXT_MODEL,
        max_tokens: int = 400,
        stream: bool = True,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
        **sampling: Any,
    ) -> TextResult:
        """A raw completion of ``prompt`` (you write the template, e.g. GLM's)."""
        if not prompt:
            raise InputError("the prompt to complete is empty")
        body = {"model": model, "prompt": prompt, **self._common(model, max_tokens, sampling)}
        if stream:
            return self._joined(PATH_COMPLETIONS, body, cancel, on_wait)
        body["stream"] = False
        response = self._send("POST", PATH_COMPLETIONS, cancel, on_wait, json=body)
        piece = piece_of(response.json()) or TextPiece("")
        return TextResult(
            strip_thinking(piece.text), model, piece.finish_reason, response.correlation_id,
            piece.text,
        )  # fmt: skip

    # --- models and tokens --------------------------------------------------------------------

    def models(self, *, cancel: CancelCheck | None = None) -> tuple[TextModel, ...]:
        """The models this token may use through /oa/v1 (GET /oa/v1/models)."""
        data = self._send("GET", PATH_MODELS, cancel, None).json()
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise NovelAIError("NovelAI's model list has no data array")
        return tuple(
            TextModel(str(e["id"]), str(e.get("owned_by", "")))
            for e in entries
            if isinstance(e, dict) and "id" in e
        )

    def count_tokens(
        self, text: str, *, model: str = DEFAULT_TEXT_MODEL, cancel: CancelCheck | None = None
    ) -> int:
        """How many tokens ``text`` is for ``model`` (POST /oa/v1/internal/token-count)."""
        body = {"model": model, "prompt": text}
        data = self._send("POST", PATH_TOKEN_COUNT, cancel, None, json=body).json()
        length = data.get("length") if isinstance(data, dict) else None
        if not isinstance(length, int):
            raise NovelAIError("NovelAI's token count has no length")
        return length

    # --- plumbing -----------------------------------------------------------------------------

    def _chat_body(
        self,
        prompt: str | Sequence[ChatMessage],
        system: str | None,
        *,
        model: str,
        max_tokens: int,
        enable_thinking: bool,
        sampling: Mapping[str, Any],
    ) -> dict[str, Any]:
        return {
            "model": model,
            "messages": chat_messages(prompt, system),
            **self._common(model, max_tokens, sampling),
            "enable_thinking": enable_thinking,
        }

    @staticmethod
    def _common(model: str, max_tokens: int, sampling: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(sampling) - set(_SAMPLING)
        if unknown:
            raise InputError(f"unknown text option(s): {', '.join(sorted(unknown))}")
        if not model:
            raise InputError("the text model is empty")
        _check_max_tokens(model, max_tokens)
        chosen = {k: v for k, v in sampling.items() if v is not None}
        return {"max_tokens": max_tokens, **chosen, "stream": True}

    def _send(
        self,
        method: str,
        path: str,
        cancel: CancelCheck | None,
        on_wait: WaitCallback | None,
        **kw: Any,
    ) -> HttpResponse:
        response = self._transport.send(
            method, path, ctx=self._ctx(), cancel=cancel, on_wait=on_wait, **kw
        )
        assert isinstance(response, HttpResponse)
        return response

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        cancel: CancelCheck | None,
        on_wait: WaitCallback | None,
        ids: list[str] | None = None,
    ) -> Iterator[TextPiece]:
        """The pieces of one streamed answer; its correlation id is appended to ``ids``."""
        response = self._transport.send(
            "POST", path, ctx=self._ctx(), cancel=cancel, on_wait=on_wait, stream=True, json=body
        )
        assert isinstance(response, StreamResponse)
        cid = response.correlation_id
        if ids is not None:
            ids.append(cid)
        try:
            yield from read_text_stream(response.chunks(cancel))
        except ExchangeFailedError as failure:
            ctx = replace(self._ctx(), correlation_id=cid, path=path)
            raise self._transport.stream_error(failure, ctx) from failure.cause
        except NovelAIError as exc:
            exc.correlation_id = exc.correlation_id or cid
            raise
        finally:
            response.close()

    def _joined(
        self,
        path: str,
        body: dict[str, Any],
        cancel: CancelCheck | None,
        on_wait: WaitCallback | None,
    ) -> TextResult:
        ids: list[str] = []
        texts: list[str] = []
        reason = None
        for piece in self._stream(path, body, cancel, on_wait, ids):
            texts.append(piece.text)
            reason = piece.finish_reason or reason
        raw = "".join(texts)
        return TextResult(strip_thinking(raw), body["model"], reason, ids[0], raw)
