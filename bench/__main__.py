"""python -m bench [--quick]: what a user of the pack waits for and holds, one line per figure.

Each line is ``name value`` and, after it, context (``key=value``) or, for the two figures that
are gates, the bound and ``ok``/``FAIL``: importing the pack (ComfyUI's start-up) and the TCP
connections of 10 generations (keep-alive). ``parallel_branch_ms``: a NovelAI generation (the
simulator's latency 3 s) beside a ~3 s CPU-bound local branch, as ComfyUI 0.3.45+ awaits the
async Generate node (``sequential_ms``: what a blocking node would take). The last line sums
up; the exit status is 1 when a gate fails. --quick runs every figure once on small images
(a smoke run: the numbers mean little).
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass

from . import connections, importtime, memory, parallel_branch, preview, runs
from .harness import bench_setup

IMPORT_MS_MAX = 150.0
CONNECTIONS = 1


@dataclass(frozen=True)
class Plan:
    size: tuple[int, int]  # width, height of every run
    batch: int
    repeats: int
    import_samples: int
    preview_runs: int
    generations: int
    memory_shape: tuple[int, int, int]
    parallel_s: float  # NovelAI's latency and the local branch's CPU time


FULL = Plan((832, 1216), 4, 7, 7, 5, 10, (4, 1024, 1536), 3.0)
QUICK = Plan((256, 384), 2, 1, 1, 1, 10, (2, 256, 384), 0.3)


def _number(value: float) -> str:
    return f"{value:.1f}"


def run(plan: Plan) -> tuple[list[str], bool]:
    """Measure and print every figure; the lines and whether every gate passed."""
    lines: list[str] = []
    gates: list[bool] = []

    def emit(text: str) -> None:
        lines.append(text)
        print(text, flush=True)

    def gate(name: str, value: float, bound: str, passed: bool) -> None:
        gates.append(passed)
        emit(f"{name} {value:g} {bound} {'ok' if passed else 'FAIL'}")

    width, height = plan.size
    with bench_setup() as bench:
        timings = runs.measure(bench, plan.repeats, width=width, height=height, batch=plan.batch)
        base = timings[0].wall_ms
        for timing in timings:
            ratio = f" vs_txt2img={timing.wall_ms / base:.2f}" if timing is not timings[0] else ""
            emit(f"{timing.name} {_number(timing.wall_ms)} server_ms={timing.server_ms:.1f}{ratio}")
        latency = preview.measure(bench, plan.preview_runs, width=width, height=height)
        emit(f"first_preview_ms {_number(latency)}")
        opened = connections.measure(bench, plan.generations)
        gate(f"tcp_connections_{plan.generations}_generations", opened, f"=={CONNECTIONS}",
             opened == CONNECTIONS)  # fmt: skip
        wait = plan.parallel_s
        overlap = parallel_branch.measure(bench, latency_s=wait, cpu_s=wait, width=width,
                                          height=height)  # fmt: skip
        emit(
            f"parallel_branch_ms {_number(overlap.wall_ms)} generate_ms="
            f"{overlap.generate_ms:.1f} cpu_branch_ms={overlap.cpu_ms:.1f} "
            f"sequential_ms={overlap.sequential_ms:.1f}"
        )
    import_ms = importtime.measure(plan.import_samples)
    gate("import_time_ms", round(import_ms, 1), f"<={IMPORT_MS_MAX:g}", import_ms <= IMPORT_MS_MAX)
    batch, mem_width, mem_height = plan.memory_shape
    peak = memory.measure(batch, mem_width, mem_height)
    emit(
        f"peak_memory_mb_{batch}x{mem_width}x{mem_height} {_number(peak['extra'] / 2**20)} "
        f"ratio_to_output={peak['ratio']:.2f}"
    )
    passed = all(gates)
    verdict = "ok" if passed else "FAIL"
    emit(f"summary figures={len(lines)} gates={sum(gates)}/{len(gates)} {verdict}")
    return lines, passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one fast pass on small images")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # torch's non-writable-array notice is not a result
    _, passed = run(QUICK if args.quick else FULL)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
