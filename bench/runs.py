"""Per-run wall time of the Generate node in realistic graphs, beside the simulator's own time.

Each graph's upstream nodes (Vibe, Character Reference, Img2Img) run once, as ComfyUI caches
them; then the Generate node runs: once to render (and, with a vibe, to encode and store it),
once more to warm up, then ``repeats`` timed runs of the very same request. The simulator
answers a repeated request from memory (``server_time``), so the timed runs cost what the pack
costs plus the little the simulator spends per request (``server_ms``, from its own clock).
Values are medians: what a user waits for, typically.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .harness import Bench, picture


@dataclass(frozen=True)
class RunTime:
    name: str
    wall_ms: float
    server_ms: float


def _graphs(bench: Bench, width: int, height: int) -> dict[str, Callable[[], dict[str, Any]]]:
    """Generate's extra inputs per graph, built by the upstream nodes on demand."""
    image = picture(width, height)
    return {
        "txt2img": lambda: {},
        "vibe_stored": lambda: {
            "vibes": bench.node(
                "NovelAI_Vibe", image=image, information_extracted=1.0, strength=0.6
            )
        },
        "character_reference": lambda: {
            "character_references": bench.node(
                "NovelAI_CharacterReference",
                image=image,
                mode="character&style",
                strength=1.0,
                fidelity=1.0,
            )
        },
        "img2img": lambda: {
            "source": bench.node(
                "NovelAI_Img2Img", image=image, strength=0.7, noise=0.0, color_correct=False
            )
        },
    }


def _timed(bench: Bench, run: Callable[[], object]) -> tuple[float, float]:
    gc.collect()
    bench.clock.reset()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started, bench.clock.reset()


def measure(bench: Bench, repeats: int, *, width: int, height: int, batch: int) -> list[RunTime]:
    """One RunTime per graph: 1 image of each graph, then txt2img with ``batch`` images."""
    plans = [(name, 1, inputs) for name, inputs in _graphs(bench, width, height).items()]
    plans.append(("txt2img", batch, lambda: {}))
    results = []
    for name, samples, inputs_for in plans:
        inputs = inputs_for()

        def run(samples: int = samples, inputs: dict[str, Any] = inputs) -> object:
            return bench.generate(batch=samples, width=width, height=height, **inputs)

        run()  # renders (and encodes a vibe); from now on the answer comes from memory
        run()
        times = [_timed(bench, run) for _ in range(repeats)]
        if bench.instruments.generate.misses > 1 + len(results):
            raise RuntimeError(f"{name}: a timed run was not answered from memory")
        results.append(
            RunTime(
                f"run_{name}_{samples}x{width}x{height}_ms",
                statistics.median(wall for wall, _ in times) * 1000,
                statistics.median(server for _, server in times) * 1000,
            )
        )
    return results
