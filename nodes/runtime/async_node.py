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
from typing import Any, TypeVar

T = TypeVar("T")


def comfy_awaits_coroutines() -> bool:
    """Whether the ComfyUI running us awaits coroutine FUNCTIONs (0.3.45+); True outside
    ComfyUI (tests and the bench run the coroutines themselves)."""
    try:
        execution = importlib.import_module("execution")
    except ImportError:
        return True
    # 0.3.45 made the function that calls a node's FUNCTION a coroutine; before, it was plain.
    return inspect.iscoroutinefunction(getattr(execution, "get_output_data", None))


def awaits_novelai(cls: type[T]) -> type[T]:
    """Class decorator for a node that waits for NovelAI. Where ComfyUI awaits coroutine
    FUNCTIONs, FUNCTION becomes ``<name>_async``: a coroutine that runs the node's own method
    ``<name>`` (unchanged, still callable directly) on a worker thread. Elsewhere: unchanged."""
    if not comfy_awaits_coroutines():
        return cls
    name: str = cls.FUNCTION  # type: ignore[attr-defined]
    method = getattr(cls, name)

    @functools.wraps(method)
    async def run(self: Any, **inputs: Any) -> Any:
        return await asyncio.to_thread(getattr(self, name), **inputs)

    setattr(cls, f"{name}_async", run)
    cls.FUNCTION = f"{name}_async"  # type: ignore[attr-defined]
    return cls
