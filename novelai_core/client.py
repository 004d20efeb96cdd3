"""NovelAIClient: the synchronous NovelAI image API, one method per endpoint.

Token: argument > $NAI_ACCESS_TOKEN > $NOVELAI_API_KEY > token file ($NAI_TOKEN_FILE, else
~/.config/novelai/token; %APPDATA%\\novelai\\token on Windows) — see ``auth``. A missing token
raises MissingTokenError at the first request that needs it, never at construction.
Base URL: argument > $NAI_IMAGE_BASE_URL > https://image.novelai.net.

Generation lives here; token, transport and account in ``client_base``, the one-call
endpoints (encode-vibe, augment, upscale, suggest-tags) in ``client_tools``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

from .client_base import USER_AGENT, attach_partial, check_count
from .client_tools import ToolMethods
from .contract.cost import CostEstimate
from .converter.generation import BuiltRequest, build_generate_request, estimate_cost, resolve_seed
from .errors import NovelAIError, SpendLimitError
from .models.user import GenerationRequest
from .results import FinalImage, GenerationResult, Preview, StreamEvent
from .transport.events import EventStream, choose_stream_format
from .transport.framing import StreamFormat, decoder_for
from .transport.http_transport import CancelCheck, RetryPolicy, WaitCallback, body_kwargs
from .vibes.encoding import (
    VibeStore,
    count_vibes_to_encode,
    encode_missing_vibes,
    validate_with_pending_vibes,
)

__all__ = [
    "USER_AGENT",
    "CancelCheck",
    "NovelAIClient",
    "PreviewCallback",
    "RetryPolicy",
    "VibeStore",
    "WaitCallback",
]

PreviewCallback = Callable[[Preview], None]
StreamOption = bool | Literal["msgpack", "sse"]


class NovelAIClient(ToolMethods):
    """Talks to NovelAI's image host (or the simulator). Reuse one instance: it keeps the
    connection alive. Every method takes ``cancel`` (checked every 0.1 s, also while waiting
    for an answer); cancelling stops waiting, but NovelAI cannot stop a started generation."""

    def estimate(
        self,
        request: GenerationRequest,
        *,
        tier: int | None = None,
        vibes_to_encode: int | None = None,
    ) -> CostEstimate:
        """Anlas for ``request``; tier None → the account's (fetched once, then cached).

        Opus' free V5 images count as free only while the account's V5 allowance is known to
        last (from the last ``subscription()``; unknown → paid, and the estimate's note says so).
        ``vibes_to_encode`` None → counted: V4+ vibes without an encoding for the model that the
        vibe store does not hold either (2 Anlas each).
        """
        if tier is None:
            tier = self._tier if self._tier is not None else self.subscription().tier
        if vibes_to_encode is None:
            vibes_to_encode = self._count_vibes_to_encode(request)
        return estimate_cost(
            request,
            tier=tier,
            vibes_to_encode=vibes_to_encode,
            v5_allowance_left=self._v5_allowance_left(),
        )

    # --- generation -------------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest,
        *,
        stream: StreamOption = False,
        on_preview: PreviewCallback | None = None,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
        max_anlas: int | None = None,
    ) -> GenerationResult:
        """Generate; returns the images in sample order (image i used seed + i).

        A missing seed is drawn first; V4+ vibes without an encoding are encoded (2 Anlas each,
        or taken from the vibe store). ``max_anlas`` raises SpendLimitError before anything
        is spent when the estimate (list price, Opus' free rule applied if the tier is known)
        is higher. ``on_wait(attempt, delay, reason)`` is called before each 429 wait.
        """
        fmt = choose_stream_format(stream)
        prepared, built = self._prepare(request, fmt, cancel, on_wait, max_anlas)
        seed = prepared.settings.seed
        cost = self._estimate_known_tier(prepared)
        if fmt is None:
            response = self._send_full(
                "POST", built.endpoint, self._ctx(paid=True, needed=cost.total), cancel, on_wait,
                **body_kwargs(built.body, built.files),
            )  # fmt: skip
            images = self._unzip(response, seed)
            check_count(images, prepared.settings.n_samples, response)
            return GenerationResult(images, seed, prepared, cost, response.correlation_id)
        finals: dict[int, FinalImage] = {}
        events = self._stream(prepared, built, fmt, cancel, on_wait)
        iterator = iter(events)
        try:
            for event in iterator:
                if isinstance(event, FinalImage):
                    finals[event.sample] = event
                elif on_preview is not None:
                    on_preview(event)  # if it raises, the finally closes the connection now
        except NovelAIError as exc:
            if finals:  # a stream cut after some finals: they may be paid for; hand them over
                got = tuple(finals[i].as_generated() for i in sorted(finals))
                attach_partial(exc, got, prepared.settings.n_samples)
            raise
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        images = tuple(finals[i].as_generated() for i in sorted(finals))
        return GenerationResult(images, seed, prepared, cost, events.correlation_id)

    def stream_generate(
        self,
        request: GenerationRequest,
        *,
        stream: Literal["msgpack", "sse"] | Literal[True] = True,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
        max_anlas: int | None = None,
    ) -> Iterator[StreamEvent]:
        """Yield Preview events as steps arrive and a FinalImage per sample.

        Raises StreamError for an error event or a stream ending early. Leaving the loop early
        (or ``cancel``) closes the connection at once.
        """
        fmt = choose_stream_format(stream) or "sse"
        prepared, built = self._prepare(request, fmt, cancel, on_wait, max_anlas)
        yield from self._stream(prepared, built, fmt, cancel, on_wait)

    def _prepare(
        self,
        request: GenerationRequest,
        fmt: StreamFormat | None,
        cancel: CancelCheck | None,
        on_wait: WaitCallback | None,
        max_anlas: int | None,
    ) -> tuple[GenerationRequest, BuiltRequest]:
        request = resolve_seed(request)
        to_encode = self._count_vibes_to_encode(request)
        if to_encode:
            validate_with_pending_vibes(request)  # before paying for any encode
        if fmt is not None:
            decoder_for(fmt)  # MsgpackMissingError now, before anything is spent
        if max_anlas is not None:
            estimate = self._estimate_known_tier(request, vibes_to_encode=to_encode)
            if estimate.total > max_anlas:
                why = f" ({estimate.note})" if estimate.note else ""
                raise SpendLimitError(
                    f"NovelAI: this would cost about {estimate.total} Anlas{why}, above the "
                    f"limit of {max_anlas}; nothing was sent."
                )
        request = self._encode_vibes(request, cancel, on_wait)
        return request, build_generate_request(request, stream=fmt)

    def _estimate_known_tier(
        self, request: GenerationRequest, *, vibes_to_encode: int = 0
    ) -> CostEstimate:
        """The estimate with the account's tier and V5 allowance if known (no extra request)."""
        return estimate_cost(
            request,
            tier=self._tier,
            vibes_to_encode=vibes_to_encode,
            v5_allowance_left=self._v5_allowance_left(),
        )

    def _stream(
        self,
        request: GenerationRequest,
        built: BuiltRequest,
        fmt: StreamFormat,
        cancel: CancelCheck | None,
        on_wait: WaitCallback | None,
    ) -> EventStream:
        return EventStream(
            self._transport,
            self._ctx(paid=True, needed=self._estimate_known_tier(request).total),
            built,
            fmt=fmt,
            n_samples=request.settings.n_samples,
            seed=request.settings.seed,
            cancel=cancel,
            on_wait=on_wait,
        )

    # --- vibes ------------------------------------------------------------------------------

    def _count_vibes_to_encode(self, request: GenerationRequest) -> int:
        return count_vibes_to_encode(request, self.vibe_store)

    def _encode_vibes(
        self, request: GenerationRequest, cancel: CancelCheck | None, on_wait: WaitCallback | None
    ) -> GenerationRequest:
        def encode(png: bytes, model: str, info: float) -> bytes:
            return self.encode_vibe(
                png, model=model, information_extracted=info, cancel=cancel, on_wait=on_wait
            )

        return encode_missing_vibes(request, self.vibe_store, encode)
