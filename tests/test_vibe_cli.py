"""``python -m novelai_core vibe ...`` in real subprocesses against the simulator: the store
survives the process, so a second run encodes nothing and spends nothing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from novelai_core.simulator import Simulator
from tests.simulator_support import SIM_TOKEN

PACK_DIR = Path(__file__).resolve().parent.parent
ENCODE = "/ai/encode-vibe"
V45 = "nai-diffusion-4-5-full"


def _cli(
    args: list[str], cache: Path, *, token: str | None = SIM_TOKEN, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NAI_", "NOVELAI_"))}
    env.update({"NAI_CACHE_DIR": str(cache), "NAI_TOKEN_FILE": str(cache / "no-token-file")})
    if token is not None:
        env["NAI_ACCESS_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "novelai_core", *args],
        capture_output=True,
        text=True,
        cwd=PACK_DIR,
        env=env,
        timeout=60,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return json.loads(lines[0])


def _encodes(sim: Simulator) -> int:
    return int(sim.stats()["requests"].get(ENCODE, 0))


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "vibe.png"
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 120, 40)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_second_encode_in_a_new_process_costs_nothing(
    simulator: Simulator, tmp_path: Path, image: Path
) -> None:
    cache = tmp_path / "cache"
    args = ["vibe", "encode", str(image), "--model", V45, "--information-extracted", "0.7"]
    first = _json(_cli([*args, "--base-url", simulator.url], cache))
    assert (first["cached"], first["anlas_spent"]) == (False, 2)
    assert _encodes(simulator) == 1 and simulator.spent() == 2

    second = _json(_cli([*args, "--base-url", simulator.url], cache))
    assert (second["cached"], second["anlas_spent"]) == (True, 0)
    assert _encodes(simulator) == 1 and simulator.spent() == 2
    assert second["image_sha256"] == first["image_sha256"]
    # Cached: not even a token is needed.
    assert _json(_cli(args, cache, token=None))["cached"] is True


def test_export_import_list_and_clear_share_the_store_across_processes(
    simulator: Simulator, tmp_path: Path, image: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "out" / "mine.naiv4vibe"
    base = ["--base-url", simulator.url]
    _cli(["vibe", "encode", str(image), "--model", V45, *base], cache)
    exported = _json(
        _cli(["vibe", "export", str(image), "--model", V45, "--out", str(out), *base], cache)
    )
    assert (exported["cached"], exported["anlas_spent"]) == (True, 0)
    assert _encodes(simulator) == 1
    assert exported["encodings"] == [{"model_key": "v4-5full", "information_extracted": 1.0}]
    assert json.loads(out.read_text())["identifier"] == "novelai-vibe-transfer"

    other_cache = tmp_path / "elsewhere"
    summary = _json(_cli(["vibe", "import", str(out)], other_cache))
    assert summary["kind"] == "vibe" and summary["stored"] == 1
    [vibe] = summary["vibes"]
    assert vibe["has_image"] is True and vibe["name"] == "vibe"
    assert vibe["encodings"] == [
        {"model_key": "v4-5full", "model": V45, "information_extracted": 1.0}
    ]
    listed = _json(_cli(["vibe", "list"], other_cache))
    assert listed["count"] == 1 and listed["entries"][0]["model"] == V45
    # Imported encodings make a later encode free in that store as well.
    again = _json(_cli(["vibe", "encode", str(image), "--model", V45], other_cache, token=None))
    assert again["cached"] is True
    assert _json(_cli(["vibe", "clear"], other_cache))["removed"] == 1
    assert _json(_cli(["vibe", "list"], other_cache))["count"] == 0


@pytest.mark.parametrize(
    "case",
    [
        (["vibe", "encode", "MISSING.png"], "No such file", 2),
        (["vibe", "encode", "IMAGE", "--model", "nai-diffusion-5-full"], "encoded vibes", 2),
        (["vibe", "import", "IMAGE"], "not JSON", 2),
        (["vibe", "encode", "IMAGE", "--base-url", "SIM"], "401", 1),
    ],
)
def test_errors_are_one_line_without_traceback_or_token(
    simulator: Simulator, tmp_path: Path, image: Path, case: tuple[list[str], str, int]
) -> None:
    args, words, code = case
    token = "pst-wrong-token-0123456789abcdef"
    replaced = [str(image) if a == "IMAGE" else simulator.url if a == "SIM" else a for a in args]
    done = _cli(replaced, tmp_path / "cache", token=token, check=False)
    assert done.returncode == code
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], done.stderr
    assert "Traceback" not in done.stderr and token not in done.stderr + done.stdout
    assert simulator.spent() == 0
