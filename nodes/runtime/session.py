"""One shared NovelAI client for all nodes, so HTTP keep-alive survives between queue runs.

The client is rebuilt only when the token or the image or text host changes (env vars or token
file), so a user who sets a new token does not have to restart ComfyUI. The token is never a widget.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

    from ...novelai_core.client import NovelAIClient
    from ...novelai_core.transport.http_transport import WaitCallback

_lock = threading.Lock()
_cached: tuple[tuple[str, str, str, str], NovelAIClient] | None = None
# How long an account lookup's tier is trusted. A queue of generations then costs one
# /user/subscription round trip per minute instead of one per image; a tier change is noticed
# within that time. Models metered by the Opus V5 allowance are looked up before every run:
# a queue can use the allowance up within the minute, and a stale "allowance left" would let a
# charged image past a "free only" guard. The Account node always asks afresh.
TIER_TTL_S: Final = 60.0
_tiers: weakref.WeakKeyDictionary[NovelAIClient, tuple[float, int]] = weakref.WeakKeyDictionary()


def _key() -> tuple[str, str, str, str]:
    from ...novelai_core.auth import resolve_base_url, resolve_text_base_url, resolve_token

    resolved = resolve_token()
    # A digest, so the cache key never holds the token itself.
    digest = hashlib.sha256((resolved.value or "").encode()).hexdigest()
    return digest, resolved.source, resolve_base_url(), resolve_text_base_url()


def get_client() -> NovelAIClient:
    """The shared ``NovelAIClient`` for the current token and base URL."""
    global _cached  # noqa: PLW0603 - a process-wide cache is the point
    from ...novelai_core.client import NovelAIClient
    from ..vibe_store_node import shared_store

    key = _key()
    with _lock:
        if _cached is None or _cached[0] != key:
            _close(_cached)
            _cached = (key, NovelAIClient())
        # Vibe encodings come from (and go to) the on-disk store; its folder can change.
        _cached[1].vibe_store = shared_store()
        return _cached[1]


def _close(entry: tuple[tuple[str, str, str, str], NovelAIClient] | None) -> None:
    close = getattr(entry[1], "close", None) if entry is not None else None
    if callable(close):
        close()


def account_tier(
    client: NovelAIClient,
    cancel: Callable[[], bool] | None = None,
    *,
    metered: bool = False,
    on_wait: WaitCallback | None = None,
) -> int:
    """The account's tier for estimates: looked up, then reused for TIER_TTL_S per client.

    ``metered`` (the model's ``opus_allowance_metered``) always looks up afresh, so the client's
    V5 usage, which its estimates and spend limit read, is current for this run.
    """
    now = time.monotonic()
    with _lock:
        known = _tiers.get(client)
    if not metered and known is not None and now - known[0] < TIER_TTL_S:
        return known[1]
    tier = int(client.subscription(cancel=cancel, on_wait=on_wait).tier)
    with _lock:
        _tiers[client] = (now, tier)
    return tier
