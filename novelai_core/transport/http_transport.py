"""HTTP transport: one keep-alive session, bounded 429 waits, cancellable exchanges, raw streams.

Every exchange runs in a worker thread (``worker``) so ``cancel`` is honoured within
~0.1 s. NovelAI cannot cancel a generation that has started: cancelling only stops *waiting*
(the generation may still finish and be charged server-side).

Retries: only a 429 (nothing was generated) and a failure to connect (nothing was sent) are
retried automatically. Anything after the request may have reached NovelAI raises instead.

Time bounds (issue 19): a host that cannot be reached fails within ~10 s (one quick retry at
most); a stream with no bytes for STREAM_IDLE_TIMEOUT has stalled; small JSON calls (account,
tag suggestions) wait at most QUICK_READ_TIMEOUT for an answer and QUICK_WAIT_BUDGET for 429s;
the 429 generation-lock wait of paid calls is bounded by RetryPolicy.max_total_seconds.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import string
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import requests
import urllib3.exceptions as u3

from ..errors import DecodeError, NovelAIError
from .status_errors import (
    ErrorContext,
    ErrorMapper,
    error_from_exception,
    error_from_response,
    failure_kind,
    forget_frames,
    nothing_was_sent,
    parse_retry_after,
)
from .worker import CancelCheck, Worker, check_cancel, new_session, sleep_cancellable

log = logging.getLogger("novelai_core.client")

WaitCallback = Callable[[int, float, str], None]
STREAM_CHUNK = 64 * 1024
# (connect, read). The read timeout is the longest silence allowed while NovelAI renders a
# non-streamed answer (a big image at 50 steps takes well under a minute).
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 120.0)
STREAM_IDLE_TIMEOUT = 30.0  # NovelAI streams an event per step: 30 s without one is a stall
QUICK_READ_TIMEOUT = 10.0  # small JSON answers (account lookup, suggest-tags)
QUICK_WAIT_BUDGET = 10.0  # all 429 waits of one small JSON call together
_NETWORK_ERRORS = (requests.RequestException, u3.HTTPError, OSError)
_ID_ALPHABET = string.ascii_letters + string.digits
# What a wait is for, as on_wait reports it (the caller says "waiting" and when it tries again).
BUSY_REASON = "another generation is running on this account"
CONNECT_REASON = "NovelAI could not be reached"
__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "QUICK_READ_TIMEOUT",
    "STREAM_IDLE_TIMEOUT",
    "CancelCheck",
    "ExchangeFailedError",
    "HttpResponse",
    "RetryPolicy",
    "StreamResponse",
    "Transport",
    "WaitCallback",
    "check_cancel",
]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for automatic retries of 429 answers and failed connects (attempts include the first).

    429 delay: Retry-After when NovelAI sends it, else initial_delay·multiplier^(n-1) capped at
    max_delay, ±jitter. A wait that would pass max_total_seconds is not started.
    A failed connect (nothing sent) is tried ``connect_attempts`` times in all, ``connect_delay``
    apart, and only while the failure, the delay and another connect timeout fit in
    ``connect_budget``: a refused port or a DNS failure gets one quick retry, a connect timeout
    none.
    """

    max_attempts: int = 10
    max_total_seconds: float = 60.0
    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 15.0
    jitter: float = 0.1
    connect_attempts: int = 2
    connect_delay: float = 1.0
    connect_budget: float = 10.0

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.initial_delay * self.multiplier ** max(0, attempt - 1))
        return max(0.0, delay * (1 + random.uniform(-self.jitter, self.jitter)))


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class HttpResponse:
    """A complete answer: status, headers (case-insensitive), body and our correlation id."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    correlation_id: str

    def json(self) -> Any:
        """The body as JSON; DecodeError (with the correlation id) if it is not."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise DecodeError(
                "NovelAI's answer is not JSON",
                status=self.status,
                correlation_id=self.correlation_id,
            ) from exc


