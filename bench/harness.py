"""The pack loaded as ComfyUI loads it, wired to an in-process simulator, and one node call."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from novelai_core.simulator import Simulator, run_simulator
from tests.comfy_harness import ComfyRuntime, comfy_runtime, load_pack
from tests.tool_support import comfy_folders

from .server_time import Instruments, ServerClock, instrumented_simulator

TOKEN = "pst-bench-token-0123456789abcdef"
MODEL = "nai-diffusion-4-5-full"
_ENV = ("NAI_IMAGE_BASE_URL", "NAI_ACCESS_TOKEN", "NOVELAI_API_KEY", "NAI_TOKEN_FILE")


@dataclass
class Bench:
    """What a measure needs: the simulator, its server clock, the pack and comfy stand-ins."""

    sim: Simulator
    instruments: Instruments
    pack: Any
    runtime: ComfyRuntime

    def generate(
        self, *, batch: int, width: int, height: int, stream: bool = False, seed: int = 7
    ) -> tuple[Any, ...]:
        """One run of the NovelAI Generate node, with the arguments a saved workflow gives."""
        nodes = self.pack.NODE_CLASS_MAPPINGS
        prompt = nodes["NovelAI_Prompt"]().build(
            prompt="1girl, solo, benchmark",
            negative="",
            quality_tags=True,
            quality_preset="standard",
            uc_preset="heavy",
        )[0]
        return nodes["NovelAI_Generate"]().generate(
            prompt=prompt,
            model=MODEL,
            size="Custom",
            width=width,
            height=height,
            seed=seed,
            steps=23,
            scale=5.0,
            sampler="k_euler_ancestral",
            noise_schedule="karras",
            cfg_rescale=0.0,
            variety=False,
            samples=batch,
            spend_guard="no limit",
            stream=stream,
            smea="off",
            decrisper=False,
            transparent_background=False,
            unique_id="1",
        )

    @property
    def clock(self) -> ServerClock:
        return self.instruments.clock

    @property
    def last_zip(self) -> bytes:
        """The ZIP body of the latest generate answer (what the floor decodes)."""
        return self.instruments.generate.last_body

    def reset_client(self) -> None:
        """Drop the pack's shared client, so the next run opens its connection afresh."""
        session = self.pack_module("nodes.runtime.session")
        with session._lock:
            if session._cached is not None:
                session._cached[1].close()
            session._cached = None

    def pack_module(self, relative: str) -> Any:
        import importlib

        return importlib.import_module(f"{self.pack.__name__}.{relative}")


@contextmanager
def _environment(url: str, token_file: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(
        {"NAI_IMAGE_BASE_URL": url, "NAI_ACCESS_TOKEN": TOKEN, "NAI_TOKEN_FILE": token_file}
    )
    os.environ.pop("NOVELAI_API_KEY", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def bench_setup(*, step_ms: int = 0) -> Iterator[Bench]:
    """A zero-latency simulator (cached generate answers) and the pack, ready to run."""
    with ExitStack() as stack:
        instruments = stack.enter_context(instrumented_simulator())
        sim = stack.enter_context(
            run_simulator(token=TOKEN, anlas=100_000_000, tier=3, step_ms=step_ms)
        )
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        stack.enter_context(_environment(sim.url, str(Path(folder) / "no-token")))
        runtime = stack.enter_context(comfy_runtime())
        stack.enter_context(comfy_folders(Path(folder)))  # ComfyUI's folder_paths is importable
        bench = Bench(sim, instruments, load_pack(), runtime)
        try:
            yield bench
        finally:
            bench.reset_client()
