"""The one place that turns HTTP failures (statuses and transport exceptions) into typed errors.

Texts are written for a ComfyUI user: what happened, whether Anlas may have been spent, what to
do. Bodies are summarised (HTML pages reduced to their title) and redacted; never the token.
"""

from __future__ import annotations

import errno
import http.client
import json
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Final, Protocol

import requests
import urllib3.exceptions as u3

from ..auth import TOKEN_HELP, mask_token, redact
from ..errors import (
    AuthenticationError,
    InsufficientAnlasError,
    InvalidRequestError,
    NovelAIConnectionError,
    NovelAIError,
    NovelAITimeoutError,
    RateLimitError,
    ServerError,
)

_MAX_SUMMARY = 200
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
NOT_RESENT = "It may have been processed (and charged), so it was not resent."


@dataclass(frozen=True)
class ErrorContext:
    """What the error mapper needs to know about the request that failed."""

    correlation_id: str | None = None
    path: str = ""
    paid: bool = False
    token: str | None = field(default=None, repr=False)  # only to redact and mask it
    token_source: str = ""
    needed_anlas: int | None = None
    # Called only for 402, to say what the balance is; returns None when it cannot tell.
    balance_lookup: Callable[[], int | None] | None = None


class ErrorMapper(Protocol):
    """The signature of ``error_from_response`` (a transport may be given another mapper)."""

    def __call__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        ctx: ErrorContext,
        *,
        gave_up: str = "",
    ) -> NovelAIError: ...


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _is_html(headers: Mapping[str, str], body: bytes) -> bool:
    if "html" in headers.get("content-type", "").lower():
        return True
    head = body[:200].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html"))


def _is_cloudflare(headers: Mapping[str, str], body: bytes) -> bool:
    server = headers.get("server", "").lower()
    return "cloudflare" in server or "cf-ray" in headers or b"cloudflare" in body[:20000].lower()


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_SUMMARY else line[: _MAX_SUMMARY - 1] + "…"


def summarize_body(headers: Mapping[str, str], body: bytes) -> tuple[str | None, bool]:
    """(NovelAI's message or a short summary of the body, whether it was an HTML page)."""
    if not body:
        return None, False
    if _is_html(headers, body):
        match = _TITLE.search(body[:20000])
        title = _one_line(match.group(1).decode("utf-8", "replace")) if match else ""
        origin = "Cloudflare" if _is_cloudflare(headers, body) else "a proxy"
        return (f"an HTML page from {origin}" + (f" ({title!r})" if title else "")), True
    text = body[:4000].decode("utf-8", "replace")
    try:
        # Only the first JSON value: some NovelAI errors carry stray bytes after it (a ZIP, or
        # "500 Internal Server Error" text, after a 400 "doesn't support action infill").
        data, _ = json.JSONDecoder().raw_decode(body.decode("utf-8", "replace").lstrip())
    except (ValueError, UnicodeDecodeError):
        return _one_line(text) or None, False
    message = _message_of(data)
    return _one_line(message or text) or None, False


def _message_of(data: Any) -> str | None:
    """The message of NovelAI's ``{"statusCode", "message"}`` or an OpenAI-style
    ``{"error": {"message", "code"}}`` body (the text host's /oa/v1 may send either)."""
    if not isinstance(data, dict):
        return None
    for key in ("message", "error", "detail"):
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("message")
        if isinstance(value, str) and value.strip():
            return value
    return None


def _status_text(status: int, message: str | None) -> str:
    return f"HTTP {status}: {message}" if message else f"HTTP {status}"


def _anlas_error(status: int, message: str | None, ctx: ErrorContext) -> InsufficientAnlasError:
    balance = None
    if ctx.balance_lookup is not None:
        try:
            balance = ctx.balance_lookup()
        except Exception:  # the balance is a courtesy; the 402 is the error to report
            balance = None
    facts = []
    if ctx.needed_anlas is not None:
        facts.append(f"this needs about {ctx.needed_anlas}")
    if balance is not None:
        facts.append(f"balance {balance}")
    text = "NovelAI: not enough Anlas" + (f" ({', '.join(facts)})" if facts else "")
    if message and "anlas" not in message.lower():
        text += f" — {_status_text(status, message)}"
    return InsufficientAnlasError(
        text,
        needed=ctx.needed_anlas,
        balance=balance,
        status=status,
        server_message=message,
        correlation_id=ctx.correlation_id,
    )


_SIMPLE: dict[int, tuple[type[NovelAIError], str]] = {
    404: (InvalidRequestError, "NovelAI has no endpoint {path} ({where}); check the base URL."),
    409: (
        InvalidRequestError,
        "NovelAI reported a conflict ({where}); a previous request may still be running.",
    ),
    413: (
        InvalidRequestError,
        "NovelAI: the request is too large ({where}); use smaller source images "
        "or fewer vibes/references.",
    ),
    500: (
        ServerError,
        "NovelAI failed ({where}). Invalid setting combinations also cause this.{after}",
    ),
}


_BUSY = "NovelAI is busy: another generation is running on this account ({where})."
_BY_RULE: tuple[tuple[Callable[[int, bool], bool], type[NovelAIError], str], ...] = (
    (
        lambda st, html: st == 401 or (st == 403 and not html),
        AuthenticationError,
        "NovelAI rejected the API token {who} ({where}). " + TOKEN_HELP,
    ),
    (lambda st, html: st == 403, NovelAIError, "NovelAI's firewall blocked the request ({where})."),
    (
        lambda st, html: st == 429 and html,
        RateLimitError,
        "NovelAI's rate limit refused the request ({where}); wait and retry.",
    ),
    (lambda st, html: st == 429, RateLimitError, _BUSY),
    (
        lambda st, html: 400 <= st < 500,
        InvalidRequestError,
        "NovelAI refused the request ({where}).",
    ),
    (
        lambda st, html: st >= 500,
        ServerError,
        "NovelAI is temporarily unavailable ({where}).{after}",
    ),
)


