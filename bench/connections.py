"""TCP connections the pack opens for 10 sequential generations (keep-alive).

The pack's shared client is dropped first, so the count includes opening the first connection.
Runs alternate streamed (the node's default) and plain requests, each with a new seed (a new
request, as a user's queue would send); the simulator counts every accepted TCP connection.
"""

from __future__ import annotations

from .harness import Bench


def measure(bench: Bench, generations: int, *, width: int = 256, height: int = 384) -> int:
    bench.reset_client()
    before = int(bench.sim.stats()["connections"])
    for run in range(generations):
        bench.generate(width=width, height=height, stream=run % 2 == 0, seed=500 + run)
    return int(bench.sim.stats()["connections"]) - before
