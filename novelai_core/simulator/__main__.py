"""Command line: ``python -m novelai_core.simulator`` serves the simulator until stopped."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from types import FrameType

from . import Simulator
from .faults import FAULT_NAMES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m novelai_core.simulator",
        description="A local stand-in of NovelAI's image service (spends nothing, offline).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    p.add_argument("--port", type=int, default=0, help="port (0 = a free one)")
    p.add_argument("--token", default=None, help="require this bearer token (default: none)")
    p.add_argument("--anlas", type=int, default=10_000, help="starting Anlas per token")
    p.add_argument("--tier", type=int, default=3, choices=(0, 1, 2, 3), help="3 = Opus")
    p.add_argument("--latency-ms", type=int, default=0, help="extra time per request")
    p.add_argument("--step-ms", type=int, default=0, help="time per sampling step")
    p.add_argument(
        "--fault", action="append", default=[], choices=FAULT_NAMES, help="inject on every request"
    )
    p.add_argument("--verbose", action="store_true", help="log each request (never its headers)")
    return p


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sim = Simulator(
        host=args.host,
        port=args.port,
        token=args.token,
        anlas=args.anlas,
        tier=args.tier,
        latency_ms=args.latency_ms,
        step_ms=args.step_ms,
        faults=args.fault,
        verbose=args.verbose,
    )
    print(sim.url, flush=True)
    if not _is_loopback(args.host):
        print(f"warning: listening on {args.host}, reachable from other hosts", file=sys.stderr)

    def _stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() blocks until serve_forever returns, so it cannot run in the serving thread.
        threading.Thread(target=sim.stop, daemon=True).start()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        sim.serve_forever()
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
