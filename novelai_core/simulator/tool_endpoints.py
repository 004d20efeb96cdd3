"""Director tools, upscale and tag suggestions: cheap deterministic stand-ins for NovelAI's."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any, Final

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from ..contract.constants import (
    AUGMENT_TOOLS,
    EMOTIONS,
    MAX_PIXELS,
    UPSCALE_MAX_HEIGHT,
    UPSCALE_MAX_WIDTH,
)
from ..contract.cost import augment_cost, upscale_cost
from ..transport.archive import build_zip
from .context import ZIP_HEADERS, RequestContext, Response, json_response
from .go_decoding import AUGMENT_REQUEST, UPSCALE_REQUEST, decode
from .refusals import SimError, validation_error
from .render import encode_png
from .request_checks import get_model, get_model_or_none, image_bytes, integer, open_image

_PROMPT_TOOLS: Final = ("colorize", "emotion")
_TOOL_CHUNKS: Final = {"Software": "NovelAI", "Source": "NovelAI Director Tools (simulator)"}
# (tag, post count) for suggest-tags; the simulator's small built-in vocabulary.
TAGS: Final[tuple[tuple[str, int], ...]] = (
    ("1girl", 6_000_000), ("1boy", 1_700_000), ("solo", 5_000_000), ("long hair", 3_900_000),
    ("short hair", 2_000_000), ("blonde hair", 1_400_000), ("black hair", 1_300_000),
    ("blue eyes", 1_500_000), ("red eyes", 1_100_000), ("green eyes", 600_000),
    ("smile", 3_100_000), ("looking at viewer", 3_300_000), ("blush", 2_800_000),
    ("open mouth", 2_000_000), ("simple background", 1_700_000), ("white background", 1_400_000),
    ("transparent background", 90_000), ("outdoors", 800_000), ("indoors", 500_000),
    ("sky", 600_000), ("cloud", 450_000), ("tree", 300_000), ("flower", 500_000),
    ("cat ears", 300_000), ("animal ears", 900_000), ("school uniform", 700_000),
    ("dress", 1_000_000), ("hat", 900_000), ("holding", 1_200_000), ("sitting", 700_000),
    ("standing", 600_000), ("upper body", 900_000), ("full body", 700_000),
    ("masterpiece", 40_000), ("best quality", 30_000), ("very aesthetic", 20_000),
    ("scenery", 200_000), ("landscape", 60_000), ("night", 250_000), ("sunset", 60_000),
)  # fmt: skip
_SUGGESTIONS: Final = 10


def _source(ctx: RequestContext, body: dict[str, Any]) -> tuple[Image.Image, int, int]:
    _, parts = ctx.request()
    image = open_image(image_bytes(body.get("image"), "image", parts, ctx.multipart), "image")
    width = integer(body, "width", image.width, 1, 1 << 16)
    height = integer(body, "height", image.height, 1, 1 << 16)
    if width * height > MAX_PIXELS:
        raise validation_error(f"size {width}x{height} is larger than the maximum")
    rgb = ImageOps.exif_transpose(image).convert("RGB")
    return rgb.resize((width, height), Image.Resampling.BILINEAR), width, height


def _check_prompt(tool: str, body: dict[str, Any]) -> str:
    prompt: str = body.get("prompt", "")
    if tool == "emotion":
        emotion, sep, _ = prompt.partition(";;")
        if not sep or emotion.strip() not in EMOTIONS:
            raise validation_error(
                'emotion prompt must be "<emotion>;;<extra>" with a known emotion'
            )
    if tool in _PROMPT_TOOLS:
        integer(body, "defry", 0, 0, 5)
    return prompt


def _tint(gray: Image.Image, key: bytes, weight: float) -> Image.Image:
    colour = tuple(int(b) for b in key[:3])
    return (
        ImageOps.colorize(gray, (0, 0, 0), colour)
        .convert("RGB")
        .point(lambda v: int(v * weight + 255 * (1 - weight) * 0.5))
    )


def _tool_outputs(tool: str, image: Image.Image, prompt: str, defry: int) -> list[Image.Image]:
    key = hashlib.sha256(f"{tool}|{prompt}".encode()).digest()
    gray = ImageOps.grayscale(image)
    if tool == "lineart":
        return [ImageOps.invert(gray.filter(ImageFilter.FIND_EDGES)).convert("RGB")]
    if tool == "sketch":
        return [gray.filter(ImageFilter.CONTOUR).convert("RGB")]
    if tool == "colorize":
        return [_tint(gray, key, 1 - defry / 10)]
    if tool == "emotion":
        return [Image.blend(image, _tint(gray, key, 1.0), 0.3 - defry / 25)]
    if tool.startswith("declutter"):
        return [image.filter(ImageFilter.MedianFilter(5))]
    # bg-removal: (masked, generated, blend), the subject being a central ellipse.
    w, h = image.size
    yy = np.linspace(-1, 1, h)[:, None]
    xx = np.linspace(-1, 1, w)[None, :]
    alpha = Image.fromarray(np.where(xx**2 / 0.5 + yy**2 / 0.7 <= 1, 255, 0).astype(np.uint8))
    masked = image.convert("RGBA")
    masked.putalpha(alpha)
    generated = Image.new("RGB", image.size, tuple(int(b) for b in key[:3]))
    return [masked, generated, Image.composite(image, generated, alpha)]


def augment(ctx: RequestContext) -> Response:
    """POST /ai/augment-image: Director tools; bg-removal answers three images. JSON with
    base64, or the web app's multipart form (capture C)."""
    body = decode(ctx.json(), AUGMENT_REQUEST)
    tool = body.get("req_type")
    if tool not in AUGMENT_TOOLS:
        raise validation_error(f"req_type must be one of {', '.join(AUGMENT_TOOLS)}")
    prompt = _check_prompt(tool, body)
    image, width, height = _source(ctx, body)
    price = augment_cost(tool, width, height, tier=ctx.state.ledger.tier)
    defry = integer(body, "defry", 0, 0, 5)
    with ctx.state.generating(ctx.key):
        ctx.state.ledger.check(ctx.key, price)
        ctx.work(0)
        outputs = _tool_outputs(tool, image, prompt, defry)
        files = [
            (f"image_{i}.png", encode_png(np.asarray(out.convert("RGBA")), _TOOL_CHUNKS))
            for i, out in enumerate(outputs)
        ]
        ctx.charge(price)
    return Response(ctx.created_status(), build_zip(files), dict(ZIP_HEADERS))


