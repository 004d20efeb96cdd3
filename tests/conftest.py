"""Shared fixtures: an in-process NovelAI simulator on a free loopback port."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from novelai_core.simulator import Simulator, run_simulator
from tests.simulator_support import SIM_TOKEN


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """A fresh simulator per test: token required, 10,000 Anlas, Opus, no latency."""
    with run_simulator(token=SIM_TOKEN, anlas=10_000, tier=3) as sim:
        yield sim


@pytest.fixture(autouse=True)
def _private_vibe_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own vibe store folder: nothing is written to the user's cache."""
    monkeypatch.setenv("NAI_CACHE_DIR", str(tmp_path_factory.mktemp("nai-cache")))


@pytest.fixture
def sim(simulator: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Simulator:
    """The simulator, with the pack's shared client pointed at it: its URL and token from the
    environment, no NOVELAI_API_KEY, and a token file that does not exist."""
    monkeypatch.setenv("NAI_IMAGE_BASE_URL", simulator.url)
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    monkeypatch.delenv("NOVELAI_API_KEY", raising=False)
    monkeypatch.setenv("NAI_TOKEN_FILE", str(tmp_path / "no-token-file"))
    return simulator


@pytest.fixture(autouse=True)
def _empty_result_stores() -> Iterator[None]:
    """Each test starts with the nodes' recent-results store empty (simulator ports are reused,
    so a request of an earlier test could otherwise be answered from the store)."""
    yield
    for name, module in list(sys.modules.items()):
        if name.endswith("nodes.runtime.result_store"):
            module.clear()


@pytest.fixture
def png_encodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """PNG encodes made by the pack and the SDK on any thread (nodes run FUNCTIONs on worker
    threads), the simulator's own drawing left out."""
    encodes: list[str] = []
    save = Image.Image.save
    repo = Path(__file__).resolve().parent.parent
    ours = (str(repo / "nodes"), str(repo / "novelai_core"))
    simulator = str(repo / "novelai_core" / "simulator")

    def counting_save(image: Image.Image, fp: Any, format: Any = None, **params: Any) -> None:
        if str(format).upper() == "PNG":
            files = [frame.filename for frame in traceback.extract_stack()]
            if not any(f.startswith(simulator) for f in files) and any(
                f.startswith(ours) for f in files
            ):
                encodes.append("png")
        save(image, fp, format, **params)

    monkeypatch.setattr(Image.Image, "save", counting_save)
    return encodes
