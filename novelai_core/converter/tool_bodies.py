"""Bodies of the non-generation endpoints: encode-vibe, augment-image (Director tools), upscale.

Pure like the converter (which re-exports these builders); contract §8-§9.
"""

from __future__ import annotations

from typing import Any

from ..contract.capabilities import UnknownModelError, get_capability
from ..contract.constants import AUGMENT_TOOLS, EMOTIONS, MAX_PIXELS, UPSCALE_MODEL
from ..contract.tool_sizes import check_upscale_source
from ..errors import InputError
from ..models.wire import AugmentImageRequest, EncodeVibeRequest, UpscaleRequest, dump_wire
from .images import ImageInput, b64, png_bytes, to_pil

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _as_png(image: ImageInput, field_name: str) -> bytes:
    if isinstance(image, bytes) and image.startswith(_PNG_SIGNATURE):
        return image
    return png_bytes(to_pil(image, field=field_name))


def build_encode_vibe_request(
    image: ImageInput, *, model: str, information_extracted: float
) -> dict[str, Any]:
    """Body of /ai/encode-vibe for one image and generation model (V4/V4.5)."""
    try:
        cap = get_capability(model)
    except UnknownModelError as exc:
        raise InputError(f"model: {exc}") from None
    if cap.vibe_mode != "encoded":
        raise InputError(f"model: {model} does not use encoded vibes")
    if not 0.0 <= information_extracted <= 1.0:
        raise InputError(f"information_extracted: {information_extracted} is outside 0–1")
    body = EncodeVibeRequest(
        image=b64(_as_png(image, "image")),
        information_extracted=information_extracted,
        model=model,
    )
    return dump_wire(body)


def build_augment_request(
    tool: str,
    image: ImageInput,
    *,
    prompt: str | None = None,
    defry: int | None = None,
    emotion: str | None = None,
    emotion_extra: str = "",
) -> dict[str, Any]:
    """Body of /ai/augment-image (Director tools, contract §9)."""
    if tool not in AUGMENT_TOOLS:
        raise InputError(f"tool: {tool!r} is not one of {', '.join(AUGMENT_TOOLS)}")
    source = to_pil(image)
    width, height = source.size
    if width * height > MAX_PIXELS:
        raise InputError(f"image: {width}×{height} is above the maximum of {MAX_PIXELS} px")
    if defry is not None and not 0 <= defry <= 5:
        raise InputError(f"defry: {defry} is outside 0–5")
    text: str | None = None
    if tool == "emotion":
        if emotion not in EMOTIONS:
            raise InputError(f"emotion: {emotion!r} is not one of {', '.join(EMOTIONS)}")
        text = f"{emotion};;{emotion_extra}"
    elif tool == "colorize":
        text = prompt or ""
    takes_defry = tool in ("emotion", "colorize")
    body = AugmentImageRequest(
        req_type=tool,
        image=b64(_as_png(image, "image")),
        width=width,
        height=height,
        prompt=text,
        defry=(defry or 0) if takes_defry else None,
    )
    return dump_wire(body)


def build_upscale_request(image: ImageInput) -> dict[str, Any]:
    """Body of the 2026 /ai/upscale (2× upscale); sources up to 1536×2048 either way round."""
    check_upscale_source(*to_pil(image).size)
    body = UpscaleRequest(image=b64(_as_png(image, "image")), model=UPSCALE_MODEL)
    return dump_wire(body)
