"""Pillow helpers the converter needs: decode, resize, letterbox, mask quantisation, PNG/base64."""

from __future__ import annotations

import base64
import io
import math
from typing import TypeAlias

from PIL import Image, UnidentifiedImageError

from ..errors import InputError

ImageInput: TypeAlias = Image.Image | bytes

MASK_BLOCK = 8  # NovelAI works on 8-px latent blocks (contract §7)


def to_pil(image: ImageInput, *, field: str = "image") -> Image.Image:
    """A loaded PIL image from a PIL image or encoded PNG/JPEG/WebP bytes."""
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, bytes | bytearray):
        try:
            decoded = Image.open(io.BytesIO(bytes(image)))
            decoded.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(f"{field}: the bytes are not a PNG, JPEG or WebP image") from exc
        return decoded
    raise InputError(f"{field}: expected a PIL image or image bytes, got {type(image).__name__}")


def image_size(image: ImageInput, *, field: str = "image") -> tuple[int, int]:
    """(width, height) of an image input; encoded bytes are decoded whole, so broken data is
    refused here."""
    return to_pil(image, field=field).size


def _header(data: bytes | bytearray, field: str) -> tuple[str | None, tuple[int, int], str]:
    """(format, size, mode) of encoded image bytes, from the header alone (nothing decoded)."""
    try:
        with Image.open(io.BytesIO(bytes(data))) as header:
            return header.format, (header.width, header.height), header.mode
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{field}: the bytes are not a PNG, JPEG or WebP image") from exc


def header_size(image: ImageInput, *, field: str = "image") -> tuple[int, int]:
    """(width, height) from the header alone: encoded bytes are not decoded. Broken pixel data
    is then refused only when the converter decodes the image to build the body."""
    if isinstance(image, bytes | bytearray):
        return _header(image, field)[1]
    return to_pil(image, field=field).size


def png_bytes(image: Image.Image) -> bytes:
    """Encode as PNG; deterministic for equal pixels (no timestamps or extra chunks)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    """Plain base64 text, no ``data:`` prefix (the form NovelAI expects)."""
    return base64.b64encode(data).decode("ascii")


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def resize_exact(image: Image.Image, width: int, height: int) -> Image.Image:
    """The image at exactly width×height (img2img/infill sources must match the canvas)."""
    image = _rgb_or_rgba(image)
    if image.size == (width, height):
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS)


def exact_png(image: ImageInput, width: int, height: int, *, field: str = "image") -> bytes:
    """The picture as an img2img/inpaint source is sent: exactly width×height, RGB or RGBA,
    PNG. A PNG that already is (fitted once by the caller, as the Generate node does) is sent as
    it is; the local checks decode every source image first, so broken data never gets here."""
    if isinstance(image, bytes | bytearray) and _header(image, field) in (
        ("PNG", (width, height), "RGB"),
        ("PNG", (width, height), "RGBA"),
    ):
        return bytes(image)
    return png_bytes(resize_exact(to_pil(image, field=field), width, height))


def letterbox(
    image: Image.Image,
    canvas: tuple[int, int],
    *,
    mode: str = "RGB",
    fill: tuple[int, ...] = (0, 0, 0),
) -> Image.Image:
    """Scale to fit inside ``canvas`` keeping the aspect ratio, centred on a ``fill`` background."""
    source = image.convert(mode)
    cw, ch = canvas
    scale = min(cw / source.width, ch / source.height)
    size = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
    if size != source.size:
        source = source.resize(size, Image.Resampling.LANCZOS)
    out = Image.new(mode, canvas, fill)
    out.paste(source, ((cw - size[0]) // 2, (ch - size[1]) // 2))
    return out


def closest_canvas(size: tuple[int, int], canvases: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """The canvas whose aspect ratio is nearest (in log space) to ``size``'s."""
    ratio = math.log(size[0] / size[1])
    return min(canvases, key=lambda c: abs(math.log(c[0] / c[1]) - ratio))


def mask_to_gray(mask: Image.Image) -> Image.Image:
    """Mask as 8-bit gray, white = repaint; transparent pixels count as keep (black)."""
    if mask.mode in ("RGBA", "LA", "PA") or "transparency" in mask.info:
        rgba = mask.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("L")
    return mask.convert("L")


def quantize_mask(mask: Image.Image, width: int, height: int) -> Image.Image:
    """The web app's 8-px mask: box-downsample ÷8, threshold at 0.5, nearest-upsample ×8."""
    gray = mask_to_gray(mask)
    if gray.size != (width, height):
        gray = gray.resize((width, height), Image.Resampling.NEAREST)
    small = gray.resize((width // MASK_BLOCK, height // MASK_BLOCK), Image.Resampling.BOX)
    binary = small.point(lambda v: 255 if v >= 128 else 0)
    return binary.resize((width, height), Image.Resampling.NEAREST)
