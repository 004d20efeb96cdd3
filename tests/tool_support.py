"""Helpers for the tool-node tests: the pack's nodes pointed at the simulator, tensors, PNGs."""

from __future__ import annotations

import io
import json
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from novelai_core.metadata.reader import add_text_chunks, embed_stealth


def gradient(width: int, height: int) -> torch.Tensor:
    """An IMAGE batch of one [1,H,W,3] float32 gradient (never blank)."""
    ys = torch.linspace(0, 1, height)[:, None].expand(height, width)
    xs = torch.linspace(0, 1, width)[None, :].expand(height, width)
    return torch.stack([xs, ys, (xs + ys) / 2], dim=-1)[None].contiguous()


def check_image(tensor: torch.Tensor, width: int, height: int) -> None:
    assert tensor.dtype == torch.float32 and tensor.device.type == "cpu"
    assert tuple(tensor.shape) == (1, height, width, 3)
    assert float(tensor.min()) >= 0.0 and float(tensor.max()) <= 1.0
    assert float(tensor.std()) > 0.01


def novelai_png(
    comment: dict[str, Any],
    *,
    width: int = 64,
    height: int = 96,
    text: bool = True,
    source: str = "NovelAI Diffusion V4.5 4BDE2A90",
) -> bytes:
    """A NovelAI-style PNG: Comment as tEXt (unless ``text`` is False) and as stealth alpha."""
    chunks = {
        "Title": "AI generated image",
        "Description": comment.get("prompt", ""),
        "Software": "NovelAI",
        "Source": source,
        "Comment": json.dumps(comment),
    }
    base = Image.new("RGB", (width, height), (180, 90, 30))
    base.paste((20, 160, 220), (0, 0, width // 2, height))
    image = embed_stealth(base, chunks)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return add_text_chunks(buf.getvalue(), chunks) if text else buf.getvalue()


@contextmanager
def comfy_folders(root: Path) -> Iterator[types.ModuleType]:
    """A stand-in of ComfyUI's ``folder_paths`` with input/output folders under ``root``."""
    input_dir, output_dir = root / "input", root / "output"
    input_dir.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    module = types.ModuleType("folder_paths")

    def get_annotated_filepath(name: str) -> str:
        return str(input_dir / name.removesuffix(" [input]"))

    def get_save_image_path(
        prefix: str, out: str, width: int = 0, height: int = 0
    ) -> tuple[str, str, int, str, str]:
        subfolder, _, filename = prefix.rpartition("/")
        folder = Path(out) / subfolder
        folder.mkdir(parents=True, exist_ok=True)
        counter = len(list(folder.glob(f"{filename}_*.png"))) + 1
        return str(folder), filename, counter, subfolder, prefix

    module.get_input_directory = lambda: str(input_dir)  # type: ignore[attr-defined]
    module.get_output_directory = lambda: str(output_dir)  # type: ignore[attr-defined]
    module.get_annotated_filepath = get_annotated_filepath  # type: ignore[attr-defined]
    module.exists_annotated_filepath = (  # type: ignore[attr-defined]
        lambda name: Path(get_annotated_filepath(name)).is_file()
    )
    module.get_save_image_path = get_save_image_path  # type: ignore[attr-defined]
    saved = sys.modules.get("folder_paths")
    sys.modules["folder_paths"] = module
    try:
        yield module
    finally:
        if saved is None:
            sys.modules.pop("folder_paths", None)
        else:
            sys.modules["folder_paths"] = saved


# The NovelAI PNG the metadata example workflow loads ("NovelAI regenerate a PNG.json"): its
# recorded values equal the widget values saved in that workflow.
EXAMPLE_INPUT = "example.png"  # the file a fresh ComfyUI input folder has (no 404 preview)
EXAMPLE_COMMENT: dict[str, Any] = {
    "prompt": "1girl, solo, red hair, garden, very aesthetic, masterpiece, no text",
    "uc": "lowres, bad hands",
    "seed": 777,
    "steps": 6,
    "scale": 5.5,
    "sampler": "k_euler",
    "width": 512,
    "height": 768,
    "model": "nai-diffusion-4-5-full",
}


def write_example_inputs(input_dir: Path, characters: list[dict[str, Any]] | None = None) -> Path:
    """Put the example workflows' input PNG into a (stand-in) ComfyUI input folder."""
    comment = dict(EXAMPLE_COMMENT)
    if characters:
        comment["v4_prompt"] = {
            "caption": {"base_caption": comment["prompt"], "char_captions": characters},
            "use_coords": True,
            "use_order": True,
        }
        comment["v4_negative_prompt"] = {
            "caption": {
                "base_caption": comment["uc"],
                "char_captions": [
                    {"char_caption": "", "centers": c["centers"]} for c in characters
                ],
            },
            "legacy_uc": False,
        }
    path = Path(input_dir) / EXAMPLE_INPUT
    path.write_bytes(novelai_png(comment, width=512, height=768))
    return path
