"""A simulator for benchmarks: cached generate responses and the server's own time measured.

The simulator renders and PNG-encodes every image (with stealth metadata), which takes far
longer than anything the client does; a benchmark of the client must not count it. Two things
keep it out:

* ``cached_generate``: the first POST /ai/generate-image with a given body is rendered as usual;
  a repeat of the same body (same seed) is answered with the same ZIP bytes from memory, after
  the same auth, lock and ledger charge.
* ``ServerClock``: the time each request spends in the simulator from its request line's arrival
  until it starts writing the answer (parsing headers, reading the body, routing, ledger, stats)
  is summed, so a caller can subtract it from a wall-clock measurement of the client. Writing
  the answer and the client's reading of it stay on the client's side of the ledger.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from novelai_core.contract.constants import PATH_GENERATE
from novelai_core.simulator import server as sim_server
from novelai_core.simulator.context import RequestContext, Response


class ServerClock:
    """Seconds the simulator's handlers spent before writing answers, summed over requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.total = 0.0

    def begin(self) -> None:
        self._local.started = time.perf_counter()

    def end(self) -> None:
        started = getattr(self._local, "started", None)
        if started is None:
            return
        self._local.started = None
        with self._lock:
            self.total += time.perf_counter() - started

    def reset(self) -> float:
        with self._lock:
            total, self.total = self.total, 0.0
        return total


class _CachedGenerate:
    """POST /ai/generate-image, answered from memory for a body seen before."""

    def __init__(self, route: Any) -> None:
        self._route = route
        self._cache: dict[bytes, tuple[Response, int]] = {}
        self.last_body: bytes = b""  # the ZIP most recently answered
        self.misses = 0  # requests rendered (not answered from memory)

    def __call__(self, ctx: RequestContext) -> Response:
        hit = self._cache.get(ctx.body)
        if hit is None:
            self.misses += 1
            before = ctx.state.ledger.account(ctx.key).spent
            response = self._route(ctx)
            if response.status == 200:
                price = ctx.state.ledger.account(ctx.key).spent - before
                self._cache[ctx.body] = (response, price)
                self.last_body = response.body
            return response
        response, price = hit
        with ctx.state.generating(ctx.key):
            ctx.state.ledger.check(ctx.key, price)
            ctx.charge(price)
        self.last_body = response.body
        return Response(response.status, response.body, dict(response.headers))


@dataclass
class Instruments:
    """The server clock and the cached generate route of a patched simulator."""

    clock: ServerClock
    generate: _CachedGenerate


@contextmanager
def instrumented_simulator() -> Iterator[Instruments]:
    """Patch the simulator (this process only) for cached generate answers and a server clock."""
    clock = ServerClock()
    handler = sim_server.Handler
    original_parse, original_handle = handler.parse_request, handler._handle
    original_send = handler._send
    original_route = sim_server.ROUTES[("POST", PATH_GENERATE)]

    def parse_request(self: Any) -> bool:
        clock.begin()  # the request line has arrived; parsing headers is the server's work
        return bool(original_parse(self))

    def handle(self: Any, method: str) -> None:
        try:
            original_handle(self, method)
        finally:
            clock.end()  # no-op when _send already stopped the clock

    def send(self: Any, response: Response, fault: str | None = None) -> None:
        clock.end()
        original_send(self, response, fault)

    handler.parse_request = parse_request  # type: ignore[method-assign]
    handler._handle = handle  # type: ignore[method-assign]
    handler._send = send  # type: ignore[method-assign]
    cached = _CachedGenerate(original_route)
    sim_server.ROUTES[("POST", PATH_GENERATE)] = cached
    try:
        yield Instruments(clock, cached)
    finally:
        handler.parse_request = original_parse  # type: ignore[method-assign]
        handler._handle = original_handle  # type: ignore[method-assign]
        handler._send = original_send  # type: ignore[method-assign]
        sim_server.ROUTES[("POST", PATH_GENERATE)] = original_route
