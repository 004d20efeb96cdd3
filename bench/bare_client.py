"""Reference, not a target: the overhead ratio of a bare client that skips everything it can.

python -m bench.bare_client [repeats]

The bare client sends the node's exact request body over one kept-alive ``http.client``
connection on the calling thread and turns the ZIP into IMAGE + MASK tensors the floor's fastest
way (the MASK zeros, as the node gives for an opaque generation). It has no validation,
estimate, spend guard, token lookup, retries, cancel, error mapping, requests session, progress
or metadata. It is measured as ``overhead`` measures the node (server time subtracted, each run
followed by the floor, minimum of each after warm-up rounds), in the same run as the node, the
two taking turns to go first.
Its ratio is about the least a *sequential* client can score against the in-process simulator
on this machine. The node's own features and transport cost what it spends beyond the bare
client before the answer arrives; after it, the node overlaps a lone image's cast with its
decode (``nodes/png_overlap.py``), which the bare client does not, so the node can score lower.
"""

from __future__ import annotations

import gc
import http.client
import io
import json
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from PIL import Image

from . import floor, overhead
from .harness import TOKEN, Bench, bench_setup


@contextmanager
def _captured_request(bench: Bench) -> Iterator[dict[str, Any]]:
    """Record the path and JSON body of the pack's next requests (the last one wins)."""
    transport = bench.pack_module("novelai_core.transport.http_transport").Transport
    original = transport._open
    seen: dict[str, Any] = {}

    def _open(self: Any, call: Any) -> Any:
        if "json" in call.kwargs:
            seen.update(path=call.path, body=json.dumps(call.kwargs["json"]).encode())
        return original(self, call)

    transport._open = _open
    try:
        yield seen
    finally:
        transport._open = original


def _tensors(body: bytes) -> tuple[torch.Tensor, torch.Tensor]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        image = Image.open(io.BytesIO(archive.read(archive.namelist()[0])))
    image.load()
    width, height = image.size
    out = np.empty((1, height, width, 3), dtype=np.float32)
    packed = np.frombuffer(image.tobytes("raw", "RGB"), dtype=np.uint8)
    np.copyto(out[0], packed.reshape(height, width, 3))
    np.multiply(out, np.float32(1.0 / 255.0), out=out)
    # An opaque generation: the node's MASK is zeros (the alpha only holds the metadata).
    mask = np.zeros((1, height, width), dtype=np.float32)
    return torch.from_numpy(out), torch.from_numpy(mask)


def _bare(bench: Bench, path: str, body: bytes) -> Callable[[], object]:
    host, port = bench.sim.host, bench.sim.port
    connection = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}

    def run() -> object:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"the bare client got HTTP {answer.status}")
        return _tensors(data)

    return run


def _seconds(bench: Bench, work: Callable[[], object]) -> float:
    gc.collect()
    bench.clock.reset()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started - bench.clock.reset()


def measure(
    repeats: int, shape: tuple[int, int, int] = (1, 832, 1216), warmup: int = overhead.WARMUP
) -> dict[str, float]:
    """Best node, bare-client and floor seconds over ``repeats`` rounds after ``warmup``."""
    batch, width, height = shape
    if batch != 1:
        raise ValueError("the bare client reads one image")
    with bench_setup() as bench:
        with _captured_request(bench) as seen:
            bench.generate(batch=batch, width=width, height=height)
        bare = _bare(bench, seen["path"], seen["body"])
        zip_body = bench.last_zip

        def node() -> object:
            return bench.generate(batch=batch, width=width, height=height)

        best = {"node": float("inf"), "bare": float("inf"), "floor": float("inf")}
        clients = {"node": node, "bare": bare}
        for round_index in range(warmup + repeats):
            # Each client run is followed by a floor run, as in ``overhead``; they take turns first.
            order = ("node", "bare") if round_index % 2 else ("bare", "node")
            times: dict[str, float] = {}
            for name in order:
                times[name] = _seconds(bench, clients[name])
                times["floor"] = min(
                    times.get("floor", float("inf")), overhead._floor_seconds(zip_body)
                )
            if bench.last_zip is not zip_body:
                raise RuntimeError("the benchmark request was not answered from the cache")
            if round_index >= warmup:
                best = {name: min(best[name], times[name]) for name in best}
    return best


def main(argv: list[str]) -> int:
    repeats = int(argv[0]) if argv else 30
    warnings.simplefilter("ignore")  # torch's non-writable-array notice is not a result
    best = measure(repeats)
    for name in ("node", "bare"):
        print(f"{name}_ratio_1x832x1216 {best[name] / best['floor']:.3f}")
    print(f"floor_ms {best['floor'] * 1000:.3f} variants {len(floor.VARIANTS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
