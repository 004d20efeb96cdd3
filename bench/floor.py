"""The floor: the least work any client must do with a ZIP body to hand ComfyUI an IMAGE batch.

ZIP read + PNG decode + uint8 → float32 ``[B,H,W,3]`` in 0..1, written the plain fast ways
(stdlib zipfile, PIL, numpy/torch, one preallocated output); the fastest variant is the floor.
Whenever the node's own conversion finds a faster plain way, it is added here as a variant, so
the floor never credits the node with a trick the floor does not know.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PIL import Image


def _pngs(body: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return [archive.read(name) for name in archive.namelist()]


def _decoded(body: bytes) -> list[Any]:
    images = [Image.open(io.BytesIO(png)) for png in _pngs(body)]
    for image in images:
        image.load()
    return images


def via_numpy_slice(body: bytes) -> torch.Tensor:
    """Decode as stored (RGBA), copy the RGB channels into one float32 buffer, scale in place."""
    images = _decoded(body)
    width, height = images[0].size
    out = np.empty((len(images), height, width, 3), dtype=np.float32)
    for index, image in enumerate(images):
        out[index] = np.asarray(image)[..., :3]
    return torch.from_numpy(out).mul_(1.0 / 255.0)


def via_numpy_multiply(body: bytes) -> torch.Tensor:
    """Decode as stored; one numpy pass casts the RGB view and scales it into the output."""
    images = _decoded(body)
    width, height = images[0].size
    out = np.empty((len(images), height, width, 3), dtype=np.float32)
    scale = np.float32(1.0 / 255.0)
    for index, image in enumerate(images):
        np.multiply(np.asarray(image)[..., :3], scale, out=out[index])
    return torch.from_numpy(out)


def via_pil_rgb(body: bytes) -> torch.Tensor:
    """Let PIL drop alpha (convert("RGB")), then torch does the cast and scale in one pass."""
    images = [image.convert("RGB") for image in _decoded(body)]
    width, height = images[0].size
    out = torch.empty((len(images), height, width, 3), dtype=torch.float32)
    for index, image in enumerate(images):
        out[index].copy_(torch.from_numpy(np.asarray(image)))
    return out.mul_(1.0 / 255.0)


def via_pil_rgb_numpy(body: bytes) -> torch.Tensor:
    """PIL drops alpha; one numpy pass casts and scales the contiguous RGB into the output."""
    images = [image.convert("RGB") for image in _decoded(body)]
    width, height = images[0].size
    out = np.empty((len(images), height, width, 3), dtype=np.float32)
    scale = np.float32(1.0 / 255.0)
    for index, image in enumerate(images):
        np.multiply(np.asarray(image), scale, out=out[index])
    return torch.from_numpy(out)


def via_torch_copy(body: bytes) -> torch.Tensor:
    """Decode as stored; torch copies the RGB view (casting) into the preallocated output."""
    images = _decoded(body)
    width, height = images[0].size
    out = torch.empty((len(images), height, width, 3), dtype=torch.float32)
    for index, image in enumerate(images):
        out[index].copy_(torch.from_numpy(np.asarray(image))[..., :3])
    return out.mul_(1.0 / 255.0)


def via_pil_raw_rgb(body: bytes) -> torch.Tensor:
    """PIL packs the RGB bytes straight from the decoded RGBA (``tobytes("raw", "RGB")``);
    numpy cast-copies them into the output, then scales it in place (two plain loops)."""
    images = _decoded(body)
    width, height = images[0].size
    out = np.empty((len(images), height, width, 3), dtype=np.float32)
    for index, image in enumerate(images):
        packed = np.frombuffer(image.tobytes("raw", "RGB"), dtype=np.uint8)
        np.copyto(out[index], packed.reshape(height, width, 3))
    np.multiply(out, np.float32(1.0 / 255.0), out=out)
    return torch.from_numpy(out)


VARIANTS: tuple[Callable[[bytes], torch.Tensor], ...] = (
    via_numpy_slice,
    via_numpy_multiply,
    via_pil_rgb,
    via_pil_rgb_numpy,
    via_torch_copy,
    via_pil_raw_rgb,
)
