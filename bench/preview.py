"""First-preview latency: from the simulator emitting a run's first intermediate stream event
to the Generate node having shown it.

The simulator's event generator is wrapped to stamp each intermediate event (sample, step) the
moment it hands it over to be framed and written; the Generate node's preview handler
(``GenerationProgress.on_preview``: JPEG decode and ComfyUI's progress-bar preview) is wrapped
to stamp the same (sample, step) when it returns. Both clocks are ``perf_counter`` in this one
process. The value is the median over the streamed runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from novelai_core.simulator import endpoints

from .harness import Bench

Stamps = dict[tuple[int, int], float]


@contextmanager
def _stamped(bench: Bench) -> Iterator[tuple[Stamps, Stamps]]:
    emitted: Stamps = {}
    shown: Stamps = {}
    original_events = endpoints._stream_events
    progress_class = bench.pack_module("nodes.runtime.progress").GenerationProgress
    original_preview = progress_class.on_preview

    def events(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for event in original_events(*args, **kwargs):
            if event.get("event_type") == "intermediate":
                emitted[(event["samp_ix"], event["step_ix"])] = time.perf_counter()
            yield event

    def on_preview(self: Any, preview: Any) -> None:
        original_preview(self, preview)
        shown[(int(preview.sample), int(preview.step))] = time.perf_counter()

    endpoints._stream_events = events  # type: ignore[assignment]
    progress_class.on_preview = on_preview
    try:
        yield emitted, shown
    finally:
        endpoints._stream_events = original_events  # type: ignore[assignment]
        progress_class.on_preview = original_preview


def measure(bench: Bench, runs: int, *, width: int = 832, height: int = 1216) -> float:
    """Median emit→shown latency of each run's first preview, in milliseconds."""
    latencies = []
    with _stamped(bench) as (emitted, shown):
        for run in range(runs):
            emitted.clear()
            shown.clear()
            bench.generate(width=width, height=height, stream=True, seed=1000 + run)
            if not emitted or set(emitted) != set(shown):
                raise RuntimeError("not every intermediate event reached the preview")
            first = min(emitted, key=emitted.__getitem__)
            latencies.append(shown[first] - emitted[first])
    return statistics.median(latencies) * 1000
