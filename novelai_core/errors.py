"""One error hierarchy for everything the SDK raises: input problems, HTTP faults, broken bodies.

Messages are written for a ComfyUI user and never contain the API token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import GeneratedImage


class NovelAIError(Exception):
    """Base of every error this SDK raises on purpose."""

    # Images that arrived before the failure (a stream cut after some finals, a ZIP short of
    # images): NovelAI may have charged for them, so they are handed over, not dropped.
    partial: tuple[GeneratedImage, ...] = ()
    # Sentences about ``partial`` that follow the message in str(): how many arrived (added by
    # the client), where a caller saved them (added by that caller). ``message`` stays as built.
    partial_notes: tuple[str, ...] = ()

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server_message: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.server_message = server_message
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        text = " ".join((self.message, *self.partial_notes))
        if self.correlation_id:
            text += f" [request {self.correlation_id}]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class InputError(NovelAIError, ValueError):
    """Invalid settings caught locally, before any request (and any Anlas) is spent."""


class MissingTokenError(NovelAIError):
    """No API token was given or found."""


class AuthenticationError(NovelAIError):
    """401: the token is missing, wrong or expired."""


class ModelNotAllowedError(NovelAIError):
    """403 from the text host: the model is not available on this subscription tier
    (e.g. an Opus-only model such as xialong-v1 on Tablet or Scroll)."""


class InsufficientAnlasError(NovelAIError):
    """402: the account cannot pay for this request (or has no active subscription)."""

    def __init__(
        self,
        message: str,
        *,
        needed: int | None = None,
        balance: int | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.needed = needed
        self.balance = balance


class SpendLimitError(NovelAIError):
    """The estimate exceeds what the caller allowed to spend; nothing was sent."""


class RateLimitError(NovelAIError):
    """429: a generation is already running for this account, or a rate limit was hit."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class InvalidRequestError(NovelAIError):
    """400 / 409 / 413: NovelAI refused the request as invalid, conflicting or too large."""


class ServerError(NovelAIError):
    """5xx: NovelAI failed. The request may have been processed (and charged): not resent."""


class NovelAIConnectionError(NovelAIError):
    """The connection failed or dropped."""


class NovelAITimeoutError(NovelAIError):
    """No answer in time. The request may have been processed (and charged): not resent."""


class DecodeError(NovelAIError):
    """A response body (ZIP, PNG, stream frame, metadata) could not be decoded."""


class StreamError(NovelAIError):
    """NovelAI reported an error inside a streaming response, or the stream ended early."""


class CancelledError(NovelAIError):
    """The caller cancelled (e.g. ComfyUI's Cancel) while waiting or reading."""
