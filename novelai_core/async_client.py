"""AsyncNovelAIClient: the same API as NovelAIClient for asyncio code, on the same transport.

Every call runs the synchronous machinery (retries, spend checks, error mapping, redaction)
on a thread, off the event loop; there is no second HTTP stack. Cancelling the awaiting task
sets a flag that the exchange polls through its ``cancel`` hook (every 0.1 s), so the
connection is shut as ComfyUI's Cancel shuts it, and the task ends with asyncio's
CancelledError once the exchange has stopped. As with the sync client, cancelling only stops
waiting: NovelAI cannot stop a generation that started.

Callbacks (``on_preview``, ``on_wait``) run on that thread; use ``stream_generate`` to get
previews on the event loop instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

from .client import NovelAIClient
from .text.chat_client import TextClient

if TYPE_CHECKING:
    from .transport.http_transport import CancelCheck

__all__ = ["AsyncNovelAIClient", "AsyncTextClient", "run_off_loop"]

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")
_END = object()


def _either(flag: threading.Event, cancel: CancelCheck | None) -> CancelCheck:
    if cancel is None:
        return flag.is_set
    return lambda: flag.is_set() or cancel()


async def run_off_loop(
    fn: Callable[..., T], /, *args: Any, cancel: CancelCheck | None = None, **kw: Any
) -> T:
    """``fn(*args, cancel=…, **kw)`` on a thread; cancelling the awaiting task cancels it.

    The hook given to ``fn`` is true once the task is cancelled (or ``cancel()`` is); on
    cancellation this waits for ``fn`` to stop (it polls the hook every 0.1 s) before raising,
    so no exchange is left running behind the caller's back.
    """
    flag = threading.Event()
    call = functools.partial(fn, *args, cancel=_either(flag, cancel), **kw)
    return await _await_thread(flag, call)


async def _await_thread(flag: threading.Event, call: Callable[[], T]) -> T:
    context = contextvars.copy_context()
    future = asyncio.get_running_loop().run_in_executor(None, context.run, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        flag.set()
        # It raises our CancelledError within a poll interval; that is the expected end.
        with contextlib.suppress(Exception):
            await future
        raise


class _OffLoop(Generic[S]):
    """An async face of a sync client ``sync``: its methods become ``_awaitable`` twins."""

    def __init__(self, sync: S) -> None:
        self.sync = sync


def _awaitable(
    method: Callable[Concatenate[S, P], T],
) -> Callable[Concatenate[_OffLoop[S], P], Coroutine[Any, Any, T]]:
    """The async twin of a NovelAIClient method: same parameters, run with ``run_off_loop``."""
    takes_cancel = "cancel" in inspect.signature(method).parameters

    @functools.wraps(method)
    async def call(self: _OffLoop[S], /, *args: P.args, **kw: P.kwargs) -> T:
        bound = functools.partial(method, self.sync)
        if takes_cancel:
            return await run_off_loop(bound, *args, **kw)  # type: ignore[arg-type]  # cancel=
        return await _await_thread(threading.Event(), functools.partial(bound, *args, **kw))

    return call


def _async_iterable(
    method: Callable[Concatenate[S, P], Iterator[T]],
) -> Callable[Concatenate[_OffLoop[S], P], AsyncIterator[T]]:
    """The async twin of a NovelAIClient generator method (``async for``; leaving the loop
    or cancelling the task closes the connection)."""

    @functools.wraps(method)
    def call(self: _OffLoop[S], /, *args: P.args, **kw: P.kwargs) -> AsyncIterator[T]:
        cancel: CancelCheck | None = kw.pop("cancel", None)  # type: ignore[assignment]

        def start(check: CancelCheck) -> Iterator[T]:
            return method(self.sync, *args, cancel=check, **kw)  # type: ignore[arg-type]

        return iterate_off_loop(start, cancel)

    return call


class AsyncTextClient(_OffLoop[TextClient]):
    """TextClient for asyncio (``client.text`` on AsyncNovelAIClient): the same methods,
    awaited; ``stream_chat`` is an async iterator of pieces."""

    chat = _awaitable(TextClient.chat)
    complete = _awaitable(TextClient.complete)
    models = _awaitable(TextClient.models)
    count_tokens = _awaitable(TextClient.count_tokens)
    stream_chat = _async_iterable(TextClient.stream_chat)


class AsyncNovelAIClient(_OffLoop[NovelAIClient]):
    """NovelAIClient for asyncio: the same arguments, methods, errors and retries, awaited.

    ``async with AsyncNovelAIClient() as client: result = await client.generate(request)``.
    ``client.sync`` is the NovelAIClient underneath (shared connections, tier, vibe store).
    """

    def __init__(self, token: str | None = None, **options: Any) -> None:
        super().__init__(NovelAIClient(token, **options))
        self._text: AsyncTextClient | None = None

    # --- identity and lifetime --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.sync.base_url

    @property
    def token_source(self) -> str:
        return self.sync.token_source

    @property
    def masked_token(self) -> str:
        return self.sync.masked_token

    @property
    def has_token(self) -> bool:
        return self.sync.has_token

    def __repr__(self) -> str:
        return "Async" + repr(self.sync)

    @property
    def text(self) -> AsyncTextClient:
        """Text generation on NovelAI's text host (no Anlas), awaited."""
        if self._text is None:
            self._text = AsyncTextClient(self.sync.text)
        return self._text

    async def aclose(self) -> None:
        """Close the connections (a session passed in by the caller is left open)."""
        self.sync.close()

    async def __aenter__(self) -> AsyncNovelAIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- the API: NovelAIClient's methods, awaited (signatures and docs are theirs) ---------

    subscription = _awaitable(NovelAIClient.subscription)
    encode_vibe = _awaitable(NovelAIClient.encode_vibe)
    augment = _awaitable(NovelAIClient.augment)
    upscale = _awaitable(NovelAIClient.upscale)
    suggest_tags = _awaitable(NovelAIClient.suggest_tags)
    estimate = _awaitable(NovelAIClient.estimate)  # it may look the tier up once
    generate = _awaitable(NovelAIClient.generate)

    stream_generate = _async_iterable(NovelAIClient.stream_generate)


async def iterate_off_loop(
    start: Callable[[CancelCheck], Iterator[T]], cancel: CancelCheck | None
) -> AsyncIterator[T]:
    """A sync iterator made with the given cancel hook, stepped on a thread, as an async one."""
    flag = threading.Event()
    iterator = start(_either(flag, cancel))
    try:
        while True:
            item = await _await_thread(flag, functools.partial(next, iterator, _END))
            if item is _END:
                return
            yield item
    finally:
        # Nothing is running the iterator now (a cancelled step waited for it to stop), so it
        # can be closed here; that shuts its connection without waiting for the server.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
