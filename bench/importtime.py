"""Importing the pack as ComfyUI does (by path, under a made-up module name).

Each sample is a fresh interpreter (``python -c``) that has imported nothing of ours; the time is
taken inside it, around the import only, so interpreter start-up is not counted. Nothing is
pre-imported either (ComfyUI would already hold torch and numpy; we do not rely on that).
The value is the median of the samples.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
_CHILD = """
import importlib.util, json, sys, time
pack = sys.argv[1]
name = "/opt/ComfyUI/custom_nodes/comfyui-novelai_x_nodes"
started = time.perf_counter()
spec = importlib.util.spec_from_file_location(
    name, pack + "/__init__.py", submodule_search_locations=[pack])
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
print(json.dumps({"ms": elapsed * 1000, "nodes": len(module.NODE_CLASS_MAPPINGS),
                  "torch": "torch" in sys.modules}))
"""


def one_sample() -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(PACK_DIR)],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",  # nothing of the repository on sys.path: the pack must load by path alone
    )
    sample: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return sample


def measure(samples: int) -> float:
    """Median import time in milliseconds over ``samples`` fresh interpreters."""
    times = []
    for _ in range(samples):
        sample = one_sample()
        if not sample["nodes"]:
            raise RuntimeError("the pack imported without any nodes")
        times.append(float(str(sample["ms"])))
    return statistics.median(times)
