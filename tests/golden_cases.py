"""Golden request cases (one per model family × mode) and the image scrubber for golden files.

Source images are solid colours so that resizing/letterboxing gives the same pixels on every
Pillow build; placeholders hash decoded pixels, not PNG bytes (zlib output varies by version).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from novelai_core.models.user import (
    Character,
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Prompt,
    Vibe,
)

_IMAGE_KEYS = ("image", "mask")
_IMAGE_LIST_KEYS = ("reference_image_multiple", "director_reference_images")


def solid(size: tuple[int, int], colour: tuple[int, ...], mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def box_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return mask


def describe_bytes(data: bytes) -> str:
    """A short stable description: PNG → size, mode and pixel hash; other bytes → sha256."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        image = Image.open(io.BytesIO(data))
        image.load()
        pixels = hashlib.sha256(image.tobytes()).hexdigest()[:16]
        return f"png {image.width}x{image.height} {image.mode} pixels-sha256:{pixels}"
    return f"bytes {len(data)} sha256:{hashlib.sha256(data).hexdigest()[:16]}"


def _describe_b64(text: str) -> str:
    try:
        return describe_bytes(base64.b64decode(text, validate=True))
    except binascii.Error:
        return text  # a multipart part name such as "image"


def scrub(body: dict[str, Any]) -> dict[str, Any]:
    """The body with every base64 image/encoding replaced by its description."""
    params = dict(body["parameters"])
    for key in _IMAGE_KEYS:
        if key in params:
            params[key] = _describe_b64(params[key])
    for key in _IMAGE_LIST_KEYS:
        if key in params:
            params[key] = [_describe_b64(item) for item in params[key]]
    return {**body, "parameters": params}


def _v3_txt2img() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-3",
        prompt=Prompt(text="1girl, {smile}, [forest]", negative="bad hands"),
        settings=GenerationSettings(
            seed=1234, sampler="k_euler", smea=True, smea_dyn=True, decrisper=True
        ),
    )


def _v3_vibe() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-3",
        prompt=Prompt(text="landscape, sunset", uc_preset="light"),
        settings=GenerationSettings(width=1216, height=832, seed=42, steps=28),
        vibes=(
            Vibe(image=solid((300, 200), (10, 120, 200)), information_extracted=0.8, strength=0.5),
        ),
    )


def _furry_v3() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-furry-3",
        prompt=Prompt(text="fox, forest", uc_preset="none", negative="blurry"),
        settings=GenerationSettings(width=1024, height=1024, seed=7, variety=True),
    )


def _v4_curated_txt2img() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-4-curated-preview",
        prompt=Prompt(text="a cat on a sofa", uc_preset="light"),
        settings=GenerationSettings(seed=99, scale=6.0, noise_schedule="exponential"),
    )


def _v4_full_characters() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-4-full",
        prompt=Prompt(text="2girls, nsfw, beach", negative="extra arms"),
        settings=GenerationSettings(seed=5, sampler="k_dpmpp_2m"),
        characters=(
            Character(prompt="girl, red hair", uc="blue hair", position="B2"),
            Character(prompt="girl, blue hair", position=(0.62, 0.33)),
            Character(prompt="dropped: disabled", enabled=False),
            Character(prompt="   "),
        ),
    )


def _v45_full_txt2img() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-4-5-full",
        prompt=Prompt(text="1girl, reading | library", negative="glasses", uc_preset="human"),
        settings=GenerationSettings(
            width=1024, height=1536, seed=4_294_967_288, variety=True, cfg_rescale=0.2
        ),
    )


def _v45_curated_characters() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-4-5-curated",
        prompt=Prompt(text="2boys, park, text: HELLO", uc_preset="none", negative="rain"),
        settings=GenerationSettings(seed=2024),
        characters=(
            Character(prompt="boy, cap", uc="sunglasses"),
            Character(prompt="boy, scarf"),
        ),
    )


def _v45_img2img() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-4-5-full",
        prompt=Prompt(text="castle, night"),
        settings=GenerationSettings(seed=1000),
        source=Img2ImgSource(image=solid((416, 608), (90, 60, 30)), strength=0.6, noise=0.1),
    )


def _v45_inpaint() -> GenerationRequest:
    size = (832, 1216)
    return GenerationRequest(
        model="nai-diffusion-4-5-full",
        prompt=Prompt(text="1girl, hat"),
        settings=GenerationSettings(seed=77),
        source=InpaintSource(
            image=solid(size, (200, 200, 200)),
            mask=box_mask(size, (100, 100, 405, 300)),
            img2img_strength=0.8,
        ),
    )


def _v45_vibe() -> GenerationRequest:
    model = "nai-diffusion-4-5-full"
    return GenerationRequest(
        model=model,
        prompt=Prompt(text="1girl, city"),
        settings=GenerationSettings(seed=3),
        vibes=(
            Vibe(encoding=b"\x01encoded-vibe-one", encoding_model=model, strength=0.7),
            Vibe(
                encoding=b"\x02encoded-vibe-two",
                encoding_model=model,
                strength=0.4,
                information_extracted=0.5,
            ),
        ),
    )


def _v45_character_reference() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-4-5-full",
        prompt=Prompt(text="1girl, running"),
        settings=GenerationSettings(seed=11),
        character_references=(
            CharacterReference(
                image=solid((600, 400), (250, 0, 120)), mode="character", strength=0.9, fidelity=0.7
            ),
        ),
    )


def _v5_characters() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-5-full",
        prompt=Prompt(text="3girls, cafe", negative="logo", quality_preset="light"),
        settings=GenerationSettings(seed=555, transparent_background=True),
        characters=(
            Character(prompt="girl, waitress", position=(0.25, 0.42)),
            Character(prompt="girl, customer", uc="hat", position="E5"),
            Character(prompt="girl, cook"),
        ),
    )


def _v5_img2img() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-5-full",
        prompt=Prompt(text="portrait", quality=False, uc_preset="light"),
        settings=GenerationSettings(seed=0, width=1024, height=1024, steps=28),
        source=Img2ImgSource(image=solid((512, 512), (30, 200, 30))),
    )


def _v5_curated_inpaint_fallback() -> GenerationRequest:
    size = (832, 1216)
    return GenerationRequest(
        model="nai-diffusion-5-curated",
        prompt=Prompt(text="1girl, umbrella"),
        settings=GenerationSettings(seed=8),
        source=InpaintSource(
            image=solid(size, (20, 20, 60)),
            mask=box_mask(size, (0, 600, 832, 1216)),
            add_original_image=True,
        ),
    )


CASES: dict[str, Callable[[], GenerationRequest]] = {
    "v3_txt2img": _v3_txt2img,
    "v3_vibe": _v3_vibe,
    "furry_v3_txt2img": _furry_v3,
    "v4_curated_txt2img": _v4_curated_txt2img,
    "v4_full_characters": _v4_full_characters,
    "v4_5_full_txt2img": _v45_full_txt2img,
    "v4_5_curated_characters": _v45_curated_characters,
    "v4_5_img2img": _v45_img2img,
    "v4_5_inpaint": _v45_inpaint,
    "v4_5_vibe_encoded": _v45_vibe,
    "v4_5_character_reference": _v45_character_reference,
    "v5_characters_free_positions": _v5_characters,
    "v5_img2img": _v5_img2img,
    "v5_curated_inpaint_fallback": _v5_curated_inpaint_fallback,
}
