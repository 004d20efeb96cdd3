"""Shared pieces for the client tests: small requests, a fast retry policy, a cancel flag,
and what an error can show (to look for a leaked token in it)."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import traceback
from typing import Any

from novelai_core.async_client import AsyncNovelAIClient, AsyncTextClient
from novelai_core.client import NovelAIClient
from novelai_core.models.user import GenerationRequest, GenerationSettings, Prompt
from novelai_core.simulator import Simulator
from novelai_core.transport.http_transport import RetryPolicy

V45 = "nai-diffusion-4-5-full"
V5 = "nai-diffusion-5-full"
FAST_RETRY = RetryPolicy(max_attempts=4, max_total_seconds=5, initial_delay=0.02, max_delay=0.05)
# Short read timeout so hang faults end quickly; connect timeout for loopback.
SHORT_TIMEOUT = (2.0, 1.0)


def small_request(
    model: str = V45, *, samples: int = 1, steps: int = 6, seed: int | None = 1234, **extra: object
) -> GenerationRequest:
    settings = GenerationSettings(width=256, height=384, steps=steps, n_samples=samples, seed=seed)
    return GenerationRequest(
        model=model, prompt=Prompt(text="1girl, smile"), settings=settings, **extra
    )


def client_for(sim: Simulator, **options: object) -> NovelAIClient:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("timeout", SHORT_TIMEOUT)
    return NovelAIClient(sim.token, base_url=sim.url, **options)  # type: ignore[arg-type]


def requests_to(sim: Simulator, path: str) -> int:
    return int(sim.stats()["requests"].get(path, 0))


class CancelAfter:
    """A cancel hook that turns true ``delay`` seconds after ``start()``; records when."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.flag = threading.Event()
        self.fired_at: float | None = None

    def start(self) -> CancelAfter:
        def fire() -> None:
            self.fired_at = time.monotonic()
            self.flag.set()

        timer = threading.Timer(self.delay, fire)
        timer.daemon = True
        timer.start()
        return self

    def __call__(self) -> bool:
        return self.flag.is_set()


def everything_shown(error: BaseException) -> str:
    """All an error can show, as one text: its traceback printed with every frame's locals (as
    pytest --showlocals and error trackers print it), and the str, repr, args and attributes of
    the error and of each exception chained to it (cause and context)."""
    printed = traceback.TracebackException.from_exception(error, capture_locals=True)
    parts = ["".join(printed.format())]
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        parts += [str(item), repr(item), *map(repr, item.args), repr(getattr(item, "__dict__", {}))]
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)
    return "\n".join(parts)


class AsyncDriven:
    """AsyncNovelAIClient driven from plain test code: each method call is one ``asyncio.run``,
    so a table of sync calls (``lambda c: c.generate(...)``) runs unchanged on the async client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.client, name)
        if isinstance(value, AsyncTextClient):  # client.text: its methods are awaited too
            return AsyncDriven(value)
        if not inspect.iscoroutinefunction(value):
            return value
        return lambda *args, **kw: asyncio.run(value(*args, **kw))

    def close(self) -> None:
        asyncio.run(self.client.aclose())

    def __repr__(self) -> str:
        return repr(self.client)


FLAVOURS = ("sync", "async")


def make_client(flavour: str, *args: Any, **options: Any) -> Any:
    """A NovelAIClient, or an AsyncNovelAIClient behind AsyncDriven, built the same way."""
    if flavour == "async":
        return AsyncDriven(AsyncNovelAIClient(*args, **options))
    return NovelAIClient(*args, **options)
