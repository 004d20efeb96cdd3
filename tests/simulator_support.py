"""Request bodies and helpers for the simulator's contract tests (plain requests, no client)."""

from __future__ import annotations

import base64
import copy
import io
import zipfile
from typing import Any

import numpy as np
import requests
from PIL import Image

V45 = "nai-diffusion-4-5-full"
V5 = "nai-diffusion-5-full"
V3 = "nai-diffusion-3"
# The token every test simulator requires (conftest's ``simulator`` fixture).
SIM_TOKEN = "sim-token-for-tests"


def session(sim: Any) -> requests.Session:
    s = requests.Session()
    if sim.token:
        s.headers["Authorization"] = f"Bearer {sim.token}"
    return s


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body(
    model: str = V45,
    *,
    width: int = 64 * 4,
    height: int = 64 * 6,
    seed: int = 1,
    steps: int = 28,
    n_samples: int = 1,
    prompt: str = "1girl, smile",
    action: str = "generate",
    **params: Any,
) -> dict[str, Any]:
    """A valid generate body for ``model`` (v4 objects on V4+), small so tests are quick."""
    p: dict[str, Any] = {
        "width": width,
        "height": height,
        "seed": seed,
        "steps": steps,
        "n_samples": n_samples,
        "scale": 5.0,
        "sampler": "k_euler_ancestral",
        "negative_prompt": "lowres",
    }
    if model != V3 and not model.startswith("nai-diffusion-3") and "furry-3" not in model:
        p["v4_prompt"] = {
            "caption": {"base_caption": prompt, "char_captions": []},
            "use_coords": False,
            "use_order": True,
        }
        p["v4_negative_prompt"] = {
            "caption": {"base_caption": "lowres", "char_captions": []},
            "legacy_uc": False,
        }
    p.update(params)
    return {"input": prompt, "model": model, "action": action, "parameters": p}


def with_characters(b: dict[str, Any], count: int) -> dict[str, Any]:
    b = copy.deepcopy(b)
    chars = [{"char_caption": f"girl {i}", "centers": [{"x": 0.5, "y": 0.5}]} for i in range(count)]
    b["parameters"]["v4_prompt"]["caption"]["char_captions"] = chars
    b["parameters"]["v4_negative_prompt"]["caption"]["char_captions"] = [
        {"char_caption": "", "centers": c["centers"]} for c in chars
    ]
    b["parameters"]["characterPrompts"] = [
        {"prompt": c["char_caption"], "uc": "", "center": {"x": 0.5, "y": 0.5}, "enabled": True}
        for c in chars
    ]
    return b


def unzip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(name, z.read(name)) for name in z.namelist()]


def pixels(data: bytes) -> np.ndarray[Any, Any]:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