def new_correlation_id() -> str:
    """Six random characters, as NovelAI's web app sends in x-correlation-id."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


class ExchangeFailedError(Exception):
    """A network failure of one exchange (``cause``), and whether any answer had arrived.

    The transport turns it into a typed NovelAIError (``Transport.stream_error`` for a stream
    body that broke while the caller was reading it); it never reaches the client's callers.
    """

    def __init__(self, cause: BaseException, *, answered: bool) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause
        self.answered = answered


class StreamResponse:
    """A 2xx streaming answer being read by a worker; iterate ``chunks()``, then it closes."""

    def __init__(self, worker: Worker, status: int, headers: Mapping[str, str], cid: str) -> None:
        self._worker = worker
        self.status = status
        self.headers = headers
        self.correlation_id = cid

    def chunks(self, cancel: CancelCheck | None) -> Iterator[bytes]:
        """Body chunks as they arrive; ExchangeFailedError on a broken body; CancelledError."""
        try:
            while True:
                kind, value = self._worker.get(cancel)
                if kind == "end":
                    return
                yield value
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading (also mid-stream): the worker closes the connection, it is not drained."""
        self._worker.abort()


class _Bearer(str):
    """The Authorization value; its repr is masked, so the token shows in no repr of a headers
    dict, and so in no traceback local (requests and urllib3 hold the dict in their frames)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'Bearer <token>'"


@dataclass(frozen=True)
class _Call:
    """One attempt; the Authorization header is added at send time (``auth``), not kept here."""

    method: str
    path: str
    headers: dict[str, str]
    stream: bool
    timeout: tuple[float, float]
    kwargs: dict[str, Any]
    auth: bool = True


class Transport:
    """Sends requests to one base URL with auth, timeouts, retries, cancel and error mapping."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None,
        timeout: tuple[float, float],
        retry: RetryPolicy,
        user_agent: str,
        token: Callable[[], str],
        errors: ErrorMapper = error_from_response,
    ) -> None:
        self.base_url = base_url
        self._errors = errors  # status → typed error; the text host maps 403 its own way
        self.session = session if session is not None else new_session(base_url)
        self.timeout = timeout
        self.retry = retry
        self.user_agent = user_agent
        self._token = token

    def _headers(self, cid: str) -> dict[str, str]:
        return {
            "User-Agent": self.user_agent,
            "x-correlation-id": cid,
            "x-initiated-at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        }

    def _open(self, call: _Call) -> requests.Response:
        headers = dict(call.headers)
        if call.auth:
            headers["Authorization"] = _Bearer("Bearer " + self._token())
        url = self.base_url + call.path
        try:
            return self.session.request(
                call.method,
                url,
                headers=headers,
                timeout=call.timeout,
                stream=True,
                allow_redirects=False,
                **call.kwargs,
            )
        except _NETWORK_ERRORS as exc:
            raise ExchangeFailedError(exc, answered=False) from exc

    def _exchange(self, w: Worker, call: _Call) -> None:
        response = self._open(call)
        w.response = response
        if call.stream and 200 <= response.status_code < 300:
            w.items.put(("open", response))
            while not w.abandoned.is_set():
                try:
                    # read1 gives what one recv gives; read(n) would wait for n bytes (previews).
                    data = response.raw.read1(STREAM_CHUNK)
                except _NETWORK_ERRORS as exc:
                    raise ExchangeFailedError(exc, answered=True) from exc
                if not data:
                    w.items.put(("end", None))
                    return
                w.items.put(("data", data))
            return  # abandoned: the worker closes the response
        try:
            body = response.raw.read(decode_content=True)
        except _NETWORK_ERRORS as exc:
            response.close()
            raise ExchangeFailedError(exc, answered=True) from exc
        w.items.put(("done", body))

    def send(
        self,
        method: str,
        path: str,
        *,
        ctx: ErrorContext,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
        auth: bool = True,
        stream: bool = False,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] | None = None,
        **kw: Any,
    ) -> HttpResponse | StreamResponse:
        """One logical request, with bounded 429/connect retries; 2xx or a typed error."""
        policy = retry or self.retry
        started = time.monotonic()
        attempt = connect_failures = 0
        while True:
            attempt += 1
            tried = time.monotonic()
            cid = new_correlation_id()
            actx = replace(ctx, correlation_id=cid, path=path)
            check_cancel(cancel)
            if auth:
                self._token()  # a missing token raises MissingTokenError here, before any I/O
            headers = self._headers(cid)
            call = _Call(method, path, headers, stream, timeout or self.timeout, kw, auth)
            try:
                result = self._attempt(call, cancel)
            except ExchangeFailedError as failure:
                # A GET is free and idempotent: resend it unless it already waited a full timeout.
                retryable = nothing_was_sent(failure.cause) or (
                    method == "GET" and failure_kind(failure.cause) != "timeout"
                )
                connect_failures += 1
                delay = (
                    _connect_delay(policy, connect_failures, tried, call.timeout[0])
                    if retryable
                    else None
                )
                if delay is None:
                    raise self._exc_error(failure, actx, call.timeout[1]) from failure.cause
                self._wait(attempt, delay, CONNECT_REASON, cancel, on_wait)
                continue
            if result.status == 429 and isinstance(result, HttpResponse):
                after = parse_retry_after(result.headers.get("retry-after"))
                delay = self._next_delay(policy, attempt, started, after)
                if delay is not None:
                    self._wait(attempt, delay, BUSY_REASON, cancel, on_wait)
                    continue
                spent = time.monotonic() - started
                note = (
                    f" Gave up after {attempt} attempts over {spent:.0f} s." if attempt > 1 else ""
                )
                raise self._errors(result.status, result.headers, result.body, actx, gave_up=note)
            if isinstance(result, HttpResponse) and not 200 <= result.status < 300:
                raise self._errors(result.status, result.headers, result.body, actx)
            return result

    def _attempt(self, call: _Call, cancel: CancelCheck | None) -> HttpResponse | StreamResponse:
        t0 = time.monotonic()
        cid = call.headers["x-correlation-id"]
        worker = Worker(lambda w: self._exchange(w, call))
        kind, value = worker.get(cancel)
        response = worker.response
        assert response is not None  # the worker answers only after it has a response
        status, headers = response.status_code, response.headers
        log.debug("%s %s [%s] -> %s in %.3f s", call.method, call.path, cid, status,
                  time.monotonic() - t0)  # fmt: skip
        if kind == "open":
            return StreamResponse(worker, status, headers, cid)
        return HttpResponse(status, headers, value, cid)

    @staticmethod
    def _next_delay(
        policy: RetryPolicy, attempt: int, started: float, retry_after: float | None
    ) -> float | None:
        if attempt >= policy.max_attempts:
            return None
        delay = retry_after if retry_after is not None else policy.backoff(attempt)
        if time.monotonic() - started + delay > policy.max_total_seconds:
            return None
        return delay

    def quick(self) -> dict[str, Any]:
        """``send`` keywords for a small JSON call: a short read timeout and 429 budget."""
        return {
            "timeout": (self.timeout[0], min(self.timeout[1], QUICK_READ_TIMEOUT)),
            "retry": replace(
                self.retry, max_total_seconds=min(self.retry.max_total_seconds, QUICK_WAIT_BUDGET)
            ),
        }

    def stream_timeout(self) -> tuple[float, float]:
        """(connect, read) for a stream: its read timeout is the longest gap between events."""
        return self.timeout[0], min(self.timeout[1], STREAM_IDLE_TIMEOUT)

    def _wait(self, attempt: int, delay: float, reason: str, cancel: CancelCheck | None,
              on_wait: WaitCallback | None) -> None:  # fmt: skip
        log.info("NovelAI: %s; retry %d in %.1f s", reason, attempt, delay)
        if on_wait is not None:
            on_wait(attempt, delay, reason)
        sleep_cancellable(delay, cancel)

    def _exc_error(
        self, failure: ExchangeFailedError, ctx: ErrorContext, read_timeout: float
    ) -> NovelAIError:
        forget_frames(failure.cause)  # the cause is chained to our error: no token in its frames
        host = self.base_url.split("://", 1)[-1]
        return error_from_exception(
            failure.cause, ctx, host=host, answered=failure.answered, read_timeout=read_timeout
        )

    def stream_error(self, failure: ExchangeFailedError, ctx: ErrorContext) -> NovelAIError:
        """Typed error for a stream body that broke (or stalled) while being read."""
        return self._exc_error(failure, ctx, self.stream_timeout()[1])

    def close(self) -> None:
        self.session.close()


def _connect_delay(
    policy: RetryPolicy, failures: int, tried: float, connect_timeout: float
) -> float | None:
    """The wait before another connect, or None: out of tries, or it would not fit the budget."""
    if failures >= policy.connect_attempts:
        return None
    spent = time.monotonic() - tried
    if spent + policy.connect_delay + connect_timeout > policy.connect_budget:
        return None
    return policy.connect_delay