def _status_class(status: int, html: bool) -> tuple[type[NovelAIError], str]:
    if status in _SIMPLE:
        return _SIMPLE[status]
    for rule, cls, template in _BY_RULE:
        if rule(status, html):
            return cls, template
    return NovelAIError, "NovelAI answered unexpectedly ({where})."


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    ctx: ErrorContext,
    *,
    gave_up: str = "",
) -> NovelAIError:
    """THE mapping from a non-2xx response to a typed error (headers: case-insensitive mapping).

    ``gave_up`` is appended for 429s that were retried until the retry budget ran out.
    """
    summary, html = summarize_body(headers, body)
    message = redact(summary, ctx.token) if summary else None
    if status == 402:
        return _anlas_error(status, message, ctx)
    cls, template = _status_class(status, html)
    text = template.format(
        where=_status_text(status, message),
        path=ctx.path,
        after=f" {NOT_RESENT}" if ctx.paid else "",
        who=f"{mask_token(ctx.token)} from {ctx.token_source}" if ctx.token else "(no token)",
    )
    if cls is RateLimitError:
        return RateLimitError(
            text + gave_up,
            retry_after=parse_retry_after(headers.get("retry-after")),
            status=status,
            server_message=message,
            correlation_id=ctx.correlation_id,
        )
    return cls(text, status=status, server_message=message, correlation_id=ctx.correlation_id)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (requests/urllib3 nest reasons in args and .reason), causes."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        nested = [a for a in item.args if isinstance(a, BaseException)]
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            nested.append(reason)
        for link in (item.__cause__, item.__context__):
            if link is not None:
                nested.append(link)
        todo.extend(nested)


def forget_frames(exc: BaseException) -> None:
    """Drop the tracebacks of a network exception and everything it wraps (types and messages
    stay). http.client's frames hold the raw request, Authorization header included, as bytes
    in local variables, which a traceback printer with locals would show."""
    for item in _chain(exc):
        item.__traceback__ = None


def nothing_was_sent(exc: BaseException) -> bool:
    """True only when the TCP connection was never established, so NovelAI saw nothing.

    urllib3's NewConnectionError (refused, unreachable, DNS) subclasses ConnectTimeoutError.
    A reset or close on a reused keep-alive connection (RemoteDisconnected, ECONNRESET) is NOT
    included: urllib3 swallows errors while writing the request and reports them only when
    reading the answer, so such a drop cannot be told apart from the server dropping the
    connection after it received (and maybe processed) the request.
    """
    return any(isinstance(e, u3.ConnectTimeoutError) for e in _chain(exc))


_UNREACHABLE: Final = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN})


def failure_kind(exc: BaseException) -> str:
    """url, connect, timeout, tls, incomplete or dropped: what went wrong on the wire."""
    chain = list(_chain(exc))
    checks: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
        (
            "url",
            (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
                u3.LocationValueError,
            ),
        ),
        ("connect", (u3.ConnectTimeoutError, requests.ConnectTimeout)),
        ("timeout", (u3.ReadTimeoutError, requests.ReadTimeout, socket.timeout)),
        ("tls", (u3.SSLError, requests.exceptions.SSLError)),
        ("incomplete", (http.client.IncompleteRead, u3.IncompleteRead)),
    )
    for kind, types in checks:
        if any(isinstance(item, types) for item in chain):
            return kind
    return "dropped"


def error_from_exception(
    exc: BaseException,
    ctx: ErrorContext,
    *,
    host: str,
    answered: bool,
    read_timeout: float | None,
) -> NovelAIError:
    """Map a requests/urllib3/socket exception to a sentence for people.

    ``answered``: the failure came while the answer was arriving. The library's exception stays
    chained as the cause (for programs); the text names no Python class.
    """
    kind = failure_kind(exc)
    after = f" {NOT_RESENT}" if ctx.paid else ""
    cid = ctx.correlation_id
    if kind == "url":
        return NovelAIError(f"NovelAI: the base URL for {host} is not valid.")
    if kind == "connect":
        return NovelAIConnectionError(
            f"NovelAI: could not connect to {host}: {_connect_reason(exc)}; nothing was sent.",
            correlation_id=cid,
        )
    if kind == "timeout":
        seconds = f"{read_timeout:g} s" if read_timeout else "too long"
        text = (
            f"NovelAI stopped sending for {seconds} while the answer was arriving."
            if answered
            else f"NovelAI did not answer within {seconds}."
        )
        return NovelAITimeoutError(f"{text}{after}", correlation_id=cid)
    if kind == "tls":
        return NovelAIConnectionError(
            f"NovelAI: the secure (TLS) connection to {host} failed.", correlation_id=cid
        )
    what = "the answer was cut short" if kind == "incomplete" else "the connection dropped"
    when = "while the answer was arriving" if answered else "before an answer came"
    return NovelAIConnectionError(f"NovelAI: {what} {when}.{after}", correlation_id=cid)


def _connect_reason(exc: BaseException) -> str:
    """Why a connect failed, in words: name lookup, refused, unreachable, or no answer."""
    chain = list(_chain(exc))
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "its name could not be looked up (DNS)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "the connection was refused"
    if any(isinstance(e, OSError) and e.errno in _UNREACHABLE for e in chain):
        return "the network or host is unreachable"
    return "it did not answer in time"
