"""Turns a generate-image-stream body (chunks as they arrive) into typed events, strictly.

Samples interleave and steps may arrive in any order, so nothing here assumes an order: finals
are keyed by sample index, and the stream must deliver one final per sample before it ends.
An ``error`` event (NovelAI reports failures inside a 200 stream) raises StreamError.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from ..converter.generation import BuiltRequest
from ..errors import DecodeError, StreamError
from ..models.wire import StreamError as WireStreamError
from ..models.wire import StreamFinal, StreamIntermediate
from ..results import FinalImage, Preview, StreamEvent
from .framing import (
    MsgpackStreamDecoder,
    SseStreamDecoder,
    StreamFormat,
    decoder_for,
    msgpack_available,
)
from .http_transport import (
    CancelCheck,
    ExchangeFailedError,
    StreamResponse,
    Transport,
    WaitCallback,
)
from .status_errors import ErrorContext

log = logging.getLogger("novelai_core.client")
_MAYBE_CHARGED = "The generation may have been charged; it was not resent."


def _gen_id(value: str | int | None) -> str | None:
    return None if value is None else str(value)


def _typed(event: dict[str, Any], seed: int | None, cid: str | None) -> StreamEvent | None:
    kind = event.get("event_type")
    try:
        if kind == "intermediate":
            step = StreamIntermediate.model_validate(event)
            return Preview(step.samp_ix, step.step_ix, step.sigma, step.image, _gen_id(step.gen_id))
        if kind == "final":
            final = StreamFinal.model_validate(event)
            sample_seed = None if seed is None else seed + final.samp_ix
            return FinalImage(final.samp_ix, final.image, sample_seed, _gen_id(final.gen_id))
        if kind == "error":
            error = WireStreamError.model_validate(event)
            raise StreamError(
                f"NovelAI reported an error during generation: {error.message}. {_MAYBE_CHARGED}",
                status=200,
                server_message=error.message,
                correlation_id=cid,
            )
    except ValidationError as exc:
        raise DecodeError(
            f"NovelAI sent a malformed {kind} stream event", status=200, correlation_id=cid
        ) from exc
    log.debug("ignoring a stream event of type %r", kind)
    return None


def read_events(
    chunks: Iterable[bytes],
    decoder: MsgpackStreamDecoder | SseStreamDecoder,
    *,
    n_samples: int,
    seed: int | None,
    correlation_id: str | None = None,
) -> Iterator[StreamEvent]:
    """Decode chunks incrementally into Preview / FinalImage events.

    Raises StreamError for an error event or a stream that ends early (inside a frame, or
    without a final for every sample), DecodeError for frames that cannot be read.
    """
    finals: set[int] = set()

    def typed(raws: list[dict[str, Any]]) -> Iterator[StreamEvent]:
        for raw in raws:
            event = _typed(raw, seed, correlation_id)
            if isinstance(event, FinalImage):
                finals.add(event.sample)
            if event is not None:
                yield event

    for chunk in chunks:
        try:
            events = decoder.feed(chunk)
        except DecodeError as exc:
            raise DecodeError(exc.message, status=200, correlation_id=correlation_id) from exc
        yield from typed(events)
    try:
        last = decoder.close()  # an SSE body may end right after its last event's data line
    except DecodeError as exc:
        raise StreamError(
            f"NovelAI's stream was cut off ({exc.message}). {_MAYBE_CHARGED}",
            status=200,
            correlation_id=correlation_id,
        ) from exc
    yield from typed(last)
    missing = sorted(set(range(n_samples)) - finals)
    if missing:
        raise StreamError(
            f"NovelAI's stream ended before image {', '.join(str(i + 1) for i in missing)} of "
            f"{n_samples} arrived ({len(finals)} of {n_samples} received). " + _MAYBE_CHARGED,
            status=200,
            correlation_id=correlation_id,
        )


def choose_stream_format(stream: bool | StreamFormat) -> StreamFormat | None:
    """None for no streaming; True = msgpack (the web app's framing), or SSE without msgpack."""
    if stream is False:
        return None
    if stream is True:
        return "msgpack" if msgpack_available() else "sse"
    return stream


class EventStream:
    """One streamed generation: iterate it for events; ``correlation_id`` once the answer starts.

    The request is sent on the first ``next()``; leaving the loop early closes the connection.
    """

    def __init__(
        self,
        transport: Transport,
        ctx: ErrorContext,
        built: BuiltRequest,
        *,
        fmt: StreamFormat,
        n_samples: int,
        seed: int | None,
        cancel: CancelCheck | None,
        on_wait: WaitCallback | None,
    ) -> None:
        self.correlation_id: str | None = None
        self._transport, self._ctx, self._built = transport, ctx, built
        self._fmt, self._n_samples, self._seed = fmt, n_samples, seed
        self._cancel, self._on_wait = cancel, on_wait

    def __iter__(self) -> Iterator[StreamEvent]:
        built = self._built
        response = self._transport.send(
            "POST",
            built.endpoint,
            ctx=self._ctx,
            cancel=self._cancel,
            on_wait=self._on_wait,
            stream=True,
            timeout=self._transport.stream_timeout(),
            json=built.body,
        )
        assert isinstance(response, StreamResponse)
        self.correlation_id = cid = response.correlation_id
        try:
            yield from read_events(
                response.chunks(self._cancel),
                decoder_for(self._fmt),
                n_samples=self._n_samples,
                seed=self._seed,
                correlation_id=cid,
            )
        except ExchangeFailedError as failure:
            ctx = replace(self._ctx, correlation_id=cid, path=built.endpoint)
            raise self._transport.stream_error(failure, ctx) from failure.cause
        finally:
            response.close()
