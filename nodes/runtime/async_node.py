"""Node FUNCTIONs that wait for NovelAI without holding up the rest of the graph.

ComfyUI 0.3.45 and later (execution.py, "Support for async node functions", 2025-07) await a
FUNCTION that is ``async def`` as an asyncio task and meanwhile run the other nodes that are
ready, e.g. a local checkpoint's branch. ``awaits_novelai`` gives a node's blocking method such
a coroutine twin: the unchanged method runs on a worker thread (``asyncio.to_thread``, which copies
the context, so ComfyUI's "executing node" reaches previews and progress text), and ComfyUI's
Cancel still reaches it through the interrupt flag it polls. Previews, progress, Cancel and
the spend guard are the method's own, as before.

Older ComfyUI calls FUNCTION without awaiting it (a coroutine would be taken for its result),
so there the method is left synchronous.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def comfy_awaits_coroutines() -> bool:
    """Whether the ComfyUI running us awaits coroutine FUNCTIONs (0.3.45+); True outside
    ComfyUI (tests and the bench run the coroutines themselves)."""
    try:
        execution = importlib.import_module("execution")
    except ImportError:
        return True
    # 0.3.45 made the function that calls a node's FUNCTION a coroutine; before, it was plain.
    return inspect.iscoroutinefunction(getattr(execution, "get_output_data", None))


# NovelAI runs one image generation per account at a time (a second one gets 429 "Concurrent
# generation is locked"). Awaited nodes could now overlap, so the paid image calls take turns
# here, in graph order, instead of racing into NovelAI's lock and its bounded retries.
_ONE_GENERATION = threading.Lock()
WAIT_TEXT = "waiting for another NovelAI node to finish (NovelAI runs one at a time)"


def _taking_turns(call: Callable[[], R], unique_id: object) -> R:
    """``call()`` holding the turn; while waiting for it, ComfyUI's Cancel is polled (0.1 s)."""
    from ...novelai_core.errors import CancelledError
    from . import comfy_compat

    told = False
    while not _ONE_GENERATION.acquire(timeout=0.1):
        if comfy_compat.processing_interrupted():
            comfy_compat.raise_interrupted(CancelledError("Cancelled before sending anything."))
        if not told:
            node = comfy_compat.node_id(unique_id) or comfy_compat.executing_node_id()
            comfy_compat.send_progress_text(WAIT_TEXT, node)
            told = True
    try:
        return call()
    finally:
        _ONE_GENERATION.release()


def awaits_novelai(*, one_at_a_time: bool) -> Callable[[type[T]], type[T]]:
    """Class decorator for a node that waits for NovelAI. Where ComfyUI awaits coroutine
    FUNCTIONs, FUNCTION becomes ``<name>_async``: a coroutine that runs the node's own method
    ``<name>`` (unchanged, still callable directly) on a worker thread. Elsewhere: unchanged.

    ``one_at_a_time``: the node makes paid image calls, which take turns (see above)."""

    def decorate(cls: type[T]) -> type[T]:
        if not comfy_awaits_coroutines():
            return cls
        name: str = cls.FUNCTION  # type: ignore[attr-defined]
        method = getattr(cls, name)

        @functools.wraps(method)
        async def run(self: Any, **inputs: Any) -> Any:
            call = functools.partial(getattr(self, name), **inputs)
            if one_at_a_time:
                return await asyncio.to_thread(_taking_turns, call, inputs.get("unique_id"))
            return await asyncio.to_thread(call)

        setattr(cls, f"{name}_async", run)
        cls.FUNCTION = f"{name}_async"  # type: ignore[attr-defined]
        return cls

    return decorate
