"""Peak extra memory of one Generate run, relative to its output tensor + PNG bytes.

Method. tracemalloc does not see torch's or PIL's own allocations, so the process's resident
memory is measured instead, in a child interpreter that does nothing else. The child renders
the batch once (the simulator then holds the ZIP in memory, part of the baseline), drops
everything, resets the kernel's peak-RSS mark (``/proc/self/clear_refs`` = 5, Linux), reads
VmRSS, runs the node once more and reads VmHWM. glibc's malloc is told to serve large blocks
with mmap and to return freed memory (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_), so memory
freed by the first run cannot hide the second run's allocations.

extra = VmHWM − baseline VmRSS: everything the run held at its peak (the received body, decoded
images, intermediate arrays, the outputs). The ratio divides it by what any client must hold:
the IMAGE tensor (B·H·W·3 float32) plus the PNG bytes. The MASK output counts as extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PACK_DIR = Path(__file__).resolve().parent.parent
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def _status(field: str) -> int:
    """A /proc/self/status field in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def child(batch: int, width: int, height: int) -> dict[str, Any]:
    """Runs in the child: one warm-up run, then the measured one."""
    import gc
    import io
    import zipfile

    from .harness import bench_setup

    with bench_setup() as bench:
        bench.generate(batch=batch, width=width, height=height)
        with zipfile.ZipFile(io.BytesIO(bench.last_zip)) as archive:
            png_bytes = sum(info.file_size for info in archive.infolist())
        gc.collect()
        _reset_peak()
        baseline = _status("VmRSS")
        outputs = bench.generate(batch=batch, width=width, height=height)
        peak = _status("VmHWM")
        image = outputs[0]
        tensor_bytes = image.element_size() * image.nelement()
    extra = peak - baseline
    return {
        "extra": extra,
        "tensor_bytes": tensor_bytes,
        "png_bytes": png_bytes,
        "ratio": extra / (tensor_bytes + png_bytes),
    }


def measure(batch: int, width: int, height: int) -> dict[str, Any]:
    """Run ``child`` in a fresh interpreter; its result as a dict (``ratio`` is the measure)."""
    env = {**os.environ, **_MALLOC_ENV}
    code = (
        "import json; from bench.memory import child; "
        f"print(json.dumps(child({batch}, {width}, {height})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACK_DIR,
        env=env,
    )
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data
