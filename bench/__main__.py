"""python -m bench [--quick]: the pack's five performance measures, one line each.

Each line is ``name value target``; the last line is ``ratio=<worst overhead ratio>``.
--quick runs every measure once on small images (a smoke run: the numbers mean little).
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass

from . import connections, importtime, memory, overhead, preview
from .harness import bench_setup


@dataclass(frozen=True)
class Plan:
    shapes: tuple[tuple[int, int, int], ...]
    repeats: int
    import_samples: int
    preview_runs: int
    preview_size: tuple[int, int]
    generations: int
    memory_shape: tuple[int, int, int]


FULL = Plan(overhead.SHAPES, 15, 7, 3, (832, 1216), 10, (4, 1024, 1536))
QUICK = Plan(overhead.QUICK_SHAPES, 1, 1, 1, (256, 384), 10, (2, 256, 384))


def line(name: str, value: float | int, target: str) -> str:
    text = str(value) if isinstance(value, int) else f"{value:.3f}"
    return f"{name} {text} {target}"


def run(plan: Plan) -> list[str]:
    lines: list[str] = []
    ratios: list[float] = []

    def emit(text: str) -> None:
        lines.append(text)
        print(text, flush=True)

    with bench_setup() as bench:
        for shape in plan.shapes:
            result = overhead.measure(bench, shape, plan.repeats)
            ratios.append(result.ratio)
            emit(line(result.name, result.ratio, "<=1.15"))
        emit(line("import_time_ms", importtime.measure(plan.import_samples), "<=150"))
        width, height = plan.preview_size
        latency = preview.measure(bench, plan.preview_runs, width=width, height=height)
        emit(line("preview_latency_ms", latency, "<=50"))
        opened = connections.measure(bench, plan.generations)
        emit(line(f"tcp_connections_{plan.generations}_generations", opened, "==1"))
    batch, width, height = plan.memory_shape
    peak = memory.measure(batch, width, height)
    emit(line(f"peak_memory_ratio_{batch}x{width}x{height}", peak["ratio"], "<=2"))
    emit(f"ratio={max(ratios):.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one fast pass on small images")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # torch's non-writable-array notice is not a result
    run(QUICK if args.quick else FULL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
