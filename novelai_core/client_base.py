"""The client's foundation: token, transport, identity, the account lookup and response plumbing.

``NovelAIClient`` (client.py) builds on it: ``ToolMethods`` (client_tools.py) adds the one-call
endpoints, ``NovelAIClient`` the generation.
"""

from __future__ import annotations

from typing import Any, TypeVar

import requests

from . import __version__
from .auth import ResolvedToken, mask_token, resolve_base_url, resolve_token
from .contract.constants import PATH_SUBSCRIPTION
from .errors import DecodeError, NovelAIError
from .models.wire import SubscriptionResponse
from .results import GeneratedImage, Subscription
from .transport.archive import read_zip
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
from .vibes.encoding import MemoryVibeStore, VibeStore

USER_AGENT = f"comfyui-novelai-nodes/{__version__} (+python-requests)"
BALANCE_TIMEOUT = 10.0  # the balance in a 402 message is a courtesy: never wait long for it
PROCESSED = "The request was processed (and probably charged); it was not resent."
_Client = TypeVar("_Client", bound="ClientBase")


class ClientBase:
    """Token, keep-alive transport, identity, account and the shared response helpers."""

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
    ) -> None:
        self._token: ResolvedToken = resolve_token(token)
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

    def close(self) -> None:
        """Close the connections (a session passed in by the caller is left open)."""
        if self._owns_session:
            self._transport.close()

    def __enter__(self: _Client) -> _Client:
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

    def subscription(self, *, cancel: CancelCheck | None = None) -> Subscription:
        """Tier, Anlas (fixed + purchased) and V5 usage; free. Caches tier and V5 usage for
        estimates and spend limits."""
        response = self._send_full("GET", PATH_SUBSCRIPTION, self._ctx(paid=False), cancel=cancel)
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


def attach_partial(exc: NovelAIError, images: tuple[GeneratedImage, ...], wanted: int) -> None:
    """Put the images that arrived on the error and say so in its text."""
    exc.partial = images
    exc.message += f" {len(images)} of {wanted} images arrived; they are in the error's .partial."
    exc.args = (exc.message,)


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