def upscale(ctx: RequestContext) -> Response:
    """POST /ai/upscale (2026 body): a 2× PNG in a ZIP; source at most 1536×2048."""
    body = decode(ctx.json(), UPSCALE_REQUEST)
    if "model" in body:
        get_model(body)
    _, parts = ctx.request()
    image = open_image(image_bytes(body.get("image"), "image", parts, ctx.multipart), "image")
    w, h = image.size
    short, long = sorted((w, h))
    if short > UPSCALE_MAX_WIDTH or long > UPSCALE_MAX_HEIGHT:
        raise validation_error(
            f"image {w}x{h} is larger than {UPSCALE_MAX_WIDTH}x{UPSCALE_MAX_HEIGHT}"
        )
    price = upscale_cost(w, h)
    with ctx.state.generating(ctx.key):
        ctx.state.ledger.check(ctx.key, price)
        ctx.work(0)
        big = image.convert("RGBA").resize((w * 2, h * 2), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        big.save(buf, "PNG", compress_level=1)
        ctx.charge(price)
    if ctx.wants_json:  # R13: the schema's JSON reply (its seed field has nothing to say here)
        image_json = {"image": base64.b64encode(buf.getvalue()).decode(), "index": 0, "seed": 0}
        return json_response(200, {"images": [image_json]})
    return Response(200, build_zip([("image_0.png", buf.getvalue())]), dict(ZIP_HEADERS))


def suggest_tags(ctx: RequestContext) -> Response:
    """GET /ai/generate-image/suggest-tags?model=&prompt=&lang= → {"tags": [...]}."""
    model = ctx.query.get("model")
    if model:
        cap = get_model_or_none(model)
        if cap is None:
            raise SimError(400, "Model not found")  # R9 l (Q1, Q7)
    words = ctx.query.get("prompt", "").split(",")[-1].strip().lower()
    if not words:
        return json_response(200, {"tags": []})
    matches = [(t, c) for t, c in TAGS if words in t]
    matches.sort(key=lambda tc: (not tc[0].startswith(words), -tc[1]))
    top = max((c for _, c in matches), default=1)
    tags = [
        {"tag": t, "count": c, "confidence": round(0.5 + 0.5 * c / top, 4)}
        for t, c in matches[:_SUGGESTIONS]
    ]
    return json_response(200, {"tags": tags})
