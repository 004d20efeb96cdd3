"""Deterministic procedural images: gradients and shapes whose colours come from a hash."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
from PIL import Image

from ..converter.images import quantize_mask
from ..metadata.model_sources import source_text
from ..metadata.reader import add_text_chunks, embed_stealth
from .request_checks import GenPlan

Array = np.ndarray[Any, Any]
PREVIEW_SIDE: Final = 256
_SHAPES: Final = 6
_SCALE: Final = 4
# How much of the pattern bleeds into unmasked pixels when add_original_image is off.
_UNMASKED_DRIFT: Final = 0.1


def digest(*parts: object, size: int = 64) -> bytes:
    """A stable byte stream from any JSON-able parts (same everywhere, unlike numpy RNGs)."""
    key = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.shake_256(key).digest(size)


def pattern(key: bytes, width: int, height: int) -> Array:
    """An RGB uint8 image drawn from ``key``: drawn at a quarter size, then scaled up (speed)."""
    small = _pattern_small(key, max(width // _SCALE, 1), max(height // _SCALE, 1))
    image = Image.fromarray(np.clip(small + 0.5, 0, 255).astype(np.uint8), "RGB")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))


def _pattern_small(key: bytes, width: int, height: int) -> Array:
    """An RGB float32 image (0-255) drawn from ``key``: a gradient plus coloured shapes."""
    b = np.frombuffer(key, dtype=np.uint8).astype(np.float32)
    yy = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xx = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    angle = b[6] / 255.0 * 2 * np.pi
    t = xx * np.cos(angle) + yy * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c0, c1 = b[0:3], b[3:6]
    img = c0 + (c1 - c0) * t[:, :, None]
    for i in range(_SHAPES):
        o = 8 + i * 8
        cx, cy = int(b[o] / 255 * width), int(b[o + 1] / 255 * height)
        r = int((0.05 + b[o + 2] / 255 * 0.2) * min(width, height)) + 1
        colour = b[o + 3 : o + 6]
        x0, x1 = max(cx - r, 0), min(cx + r, width)
        y0, y1 = max(cy - r, 0), min(cy + r, height)
        if x0 >= x1 or y0 >= y1:
            continue
        region = img[y0:y1, x0:x1]
        if key[o + 6] & 1:  # a disc
            dx = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
            dy = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
            inside = dx * dx + dy * dy <= r * r
            region[inside] = region[inside] * 0.2 + colour * 0.8
        else:  # a square
            region[...] = region * 0.3 + colour * 0.7
    result: Array = img
    return result


def _rgb(image: Image.Image, width: int, height: int) -> Array:
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    rgb = image.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.float32)


def render_sample(plan: GenPlan, sample: int) -> Array:
    """The RGBA uint8 pixels of sample ``sample`` (seed + sample) of a plan."""
    key = digest(plan.seed + sample, plan.prompt, plan.width, plan.height, plan.cap.id)
    rgba = np.empty((plan.height, plan.width, 4), dtype=np.uint8)
    rgba[:, :, :3] = pattern(key, plan.width, plan.height)
    if plan.image is not None:
        rgba[:, :, :3] = _derive(plan, rgba[:, :, :3].astype(np.float32))
    rgba[:, :, 3] = 255
    if plan.straight_alpha and plan.transparent:
        rgba[:, :, 3] = _subject_alpha(plan.width, plan.height)
    return rgba


def _derive(plan: GenPlan, img: Array) -> Array:
    """img2img / inpaint: the source blended with the pattern by strength."""
    assert plan.image is not None
    base = _rgb(plan.image, plan.width, plan.height)
    mixed = base * (1 - plan.strength) + img * plan.strength
    if plan.mask is not None:
        mask = np.asarray(quantize_mask(plan.mask, plan.width, plan.height)) >= 128
        keep = base if plan.add_original_image else base + (img - base) * _UNMASKED_DRIFT
        mixed = np.where(mask[:, :, None], mixed, keep)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def _subject_alpha(width: int, height: int) -> Array:
    """Opaque central ellipse, transparent background: what a V5 transparent image looks like."""
    yy = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xx = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    return np.where(xx * xx / 0.49 + yy * yy / 0.64 <= 1.0, 255, 0).astype(np.uint8)


def metadata_chunks(plan: GenPlan, sample: int, seconds: float) -> dict[str, str]:
    """NovelAI's tEXt chunks. Source is the text NovelAI writes for the model (family + model
    hash) where that is known, so readers find the model as they do in real files; else a
    made-up hash marked "(simulator)". The Comment's signed_hash "simulator-unsigned" tells a
    simulator image from a real one."""
    model = plan.cap.base_model or plan.cap.id
    made_up = hashlib.sha256(model.encode()).hexdigest()[:8].upper()
    return {
        "Title": "AI generated image",
        "Description": plan.prompt,
        "Software": "NovelAI",
        "Source": source_text(model) or f"{plan.cap.source_name} (simulator) {made_up}",
        "Generation time": f"{seconds:.3f}",
        "Comment": json.dumps(plan.comment(sample), ensure_ascii=False),
    }


def encode_png(rgba: Array, chunks: Mapping[str, str]) -> bytes:
    """PNG with the chunks as tEXt and as the stealth alpha payload; fast compression."""
    image = Image.fromarray(rgba, "RGBA")
    if chunks:
        image = embed_stealth(image, chunks)
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=1)
    return add_text_chunks(buf.getvalue(), chunks) if chunks else buf.getvalue()


def encode_image(plan: GenPlan, rgba: Array, sample: int, seconds: float) -> bytes:
    if plan.image_format == "webp":
        buf = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buf, "WEBP", quality=90, method=0)
        return buf.getvalue()
    return encode_png(rgba, metadata_chunks(plan, sample, seconds))


def preview_base(rgba: Array) -> Array:
    """The downscaled final image that intermediate previews fade into (computed once)."""
    image = Image.fromarray(rgba[:, :, :3], "RGB")
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.NEAREST)
    return np.asarray(image, dtype=np.float32)


def preview_jpeg(small: Array, progress: float) -> bytes:
    """A small JPEG of a half-finished image: flat grey fading into the result."""
    blended = 128 * (1 - progress) + small * progress
    buf = io.BytesIO()
    Image.fromarray(blended.astype(np.uint8), "RGB").save(buf, "JPEG", quality=70)
    return buf.getvalue()
