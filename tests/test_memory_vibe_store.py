"""Without a vibe store passed in, the client keeps encodings in memory (bounded, least recently
used out), so a repeated V4+ vibe is encoded (2 Anlas) once per client, and nothing is written."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from novelai_core.contract.constants import PATH_ENCODE_VIBE
from novelai_core.models.user import Vibe
from novelai_core.simulator import Simulator
from novelai_core.vibes import store_entry as vibe_store_entry
from novelai_core.vibes.encoding import MemoryVibeStore
from tests.client_helpers import client_for, requests_to, small_request

V45 = "nai-diffusion-4-5-full"
ROOT = Path(__file__).resolve().parent.parent


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_two_generations_with_the_same_vibe_encode_it_once_by_default(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAI_CACHE_DIR", str(tmp_path))
    client = client_for(simulator)
    request = small_request(vibes=(Vibe(image=_png((10, 20, 30)), information_extracted=0.8),))
    client.generate(request)
    client.generate(request)
    assert requests_to(simulator, PATH_ENCODE_VIBE) == 1
    assert client.estimate(request, tier=0).extras == 0  # the estimate knows it is stored
    assert list(tmp_path.iterdir()) == []  # memory only: no disk store unless one is passed


def test_the_memory_store_keys_by_image_model_and_rounded_information() -> None:
    store = MemoryVibeStore()
    red = _png((255, 0, 0))
    store.put(red, V45, 0.7, b"enc")
    assert store.get(red, V45, 0.70000001) == b"enc"  # float noise from widgets
    assert store.get(red, V45, 0.6) is None
    assert store.get(red, "nai-diffusion-4-full", 0.7) is None
    assert store.get(_png((0, 255, 0)), V45, 0.7) is None


def test_the_memory_store_drops_the_least_recently_used_entry_when_full() -> None:
    store = MemoryVibeStore(max_entries=2)
    a, b, c = _png((1, 1, 1)), _png((2, 2, 2)), _png((3, 3, 3))
    store.put(a, V45, 1.0, b"a")
    store.put(b, V45, 1.0, b"b")
    assert store.get(a, V45, 1.0) == b"a"  # a is now the most recently used
    store.put(c, V45, 1.0, b"c")
    assert (store.get(a, V45, 1.0), store.get(b, V45, 1.0), store.get(c, V45, 1.0)) == (
        b"a",
        None,
        b"c",
    )
    assert len(store) == 2


def test_the_memory_store_rounds_information_by_the_disk_stores_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One rule for both stores: change it in vibe_store_entry and the memory store follows.
    monkeypatch.setattr(vibe_store_entry, "INFO_DECIMALS", 1)
    store = MemoryVibeStore()
    red = _png((255, 0, 0))
    store.put(red, V45, 0.71, b"enc")
    assert store.get(red, V45, 0.69) == b"enc"  # both 0.7 at one decimal
    assert store.get(red, V45, 0.76) is None


def test_the_rounding_rule_comes_without_pillow() -> None:
    code = "import sys, novelai_core.vibes.store_entry; print('PIL' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, check=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.stdout.strip() == "False"
