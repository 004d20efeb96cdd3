"""Shared, thread-safe simulator state: auth, ledger, faults, timing, locks and statistics."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from .faults import FaultBook
from .ledger import ANONYMOUS, Ledger, token_key
from .refusals import SimError

RECENT_LIMIT: Final = 50
_B64: Final = re.compile(r"^[A-Za-z0-9+/=\s]+$")
# Strings shorter than this are never images; longer ones are elided if they decode as base64.
_ELIDE_MIN: Final = 64
CONCURRENT_MESSAGE: Final = "Concurrent generation is locked"


def describe_bytes(data: bytes) -> str:
    return f"<image sha256={hashlib.sha256(data).hexdigest()} bytes={len(data)}>"


def elide(value: Any) -> Any:
    """A copy of a JSON value with base64 payloads replaced by a short description."""
    if isinstance(value, dict):
        return {k: elide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [elide(v) for v in value]
    if isinstance(value, str) and len(value) >= _ELIDE_MIN and _B64.match(value):
        try:
            return describe_bytes(base64.b64decode(value, validate=False))
        except (binascii.Error, ValueError):
            return value
    return value


class SimState:
    """Everything the request handlers share."""

    def __init__(
        self,
        *,
        token: str | None,
        anlas: int,
        tier: int,
        latency_ms: int,
        step_ms: int,
        verbose: bool = False,
    ) -> None:
        self.token = token
        self.ledger = Ledger(anlas, tier)
        self.faults = FaultBook()
        self.latency_ms = latency_ms
        self.step_ms = step_ms
        self.verbose = verbose
        # Answer 201 where the schema documents it (generate-image's JSON mode, encode-vibe,
        # augment-image) instead of the live service's 200: clients must take any 2xx (R14 a).
        self.schema_statuses = False
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._valid_keys: set[str] = set()
        self._generating: set[str] = set()
        # Set while any token's generation holds its lock (tests wait on it instead of sleeping).
        self.generation_running = threading.Event()
        self._counts: Counter[str] = Counter()
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_LIMIT)
        self._connections = 0
        self._text_replies: deque[str] = deque()
        if token is not None:
            self._valid_keys.add(token_key(token))
            self.ledger.set_balance(token_key(token), anlas)

    # --- auth -------------------------------------------------------------------------------

    def add_token(self, token: str | None) -> str:
        key = token_key(token if token is not None else self.token)
        with self._lock:
            if key != ANONYMOUS:
                self._valid_keys.add(key)
        return key

    def authenticate(self, authorization: str | None) -> str:
        """The account key of a request; 401 when a token is configured and this one is wrong."""
        bearer = None
        if authorization and authorization.lower().startswith("bearer "):
            bearer = authorization[7:].strip() or None
        if self.token is None:
            return token_key(bearer)
        key = token_key(bearer) if bearer else None
        with self._lock:
            ok = key is not None and key in self._valid_keys
        if not ok or key is None:
            raise SimError(401, "Unauthorized", "missing or wrong bearer token")
        return key

    # --- the one-generation-at-a-time lock --------------------------------------------------

    def acquire_generation(self, key: str) -> None:
        with self._lock:
            if key in self._generating:
                raise SimError(429, CONCURRENT_MESSAGE)
            self._generating.add(key)
            self.generation_running.set()

    def release_generation(self, key: str) -> None:
        with self._lock:
            self._generating.discard(key)
            if not self._generating:
                self.generation_running.clear()

    @contextmanager
    def generating(self, key: str) -> Iterator[None]:
        self.acquire_generation(key)
        try:
            yield
        finally:
            self.release_generation(key)

    # --- scripted text answers --------------------------------------------------------------

    def queue_text_reply(self, text: str) -> None:
        with self._lock:
            self._text_replies.append(text)

    def next_text_reply(self) -> str | None:
        with self._lock:
            return self._text_replies.popleft() if self._text_replies else None

    def wait(self, milliseconds: float) -> bool:
        """Sleep unless the server stops; False when it is stopping."""
        if milliseconds <= 0:
            return not self.stop.is_set()
        return not self.stop.wait(milliseconds / 1000)

    # --- statistics -------------------------------------------------------------------------

    def count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    def count_request(self, path: str) -> None:
        with self._lock:
            self._counts[path] += 1

    def record(self, method: str, path: str, body: Any, status: int, fault: str | None) -> None:
        entry = {"method": method, "path": path, "body": body, "status": status, "fault": fault}
        with self._lock:
            self._recent.append(entry)

    def recent(self, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._recent if path is None or e["path"] == path]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            counts, connections = dict(self._counts), self._connections
        return {
            "requests": counts,
            "anlas": self.ledger.snapshot(),
            "connections": connections,
            "tier": self.ledger.tier,
            "faults": self.faults.rules(),
            "recent": self.recent(),
        }
