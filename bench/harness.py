"""The pack loaded as ComfyUI loads it, next to an in-process simulator, and the graphs to run.

Everything here is the bench's own (no import from ``tests``): the pack is imported by path
under a made-up module name, and the few ComfyUI modules the nodes look for (progress bar,
interrupt flag, progress text, folders) are replaced by minimal stand-ins for the run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import tempfile
import types
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from novelai_core.simulator import Simulator, run_simulator

from .server_time import Instruments, ServerClock, instrumented_simulator

PACK_DIR = Path(__file__).resolve().parent.parent
PACK_NAME = "/opt/ComfyUI/custom_nodes/comfyui-novelai_x_nodes-bench"
TOKEN = "pst-bench-token-0123456789abcdef"
MODEL = "nai-diffusion-4-5-full"
_ENV = ("NAI_IMAGE_BASE_URL", "NAI_ACCESS_TOKEN", "NOVELAI_API_KEY", "NAI_TOKEN_FILE")
_COMFY = ("comfy", "comfy.utils", "comfy.model_management", "server", "folder_paths")


def load_pack() -> types.ModuleType:
    """Import the pack by path under a package name of its own, once per process."""
    if PACK_NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACK_NAME, PACK_DIR / "__init__.py", submodule_search_locations=[str(PACK_DIR)]
        )
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load the pack from {PACK_DIR}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACK_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[PACK_NAME]


@dataclass
class Shown:
    """What the progress-bar stand-in was handed: (step, total, preview) per update."""

    updates: list[tuple[int, int, Any]] = field(default_factory=list)


def _stand_ins(shown: Shown, folder: Path) -> dict[str, types.ModuleType]:
    modules = {name: types.ModuleType(name) for name in _COMFY}

    class ProgressBar:
        def __init__(self, total: int, node_id: Any = None) -> None:
            self.total = total

        def update_absolute(self, value: int, total: Any = None, preview: Any = None) -> None:
            shown.updates.append((value, total or self.total, preview))

    class PromptServer:
        instance: Any = None

        def send_progress_text(self, text: str, node_id: Any, sid: Any = None) -> None:
            pass

    PromptServer.instance = PromptServer()
    management = modules["comfy.model_management"]
    management.processing_interrupted = lambda: False  # type: ignore[attr-defined]
    modules["comfy.utils"].ProgressBar = ProgressBar  # type: ignore[attr-defined]
    modules["server"].PromptServer = PromptServer  # type: ignore[attr-defined]
    for name in ("user", "output", "input"):
        (folder / name).mkdir()
        getter = f"get_{name}_directory"
        setattr(modules["folder_paths"], getter, lambda name=name: str(folder / name))
    return modules


@contextmanager
def _installed(modules: dict[str, types.ModuleType], env: dict[str, str]) -> Iterator[None]:
    saved_modules = {name: sys.modules.get(name) for name in modules}
    saved_env = {name: os.environ.get(name) for name in _ENV}
    sys.modules.update(modules)
    os.environ.pop("NOVELAI_API_KEY", None)
    os.environ.update(env)
    try:
        yield
    finally:
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def picture(width: int, height: int, *, seed: int = 1) -> Any:
    """An IMAGE tensor [1,H,W,3] that looks like a picture (smooth shapes, some grain), so its
    PNG encoding costs what a real picture's does."""
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [
        0.5 + 0.4 * np.sin(x / (40 + 13 * k) + k) * np.cos(y / (55 + 7 * k) - k) for k in range(3)
    ]
    image = np.stack(channels, axis=-1) + rng.normal(0, 0.03, (height, width, 3))
    return torch.from_numpy(np.clip(image, 0, 1).astype(np.float32)[None])


@dataclass
class Bench:
    """What a measure needs: the simulator, its instruments, the pack and what it showed."""

    sim: Simulator
    instruments: Instruments
    pack: Any
    shown: Shown

    def node(self, node_id: str, **inputs: Any) -> Any:
        """One run of a node, as ComfyUI calls its FUNCTION; its first output."""
        node_class = self.pack.NODE_CLASS_MAPPINGS[node_id]
        return getattr(node_class(), node_class.FUNCTION)(**inputs)[0]

    def generate(
        self, *, batch: int = 1, width: int = 832, height: int = 1216, **inputs: Any
    ) -> tuple[Any, ...]:
        """One run of the NovelAI Generate node, with the widget values of a saved workflow.

        The pack's recent-results store is emptied first: it would answer a repeated request
        without sending it, and each run here stands for a run that sends (a new seed)."""
        self.pack_module("nodes.runtime.result_store").clear()
        node_class = self.pack.NODE_CLASS_MAPPINGS["NovelAI_Generate"]
        return tuple(node_class().generate(**self.generate_inputs(batch, width, height, inputs)))

    def generate_inputs(
        self, batch: int, width: int, height: int, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        """The Generate node's inputs: a prompt from the Prompt node and saved widget values."""
        prompt = self.node(
            "NovelAI_Prompt",
            prompt="1girl, solo, benchmark",
            negative="",
            quality_tags=True,
            quality_preset="standard",
            uc_preset="heavy",
        )
        widgets: dict[str, Any] = {
            "model": MODEL,
            "size": "Custom",
            "seed": 7,
            "steps": 23,
            "scale": 5.0,
            "sampler": "k_euler_ancestral",
            "noise_schedule": "karras",
            "cfg_rescale": 0.0,
            "variety": False,
            "spend_guard": "no limit",
            "stream": False,
            "smea": "off",
            "decrisper": False,
            "transparent_background": False,
            "unique_id": "1",
        }
        size = {"samples": batch, "width": width, "height": height}
        return {"prompt": prompt, **size, **widgets, **inputs}

    @property
    def clock(self) -> ServerClock:
        return self.instruments.clock

    @property
    def last_zip(self) -> bytes:
        """The ZIP body of the latest generate answer."""
        return self.instruments.generate.last_body

    def pack_module(self, relative: str) -> Any:
        return importlib.import_module(f"{self.pack.__name__}.{relative}")

    def reset_client(self) -> None:
        """Drop the pack's shared client (its connections), as a ComfyUI restart would."""
        session = self.pack_module("nodes.runtime.session")
        with session._lock:
            if session._cached is not None:
                session._cached[1].close()
            session._cached = None


@contextmanager
def bench_setup(*, step_ms: int = 0) -> Iterator[Bench]:
    """A simulator (cached generate answers, a server clock) and the pack, ready to run."""
    with ExitStack() as stack:
        instruments = stack.enter_context(instrumented_simulator())
        sim = stack.enter_context(
            run_simulator(token=TOKEN, anlas=100_000_000, tier=3, step_ms=step_ms)
        )
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        shown = Shown()
        env = {
            "NAI_IMAGE_BASE_URL": sim.url,
            "NAI_ACCESS_TOKEN": TOKEN,
            "NAI_TOKEN_FILE": str(folder / "no-token"),
        }
        stack.enter_context(_installed(_stand_ins(shown, folder), env))
        bench = Bench(sim, instruments, load_pack(), shown)
        try:
            yield bench
        finally:
            bench.reset_client()
