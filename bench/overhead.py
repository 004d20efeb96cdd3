"""Measure 1: the Generate node's cost per image as a ratio to the floor, on the same bytes.

Method. The simulator serves a repeated request (same body, same seed) from a cache of the ZIP
it rendered the first time, so its drawing and PNG encoding never run during a timed call; the
little time it still spends per request before answering (parsing headers, auth, routing,
ledger, stats) is summed by a server clock and subtracted from the node's wall time. What is
left is the client side: the node's checks and estimate, the account lookup (when due), the HTTP
exchange over loopback, the ZIP, PNG decoding, tensors and metadata. The floor decodes the very
ZIP the node just received (variants in ``floor``; the fastest counts). Node and floor runs
alternate, so machine load hits both alike, and each side keeps its best (minimum) time: the
least noisy estimate of its cost, after three untimed rounds of each. The floor is sequential,
one image after another; the node decodes a batch on parallel threads and casts a lone image's
finished rows on a second thread while the rest of it decodes, which is why either can come out
below 1.
ratio = node / floor; per image both are divided by the batch size, so the ratio is the same.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

from . import floor
from .harness import Bench

SHAPES: tuple[tuple[int, int, int], ...] = ((1, 832, 1216), (4, 1024, 1536))
QUICK_SHAPES: tuple[tuple[int, int, int], ...] = ((1, 256, 384), (2, 256, 384))
WARMUP = 3


@dataclass(frozen=True)
class Overhead:
    batch: int
    width: int
    height: int
    node_s: float
    floor_s: float

    @property
    def name(self) -> str:
        return f"overhead_ratio_{self.batch}x{self.width}x{self.height}"

    @property
    def ratio(self) -> float:
        return self.node_s / self.floor_s


def _node_seconds(bench: Bench, batch: int, width: int, height: int) -> float:
    gc.collect()
    bench.clock.reset()
    started = time.perf_counter()
    bench.generate(batch=batch, width=width, height=height)
    return time.perf_counter() - started - bench.clock.reset()


def _floor_seconds(body: bytes) -> float:
    best = float("inf")
    for variant in floor.VARIANTS:
        gc.collect()
        started = time.perf_counter()
        variant(body)
        best = min(best, time.perf_counter() - started)
    return best


def measure(bench: Bench, shape: tuple[int, int, int], repeats: int) -> Overhead:
    batch, width, height = shape
    bench.generate(batch=batch, width=width, height=height)  # renders once; cached from now on
    body = bench.last_zip
    for _ in range(WARMUP):  # steady state: caches filled, malloc's thresholds adapted
        _node_seconds(bench, batch, width, height)
        _floor_seconds(body)
    node_s = floor_s = float("inf")
    for _ in range(repeats):
        node_s = min(node_s, _node_seconds(bench, batch, width, height))
        if bench.last_zip is not body:
            raise RuntimeError("the benchmark request was not answered from the cache")
        floor_s = min(floor_s, _floor_seconds(body))
    return Overhead(batch, width, height, node_s, floor_s)
