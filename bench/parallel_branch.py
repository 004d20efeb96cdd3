"""A NovelAI generation beside an independent local branch: do they overlap?

The graph ComfyUI 0.3.45+ runs: the Generate node's FUNCTION is a coroutine, so ComfyUI starts
it as a task, gives it one turn, and runs the next ready node meanwhile (execution.py). Here
the simulator answers after ``latency_s`` (NovelAI's own time, as a user sees it) and the other
branch is CPU-bound torch work of ``cpu_s`` on the event loop's thread, as a local model's node
runs there. Measured: the whole graph's wall time, and each branch's own time in the same run;
with a blocking Generate the two would add up (``sequential_ms``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from dataclasses import dataclass

from .harness import Bench


@dataclass(frozen=True)
class Overlap:
    wall_ms: float
    generate_ms: float
    cpu_ms: float

    @property
    def sequential_ms(self) -> float:
        return self.generate_ms + self.cpu_ms


def _cpu_branch(seconds: float) -> None:
    """Matrix products until ``seconds`` have passed (torch releases the GIL, as models do)."""
    import torch

    a = torch.rand(384, 384)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        a = torch.tanh(a @ a)


async def _graph(bench: Bench, cpu_s: float, width: int, height: int) -> Overlap:
    node_class = bench.pack.NODE_CLASS_MAPPINGS["NovelAI_Generate"]
    inputs = bench.generate_inputs(1, width, height, {"seed": 12})  # not cached: rendered
    function = getattr(node_class(), node_class.FUNCTION)
    if not inspect.iscoroutinefunction(function):
        raise RuntimeError("the Generate node's FUNCTION is not a coroutine here")
    started = time.perf_counter()
    generated_at: list[float] = []
    task = asyncio.ensure_future(function(**inputs))
    task.add_done_callback(lambda _: generated_at.append(time.perf_counter()))
    await asyncio.sleep(0)  # ComfyUI gives the task one turn before the next node
    cpu_started = time.perf_counter()
    _cpu_branch(cpu_s)
    cpu_ms = (time.perf_counter() - cpu_started) * 1000
    await task
    wall_ms = (time.perf_counter() - started) * 1000
    return Overlap(wall_ms, (generated_at[0] - started) * 1000, cpu_ms)


def measure(bench: Bench, *, latency_s: float, cpu_s: float, width: int, height: int) -> Overlap:
    """One warm-up generation, then the graph once with the simulator's latency set."""
    bench.generate(width=width, height=height, seed=11)  # warm: connection, imports, render
    bench.sim.set_latency(round(latency_s * 1000))
    try:
        return asyncio.run(_graph(bench, cpu_s, width, height))
    finally:
        bench.sim.set_latency(0)
