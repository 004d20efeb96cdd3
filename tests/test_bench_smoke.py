"""`python -m bench --quick` runs end to end and prints its lines in the documented format.

Timings are not asserted: the quick mode measures small images once, and CI machines are noisy.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAMES = (
    r"overhead_ratio_1x\d+x\d+",
    r"overhead_ratio_\d+x\d+x\d+",
    r"import_time_ms",
    r"preview_latency_ms",
    r"tcp_connections_\d+_generations",
    r"peak_memory_ratio_\d+x\d+x\d+",
)
NUMBER = r"\d+(?:\.\d+)?"


def test_the_quick_benchmark_prints_every_measure_and_the_ratio_last() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(NAMES) + 1
    for name, text in zip(NAMES, lines, strict=False):
        assert re.fullmatch(rf"{name} {NUMBER} (<=|==){NUMBER}", text), text
    first_ratio = lines[0].split()[1]
    worst = max(float(lines[0].split()[1]), float(lines[1].split()[1]))
    assert re.fullmatch(rf"ratio={NUMBER}", lines[-1])
    assert float(lines[-1].removeprefix("ratio=")) == worst
    assert float(first_ratio) > 0
    assert lines[4].split()[1] == str(int(lines[4].split()[1]))  # a count, not a time
