"""Cancellable HTTP exchanges: one pooled worker thread per exchange, sockets a cancel can shut.

The caller polls ``cancel`` every ``POLL_SECONDS`` while a pooled daemon thread does the I/O.
On cancel the worker's socket is shut down, which wakes a thread blocked waiting for response
headers or for the next stream chunk, so ComfyUI's Cancel takes effect within ~0.1 s.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..errors import CancelledError
from .direct_send import DirectResponse

CancelCheck = Callable[[], bool]
POLL_SECONDS = 0.1

CANCELLED_TEXT = (
    "Cancelled. NovelAI cannot stop a generation that already started: it may still finish "
    "(and be charged), and the next request may wait until it ends."
)


def shutdown_connection(conn: Any) -> None:
    """Shut a connection's socket down (both ways); harmless if it is gone already."""
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked in another thread


class _Slot(threading.local):
    """The worker running on this thread, if any: its pools report the connection they hand out."""

    worker: Worker | None = None


_SLOT = _Slot()


def _track(conn: Any) -> None:
    worker = _SLOT.worker
    if worker is not None:
        worker.conn = conn


class _TrackingHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _track(conn)
        return conn


class _TrackingHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _track(conn)
        return conn


class _TrackingAdapter(HTTPAdapter):
    """A plain adapter (no urllib3 retries: a POST is never resent) whose pools report conns."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _TrackingHTTPPool,
            "https": _TrackingHTTPSPool,
        }


def new_session(base_url: str | None = None) -> requests.Session:
    """A session with keep-alive pools, no automatic retries, and cancellable connections.

    With ``base_url``, the environment's proxy (HTTPS_PROXY, NO_PROXY, …) and CA bundle
    (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) for that host are read once, here, instead of on every
    request (requests' trust_env costs about as much as a loopback exchange); trust_env is then
    off, which also keeps a ~/.netrc entry from replacing our Bearer token with Basic auth.
    """
    session = requests.Session()
    adapter = _TrackingAdapter(max_retries=0, pool_connections=2, pool_maxsize=4)
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


class _Pool:
    """Daemon threads that run exchanges one at a time and then wait for the next.

    Starting a thread costs more than a whole loopback exchange, so idle threads are reused;
    one idle for IDLE_SECONDS exits. A thread stuck in a hung exchange is simply busy: the next
    exchange gets another thread, as before.
    """

    IDLE_SECONDS = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a task and not yet promised one
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # promised: that waiting thread will take a task
        self._tasks.put(task)
        if spawn:
            threading.Thread(target=self._serve, name="novelai-http", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                task = self._tasks.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody was promised this thread: leave
                        self._idle -= 1
                        return
                continue  # a task is on its way to a promised thread
            task()
            with self._lock:
                self._idle += 1


_POOL = _Pool()


class Worker:
    """One HTTP exchange on a pooled daemon thread, handing results to the caller via a queue."""

    def __init__(self, target: Callable[[Worker], None]) -> None:
        self.items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.abandoned = False  # set by abort(); a plain flag (the GIL orders it), no Event
        self.response: requests.Response | DirectResponse | None = None
        self.conn: Any = None  # the pooled connection in use, reported by the tracking pools
        self.running = True
        _POOL.submit(lambda: self._run(target))

    def _run(self, target: Callable[[Worker], None]) -> None:
        _SLOT.worker = self
        try:
            target(self)
        except BaseException as exc:
            self.items.put(("error", exc))
        finally:
            _SLOT.worker = None
            self.running = False
            if self.abandoned and self.response is not None:
                self.response.close()

    def abort(self) -> None:
        """Stop the exchange: shut the socket (waking a blocked read) and close the response."""
        self.abandoned = True
        response = self.response
        conn = getattr(response.raw, "_connection", None) if response is not None else self.conn
        if self.running and conn is not None:
            shutdown_connection(conn)
        if response is not None:
            response.close()

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
