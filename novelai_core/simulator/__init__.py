"""A local stand-in of NovelAI's image service: real HTTP on loopback, deterministic images.

with run_simulator(token="sim-token", anlas=10_000) as sim:
    requests.post(sim.url + "/ai/generate-image", json=..., headers=...)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..auth import mask_token
from .faults import FAULT_NAMES
from .ledger import token_key
from .server import SimServer
from .state import SimState
from .vibe_encodings import VIBE_MAGIC

__all__ = ["FAULT_NAMES", "VIBE_MAGIC", "Simulator", "run_simulator"]


class Simulator:
    """The simulator: a server plus a handle to configure and inspect it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        anlas: int = 10_000,
        tier: int = 3,
        latency_ms: int = 0,
        step_ms: int = 0,
        faults: Iterable[str] = (),
        verbose: bool = False,
    ) -> None:
        self._state = SimState(
            token=token,
            anlas=anlas,
            tier=tier,
            latency_ms=latency_ms,
            step_ms=step_ms,
            verbose=verbose,
        )
        for name in faults:
            self._state.faults.add(name, count=None)
        self._server = SimServer((host, port), self._state)
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()
        self._stop_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Simulator(url={self.url!r}, token={mask_token(self.token)!r})"

    @property
    def token(self) -> str | None:
        return self._state.token

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Serve in a daemon thread; the socket already listens, so the URL works at once."""
        self._serving.set()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            self._server.serve_forever(poll_interval=0.05)
        finally:
            self._serving.clear()

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` is called from another thread."""
        self._serving.set()
        self._serve()

    def stop(self) -> None:
        """Stop serving; hanging and sleeping handlers notice within a poll interval."""
        with self._stop_lock:
            if self._state.stop.is_set():
                return
            self._state.stop.set()
            if self._serving.is_set():
                self._server.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5)
                self._thread = None
            self._server.server_close()

    def __enter__(self) -> Simulator:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- configuration ----------------------------------------------------------------------

    def set_fault(
        self, name: str, count: int | None = 1, path: str | None = None, delay_ms: int | None = None
    ) -> None:
        """Apply fault ``name`` to the next ``count`` matching requests (None: until cleared)."""
        self._state.faults.add(name, count=count, path=path, delay_ms=delay_ms)

    def clear_faults(self) -> None:
        self._state.faults.clear()

    def set_balance(self, token: str | None, anlas: int) -> None:
        """Set a token's Anlas (None: the configured token); a new token becomes valid too."""
        self._state.ledger.set_balance(self._state.add_token(token), anlas)

    def set_tier(self, tier: int) -> None:
        self._state.ledger.tier = tier

    def set_v5_usage(self, percent: int, token: str | None = None) -> None:
        """Set the used share of the Opus V5 allowance (usage.percent; 100 = V5 costs Anlas)."""
        self._state.ledger.set_v5_usage(self._state.add_token(token), percent)

    def set_latency(self, ms: int) -> None:
        self._state.latency_ms = ms

    def queue_text_reply(self, text: str) -> None:
        """The next text answer (chat or completion) says ``text``, once; then the default."""
        self._state.queue_text_reply(text)

    def set_step_ms(self, ms: int) -> None:
        self._state.step_ms = ms

    def use_schema_statuses(self, enabled: bool = True) -> None:
        """Answer 201 where the official schema says so (live NovelAI answers 200; R14 a)."""
        self._state.schema_statuses = enabled

    # --- inspection -------------------------------------------------------------------------

    @property
    def generation_running(self) -> threading.Event:
        """Set while a generation holds its token's one-at-a-time lock, clear when none does."""
        return self._state.generation_running

    def stats(self) -> dict[str, Any]:
        """The same dict as GET /_sim/stats."""
        return self._state.stats()

    def balance(self, token: str | None = None) -> int:
        return self._state.ledger.balance(token_key(token if token is not None else self.token))

    def spent(self, token: str | None = None) -> int:
        return self._state.ledger.account(
            token_key(token if token is not None else self.token)
        ).spent

    def requests_seen(self, path: str) -> list[dict[str, Any]]:
        """Recent bodies sent to ``path`` (oldest first), images elided."""
        return [entry["body"] for entry in self._state.recent(path)]


@contextmanager
def run_simulator(**options: Any) -> Iterator[Simulator]:
    """Start a simulator on a free loopback port for the duration of a ``with`` block."""
    simulator = Simulator(**options)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()
