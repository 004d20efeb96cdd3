"""Cancellable HTTP exchanges: each runs on a daemon thread of its own while the caller waits.

The caller polls ``cancel`` every ``POLL_SECONDS`` while the thread does the I/O, so ComfyUI's
Cancel returns within ~0.1 s. Cancelling means "stop waiting": the caller leaves at once, and
the thread closes its own response when its current read returns (at the next stream chunk, or
when the answer or a timeout arrives). No socket is touched from another thread.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ..errors import CancelledError

CancelCheck = Callable[[], bool]
POLL_SECONDS = 0.1

CANCELLED_TEXT = (
    "Cancelled. NovelAI cannot stop a generation that already started: it may still finish "
    "(and be charged), and the next request may wait until it ends."
)


def new_session(base_url: str | None = None) -> requests.Session:
    """A session with keep-alive pools and no automatic retries (a POST is never resent).

    With ``base_url``, the environment's proxy (HTTPS_PROXY, NO_PROXY, …) and CA bundle
    (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) for that host are read once, here, instead of on every
    request; trust_env is then off, which also keeps a ~/.netrc entry from replacing our Bearer
    token with Basic auth.
    """
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0, pool_connections=2, pool_maxsize=4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if base_url is not None:
        session.proxies.update(requests.utils.get_environ_proxies(base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
        session.trust_env = False
    return session


def check_cancel(cancel: CancelCheck | None, abort: Callable[[], None] | None = None) -> None:
    """Raise CancelledError if cancel() says so; if cancel() itself raises, abort and re-raise."""
    if cancel is None:
        return
    try:
        stop = cancel()
    except BaseException:
        if abort is not None:
            abort()
        raise
    if stop:
        if abort is not None:
            abort()
        raise CancelledError(CANCELLED_TEXT)


def sleep_cancellable(seconds: float, cancel: CancelCheck | None) -> None:
    """Sleep, checking cancel every POLL_SECONDS."""
    end = time.monotonic() + seconds
    while True:
        check_cancel(cancel)
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(POLL_SECONDS, left))


class Worker:
    """One HTTP exchange on a daemon thread, handing results to the caller through a queue.

    ``target`` sets ``response`` once it has one and puts ``(kind, value)`` items; it should
    stop at its next chance once ``abandoned`` is set. The response of an abandoned exchange is
    closed exactly once: by the thread when it ends, or by ``abort`` if the thread ended first.
    """

    def __init__(self, target: Callable[[Worker], None]) -> None:
        self.items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.abandoned = threading.Event()
        self.response: requests.Response | None = None
        self._lock = threading.Lock()
        self._finished = False
        threading.Thread(target=self._run, args=(target,), name="novelai-http", daemon=True).start()

    def _run(self, target: Callable[[Worker], None]) -> None:
        try:
            target(self)
        except BaseException as exc:
            self.items.put(("error", exc))
        finally:
            with self._lock:
                self._finished = True
                close = self.abandoned.is_set()
            if close:
                self._close()

    def abort(self) -> None:
        """Stop waiting for this exchange; its response gets closed, by whichever side is last."""
        with self._lock:
            self.abandoned.set()
            close = self._finished
        if close:
            self._close()

    def _close(self) -> None:
        if self.response is not None:
            self.response.close()

    def get(self, cancel: CancelCheck | None) -> tuple[str, Any]:
        """The next item, polling cancel meanwhile; re-raises errors raised in the worker."""
        while True:
            check_cancel(cancel, self.abort)  # also between items: a fast stream never idles
            try:
                kind, value = self.items.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if kind == "error":
                raise value
            return kind, value
