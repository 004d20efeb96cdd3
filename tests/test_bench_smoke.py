"""`python -m bench --quick` runs end to end and prints its lines in the documented format.

Timings are not asserted: the quick mode measures small images once, and machines are noisy.
Run with ``pytest -m bench`` (left out of the default run).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parent.parent
NUMBER = r"\d+(?:\.\d+)?"
SIZE = r"\d+x\d+x\d+"
LINES = (
    rf"run_txt2img_1x\d+x\d+_ms {NUMBER} server_ms={NUMBER}",
    *(
        rf"run_{graph}_1x\d+x\d+_ms {NUMBER} server_ms={NUMBER} vs_txt2img={NUMBER}"
        for graph in ("vibe_stored", "character_reference", "img2img")
    ),
    rf"run_txt2img_{SIZE}_ms {NUMBER} server_ms={NUMBER} vs_txt2img={NUMBER}",
    rf"first_preview_ms {NUMBER}",
    r"tcp_connections_10_generations \d+ ==1 (ok|FAIL)",
    rf"parallel_branch_ms {NUMBER} generate_ms={NUMBER} cpu_branch_ms={NUMBER} "
    rf"sequential_ms={NUMBER}",
    rf"import_time_ms {NUMBER} <=150 (ok|FAIL)",
    rf"peak_memory_mb_{SIZE} {NUMBER} ratio_to_output={NUMBER}",
    r"summary figures=10 gates=\d/2 (ok|FAIL)",
)


def test_the_quick_benchmark_prints_one_line_per_figure_and_a_summary_last() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(LINES), result.stdout + result.stderr
    for pattern, text in zip(LINES, lines, strict=True):
        assert re.fullmatch(pattern, text), text
    gates_failed = "FAIL" in lines[-1]
    assert result.returncode == (1 if gates_failed else 0), result.stderr
