"""Fault injection: named failures the simulator can apply to the next N matching requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

from ..contract.constants import PATH_AUGMENT, PATH_GENERATE, PATH_GENERATE_STREAM, PATH_UPSCALE

DELAY: Final = "delay"
HTTP_500: Final = "http_500"
HTTP_502: Final = "http_502"
HTTP_503: Final = "http_503"
CLOUDFLARE_429: Final = "cloudflare_429"
CONCURRENT_429: Final = "concurrent_429"
DROP_MID_BODY: Final = "drop_mid_body"
TRUNCATED_ZIP: Final = "truncated_zip"
STREAM_NO_FINAL: Final = "stream_no_final"
STREAM_ERROR_EVENT: Final = "stream_error_event"
HANG: Final = "hang"
DROP_BEFORE_RESPONSE: Final = "drop_before_response"
# The ZIP or the stream holds every sample but the last (none when only one was asked for).
MISSING_LAST_IMAGE: Final = "missing_last_image"

FAULT_NAMES: Final[tuple[str, ...]] = (
    DELAY,
    HTTP_500,
    HTTP_502,
    HTTP_503,
    CLOUDFLARE_429,
    CONCURRENT_429,
    DROP_MID_BODY,
    TRUNCATED_ZIP,
    STREAM_NO_FINAL,
    STREAM_ERROR_EVENT,
    HANG,
    DROP_BEFORE_RESPONSE,
    MISSING_LAST_IMAGE,
)

# Faults answered before the request is looked at: nothing is generated or charged.
EARLY_FAULTS: Final = frozenset(
    {HTTP_500, HTTP_502, HTTP_503, CLOUDFLARE_429, CONCURRENT_429, DROP_BEFORE_RESPONSE, HANG}
)
# Faults that mangle an otherwise normal response: generated, but never charged.
BODY_FAULTS: Final = frozenset(
    {DROP_MID_BODY, TRUNCATED_ZIP, STREAM_NO_FINAL, STREAM_ERROR_EVENT, MISSING_LAST_IMAGE}
)

_ZIP_PATHS: Final = frozenset({PATH_GENERATE, PATH_AUGMENT, PATH_UPSCALE})
DEFAULT_DELAY_MS: Final = 2000


def fault_applies(name: str, path: str) -> bool:
    """Whether a fault makes sense for a path; global rules skip paths they cannot affect."""
    if path.startswith("/_sim/"):
        return False
    if name in (STREAM_NO_FINAL, STREAM_ERROR_EVENT):
        return path == PATH_GENERATE_STREAM
    if name == TRUNCATED_ZIP:
        return path in _ZIP_PATHS
    if name == MISSING_LAST_IMAGE:
        return path in (PATH_GENERATE, PATH_GENERATE_STREAM)
    return True


class UnknownFaultError(ValueError):
    """A fault name the simulator does not know."""


def check_fault_name(name: str) -> str:
    if name not in FAULT_NAMES:
        raise UnknownFaultError(f"unknown fault {name!r}; known faults: {', '.join(FAULT_NAMES)}")
    return name


@dataclass
class FaultRule:
    """One configured fault: ``remaining`` None means until cleared."""

    name: str
    path: str | None = None
    remaining: int | None = 1
    delay_ms: int | None = None


@dataclass(frozen=True)
class ActiveFault:
    """The fault chosen for one request."""

    name: str
    delay_ms: int = DEFAULT_DELAY_MS


class FaultBook:
    """Thread-safe list of fault rules; the first matching rule wins and is counted down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(
        self,
        name: str,
        *,
        count: int | None = 1,
        path: str | None = None,
        delay_ms: int | None = None,
    ) -> None:
        check_fault_name(name)
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for 'until cleared')")
        with self._lock:
            self._rules.append(FaultRule(name, path, count, delay_ms))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, object]]:
        with self._lock:
            return [{"name": r.name, "path": r.path, "remaining": r.remaining} for r in self._rules]

    def take(self, path: str) -> ActiveFault | None:
        """Consume one use of the first rule matching ``path``."""
        with self._lock:
            for rule in self._rules:
                if rule.path is not None and rule.path != path:
                    continue
                if not fault_applies(rule.name, path):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                delay = rule.delay_ms if rule.delay_ms is not None else DEFAULT_DELAY_MS
                return ActiveFault(rule.name, delay)
        return None
