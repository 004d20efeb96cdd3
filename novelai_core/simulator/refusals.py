"""The simulator's own exception: an HTTP status and NovelAI's message for a refused request."""

from __future__ import annotations

from typing import Any

INTERNAL_ERROR = "Error generating image, an internal error occurred"
# The plain 500 text of R9 e / i (V5 with vibes, V3 with v4 captions).
BARE_500 = "Internal Server Error"


class SimError(Exception):
    """A request the simulator refuses, answered as ``{"statusCode", "message"}``.

    ``reason`` is the simulator's plain explanation, sent in the ``X-Sim-Reason`` header because
    NovelAI's own 500 message says nothing useful.
    """

    def __init__(
        self,
        status: int,
        message: str,
        reason: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        trailer: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or message
        self.details = details  # utils.JsonError.details, e.g. {"invalidKeys": [...]} (R9 n)
        self.trailer = trailer  # stray bytes NovelAI sends after some error JSON (R9 b)


def validation_error(detail: str) -> SimError:
    return SimError(400, f"Validation error: {detail}")


def internal_error(reason: str) -> SimError:
    """NovelAI answers invalid combinations with an opaque 500 (contract §10)."""
    return SimError(500, INTERNAL_ERROR, reason)
