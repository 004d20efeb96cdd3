"""NovelAIClient: the synchronous NovelAI image API, one method per endpoint.

Token: argument > $NAI_ACCESS_TOKEN > $NOVELAI_API_KEY > token file ($NAI_TOKEN_FILE, else
~/.config/novelai/token; %APPDATA%\\novelai\\token on Windows) — see ``auth``. A missing token
raises MissingTokenError at the first request that needs it, never at construction.
Base URL: argument > $NAI_IMAGE_BASE_URL > https://image.novelai.net. Text generation is
``client.text`` (text host: $NAI_TEXT_BASE_URL > https://text.novelai.net).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import requests

from . import __version__
from .auth import ResolvedToken, mask_token, resolve_base_url, resolve_token
from .contract.constants import (
    PATH_AUGMENT,
    PATH_ENCODE_VIBE,
    PATH_SUBSCRIPTION,
    PATH_SUGGEST_TAGS,
    PATH_UPSCALE,
)
from .contract.cost import VIBE_ENCODE_COST, CostEstimate, augment_cost, upscale_cost
from .converter.generation import (
    BuiltRequest,
    build_augment_request,
    build_encode_vibe_request,
    build_generate_request,
    build_upscale_request,
    estimate_cost,
    resolve_seed,
)
from .converter.images import ImageInput, image_size
from .errors import DecodeError, NovelAIError, SpendLimitError
from .models.user import GenerationRequest
from .models.wire import SubscriptionResponse, SuggestTagsResponse
from .results import (
    FinalImage,
    GeneratedImage,
    GenerationResult,
    Preview,
    StreamEvent,
    Subscription,
    TagSuggestion,
)
from .transport.archive import read_zip
from .transport.events import EventStream, choose_stream_format
from .transport.framing import StreamFormat, decoder_for
from .transport.http_transport import (
    DEFAULT_TIMEOUT,
    NO_RETRY,
    CancelCheck,
    HttpResponse,
    RetryPolicy,
    Transport,
    WaitCallback,
)
from .transport.status_errors import ErrorContext
from .vibes.encoding import (
    MemoryVibeStore,
    VibeStore,
    count_vibes_to_encode,
    encode_missing_vibes,
    validate_with_pending_vibes,
)

if TYPE_CHECKING:
    from .text.chat_client import TextClient

__all__ = [
    "USER_AGENT",
    "CancelCheck",
    "NovelAIClient",
    "PreviewCallback",
    "RetryPolicy",
    "VibeStore",
    "WaitCallback",
]

USER_AGENT = f"comfyui-novelai-nodes/{__version__} (+python-requests)"
BALANCE_TIMEOUT = 10.0  # the balance in a 402 message is a courtesy: never wait long for it
PROCESSED = "The request was processed (and probably charged); it was not resent."


PreviewCallback = Callable[[Preview], None]
StreamOption = bool | Literal["msgpack", "sse"]


class NovelAIClient:
    """Talks to NovelAI's image host (or the simulator). Reuse one instance: it keeps the
    connection alive. Every method takes ``cancel`` (checked every 0.1 s, also while waiting
    for an answer); cancelling stops waiting, but NovelAI cannot stop a started generation."""

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
        vibe_store: VibeStore | None = None,
        text_base_url: str | None = None,
    ) -> None:
        self._token: ResolvedToken = resolve_token(token)
        self._text_base_url = text_base_url
        self._text: TextClient | None = None
        self.base_url = resolve_base_url(base_url)
        # Without a store every generate would pay 2 Anlas per V4+ vibe again; memory by default
        # (bounded), a disk store only when the caller passes one.
        self.vibe_store: VibeStore = vibe_store if vibe_store is not None else MemoryVibeStore()
        self._tier: int | None = None
        self._v5_usage: float | None = None  # usage.percent of the Opus V5 allowance
        self._owns_session = session is None
        self._transport = Transport(
            self.base_url,
            session=session,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            user_agent=user_agent or USER_AGENT,
            token=self._token.require,
        )

    # --- identity ---------------------------------------------------------------------------

    @property
    def token_source(self) -> str:
        """Where the token came from: "argument", "env NAI_ACCESS_TOKEN", "file …" or "none"."""
        return self._token.source

    @property
    def masked_token(self) -> str:
        return mask_token(self._token.value)

    @property
    def has_token(self) -> bool:
        return self._token.value is not None

    @property
    def session(self) -> requests.Session:
        return self._transport.session

    def __repr__(self) -> str:
        return (
            f"NovelAIClient(base_url={self.base_url!r}, token={self.masked_token!r}, "
            f"token_source={self.token_source!r})"
        )

    @property
    def text(self) -> TextClient:
        """Text generation (chat, completions, models, token counts; no Anlas) on the text host:
        ``text_base_url`` > $NAI_TEXT_BASE_URL > https://text.novelai.net; the same token."""
        if self._text is None:
            from .text.chat_client import TextClient  # noqa: PLC0415  (loaded on first use)
            from .text.text_models import TEXT_TIMEOUT  # noqa: PLC0415

            timeout = self._transport.timeout
            self._text = TextClient(
                self._token,
                base_url=self._text_base_url,
                # the caller's timeout if they chose one, else the text host's own default
                timeout=TEXT_TIMEOUT if timeout == DEFAULT_TIMEOUT else timeout,
                retry=self._transport.retry,
                user_agent=self._transport.user_agent,
            )
        return self._text

    def close(self) -> None:
        """Close the connections (a session passed in by the caller is left open)."""
        if self._owns_session:
            self._transport.close()
        if self._text is not None:
            self._text.close()

    def __enter__(self) -> NovelAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ctx(self, *, paid: bool, needed: int | None = None) -> ErrorContext:
        balance = self._balance_quietly if paid else None
        return ErrorContext(
            paid=paid,
            token=self._token.value,
            token_source=self._token.source,
            needed_anlas=needed,
            balance_lookup=balance,
        )

    # --- account ----------------------------------------------------------------------------

    def subscription(
        self, *, cancel: CancelCheck | None = None, on_wait: WaitCallback | None = None
    ) -> Subscription:
        """Tier, Anlas (fixed + purchased) and V5 usage; free. Caches tier and V5 usage for
        estimates and spend limits. A small call: ~10 s at most for an answer and for 429s."""
        response = self._send_full(
            "GET", PATH_SUBSCRIPTION, self._ctx(paid=False), cancel, on_wait,
            **self._transport.quick(),
        )  # fmt: skip
        wire = SubscriptionResponse.model_validate(response.json())
        info = Subscription.from_wire(wire)
        self._tier, self._v5_usage = info.tier, info.v5_usage_percent
        return info

    def _v5_allowance_left(self) -> bool | None:
        """Whether Opus' V5 allowance lasts (usage below 100 %); None before a lookup."""
        return None if self._v5_usage is None else self._v5_usage < 100

    def _balance_quietly(self) -> int | None:
        response = self._transport.send(
            "GET",
            PATH_SUBSCRIPTION,
            ctx=self._ctx(paid=False),
            retry=NO_RETRY,
            timeout=(self._transport.timeout[0], BALANCE_TIMEOUT),
        )
        assert isinstance(response, HttpResponse)
        return SubscriptionResponse.model_validate(response.json()).anlas

    # --- plumbing ---------------------------------------------------------------------------

    def _send_full(
        self,
        method: str,
        path: str,
        ctx: ErrorContext,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
        **kw: Any,
    ) -> HttpResponse:
        response = self._transport.send(method, path, ctx=ctx, cancel=cancel, on_wait=on_wait, **kw)
        assert isinstance(response, HttpResponse)
        return response

    @staticmethod
    def _unzip(response: HttpResponse, seed: int | None) -> tuple[GeneratedImage, ...]:
        try:
            entries = read_zip(response.body)
        except DecodeError as exc:
            raise DecodeError(
                f"{exc.message}. {PROCESSED}", status=response.status,
                correlation_id=response.correlation_id,
            ) from exc  # fmt: skip
        return tuple(
            GeneratedImage(i, data, None if seed is None else seed + i, name)
            for i, (name, data) in enumerate(entries)
        )

    # --- one-call endpoints: encode-vibe, Director tools, upscale, suggest-tags ------------

    def encode_vibe(
        self,
        image: ImageInput,
        *,
        model: str,
        information_extracted: float,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
    ) -> bytes:
        """POST /ai/encode-vibe (2 Anlas): the opaque encoding for one image and model."""
        body = build_encode_vibe_request(
            image, model=model, information_extracted=information_extracted
        )
        ctx = self._ctx(paid=True, needed=VIBE_ENCODE_COST)
        response = self._send_full("POST", PATH_ENCODE_VIBE, ctx, cancel, on_wait, json=body)
        if not response.body:
            raise DecodeError(
                "NovelAI sent an empty vibe encoding", correlation_id=response.correlation_id
            )
        return response.body

    def augment(
        self,
        tool: str,
        image: ImageInput,
        *,
        prompt: str | None = None,
        defry: int | None = None,
        emotion: str | None = None,
        emotion_extra: str = "",
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
    ) -> GenerationResult:
        """Director tools (/ai/augment-image); bg-removal returns three images."""
        body = build_augment_request(
            tool, image, prompt=prompt, defry=defry, emotion=emotion, emotion_extra=emotion_extra
        )
        ctx = self._ctx(
            paid=True, needed=augment_cost(tool, body["width"], body["height"], tier=self._tier)
        )
        response = self._send_full("POST", PATH_AUGMENT, ctx, cancel, on_wait, json=body)
        return GenerationResult(
            images=self._unzip(response, None), seed=None, correlation_id=response.correlation_id
        )

    def upscale(
        self,
        image: ImageInput,
        *,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
    ) -> GenerationResult:
        """2× upscale (/ai/upscale, 1-4 Anlas, never free); one image."""
        body = build_upscale_request(image)
        ctx = self._ctx(paid=True, needed=upscale_cost(*image_size(image)))
        response = self._send_full("POST", PATH_UPSCALE, ctx, cancel, on_wait, json=body)
        return GenerationResult(
            images=self._unzip(response, None), seed=None, correlation_id=response.correlation_id
        )

    def suggest_tags(
        self, prompt: str, *, model: str, lang: str = "en", cancel: CancelCheck | None = None
    ) -> tuple[TagSuggestion, ...]:
        """Tag completions for the last word of ``prompt`` (free)."""
        params = {"model": model, "prompt": prompt, "lang": lang}
        response = self._send_full(
            "GET", PATH_SUGGEST_TAGS, self._ctx(paid=False), cancel, params=params,
            **self._transport.quick(),
        )  # fmt: skip
        wire = SuggestTagsResponse.model_validate(response.json())
        return tuple(TagSuggestion(t.tag, t.count, t.confidence) for t in wire.tags)

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
                json=built.body,
            )  # fmt: skip
            images = self._unzip(response, seed)
            check_count(images, prepared.settings.n_samples, response)
            return GenerationResult(
                images=images, seed=seed, request=prepared, estimate=cost,
                correlation_id=response.correlation_id,
            )  # fmt: skip
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
        return GenerationResult(
            images=images, seed=seed, request=prepared, estimate=cost,
            correlation_id=events.correlation_id,
        )  # fmt: skip

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


def attach_partial(exc: NovelAIError, images: tuple[GeneratedImage, ...], wanted: int) -> None:
    """Put the images that arrived on the error; its text (str) then says how many."""
    exc.partial = images
    # The images themselves are on ``exc.partial`` (for programs); the text is for people.
    exc.partial_notes = (f"{len(images)} of {wanted} images arrived before the failure.",)


def check_count(images: tuple[GeneratedImage, ...], wanted: int, response: HttpResponse) -> None:
    """A ZIP short of images is a DecodeError that still carries the images it held."""
    if len(images) >= wanted:
        return
    error = DecodeError(
        f"NovelAI's ZIP held fewer images than requested. {PROCESSED}",
        status=response.status,
        correlation_id=response.correlation_id,
    )
    attach_partial(error, images, wanted)
    raise error
