"""Sizes the web app sends for Director tools, Enhance and Upscale (pure arithmetic, no I/O).

Director tools: the web app scales the source so its area lies between 1,011,712 px and
3,145,728 − 2,000 px, keeping the aspect ratio with integer (floored) sides. Small images are
therefore scaled UP to about 1 MP, which is why a 512×512 background removal costs as much as a
1 MP one. (From the 2026 web bundle as read by a public client; the contract's §9 names the
endpoint but not this rule.)
"""

from __future__ import annotations

import math
from typing import Final

from ..errors import InputError
from .constants import MAX_PIXELS, SIZE_STEP, UPSCALE_MAX_HEIGHT, UPSCALE_MAX_WIDTH

DIRECTOR_MAX_PIXELS: Final = MAX_PIXELS - 2_000
DIRECTOR_MIN_PIXELS: Final = 1_011_712
ENHANCE_MAGNITUDES: Final[tuple[float, ...]] = (1.0, 1.5, 2.0)
# Enhance Max (V5) is offered for sources under 2,516,582.4 px (R10); kept ×5 to stay integral.
ENHANCE_MAX_PIXELS_X5: Final = 12_582_912


def director_size(width: int, height: int) -> tuple[int, int]:
    """The width × height the web app sends a ``width × height`` source to /ai/augment-image at."""
    if width <= 0 or height <= 0:
        raise InputError(f"image: {width}×{height} is empty")
    area = width * height
    scale = 1.0
    if area > DIRECTOR_MAX_PIXELS:
        scale = math.sqrt(DIRECTOR_MAX_PIXELS / area)
    elif area < DIRECTOR_MIN_PIXELS:
        scale = math.sqrt(DIRECTOR_MIN_PIXELS / area)
    w = max(1, math.floor(width * scale))
    h = max(1, math.floor(height * scale))
    while w * h > DIRECTOR_MAX_PIXELS:  # float rounding can leave it a hair too big
        w -= 1
        h = max(1, math.floor(w * height / width))
    return w, h


def enhance_size(width: int, height: int, magnitude: float) -> tuple[int, int]:
    """The img2img canvas for Enhance: the source × ``magnitude``, sides rounded half up to 64.

    Raises InputError when the result is above NovelAI's 3 MiP generation limit.
    """
    if magnitude not in ENHANCE_MAGNITUDES:
        raise InputError(f"magnitude: {magnitude} is not one of {ENHANCE_MAGNITUDES}")
    w = max(SIZE_STEP, math.floor(width * magnitude / SIZE_STEP + 0.5) * SIZE_STEP)
    h = max(SIZE_STEP, math.floor(height * magnitude / SIZE_STEP + 0.5) * SIZE_STEP)
    if w * h > MAX_PIXELS:
        raise InputError(
            f"image: enhancing {width}×{height} at ×{magnitude:g} needs {w}×{h}, above NovelAI's "
            f"limit of {MAX_PIXELS} px; use ×1 or a smaller image"
        )
    return w, h


def enhance_max_size(width: int, height: int) -> tuple[int, int]:
    """The size NovelAI enlarges an Enhance-Max request to (R10: ×min(2, √(3 MiP / px)),
    832×1216 → 1467×2144 live); the price follows this size, not the request's."""
    scale = min(2.0, math.sqrt(MAX_PIXELS / (width * height)))
    return math.floor(width * scale), math.floor(height * scale)


def check_upscale_source(width: int, height: int) -> None:
    """Raise InputError unless the 2026 upscaler takes the source (1536×2048 either way round)."""
    short, long = sorted((width, height))
    if short > UPSCALE_MAX_WIDTH or long > UPSCALE_MAX_HEIGHT:
        raise InputError(
            f"image: {width}×{height} is above the upscale limit of "
            f"{UPSCALE_MAX_WIDTH}×{UPSCALE_MAX_HEIGHT} (either orientation); nothing was sent"
        )
