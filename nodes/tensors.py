"""PIL images and PNG bytes ↔ ComfyUI tensors: IMAGE [B,H,W,3] and MASK [B,H,W], float32 0..1, CPU.

torch and numpy are imported inside the functions: importing the pack must stay fast.
Alpha becomes a MASK the way ComfyUI's LoadImage does it: mask = 1 − alpha, so an opaque image
gives zeros and a transparent background gives ones.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

_MAX_THREADS = 8  # n_samples is at most 8
# Modes whose first three channels are R, G, B (CMYK's are not): PIL packs their RGB directly.
_RGB_PACKABLE = ("RGB", "RGBA", "RGBX")

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from PIL import Image

_pool_lock = threading.Lock()
_shared_pool: ThreadPoolExecutor | None = None


def decode_image(data: bytes) -> Image.Image:
    """A loaded PIL image from encoded bytes (PNG, JPEG, WebP)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def images_to_tensors(images: Sequence[Image.Image]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack same-sized PIL images into (IMAGE [B,H,W,3], MASK [B,H,W]).

    One float32 buffer is allocated per output and no intermediate float array is made: each
    image's packed RGB bytes are cast into its slice, which is then scaled in place.
    """
    import numpy as np
    import torch

    if not images:
        raise ValueError("no images to convert")
    width, height = images[0].size
    for image in images:
        if image.size != (width, height):
            raise ValueError(
                f"images of one batch differ in size: {image.size} vs {(width, height)}"
            )
    # numpy buffers, shared with torch by from_numpy (no copy).
    batch = np.empty((len(images), height, width, 3), dtype=np.float32)
    mask = np.zeros((len(images), height, width), dtype=np.float32)

    def fill(index: int) -> None:
        _image_into(images[index], batch[index], mask[index])

    _each(fill, len(images))
    return torch.from_numpy(batch), torch.from_numpy(mask)


def pngs_to_tensors(encoded: Sequence[bytes]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode images (PNG, WebP, JPEG bytes) and stack them as ``images_to_tensors`` does;
    DecodeError names an image PIL cannot read."""
    images: list[Any] = [None] * len(encoded)

    def decode(index: int) -> None:
        try:
            images[index] = decode_image(encoded[index])
        except (OSError, ValueError, SyntaxError) as exc:
            from ..novelai_core.errors import DecodeError

            raise DecodeError(f"image {index} is in a form PIL cannot read: {exc}") from exc

    _each(decode, len(encoded))
    return images_to_tensors(images)


def _pool() -> ThreadPoolExecutor:
    """The decoding threads, started once: starting a thread per call costs about as much as
    the work it would take over (idle threads wait; the interpreter ends them at exit)."""
    global _shared_pool  # noqa: PLW0603 - one pool per process is the point
    from concurrent.futures import ThreadPoolExecutor

    with _pool_lock:
        if _shared_pool is None:
            workers = min(os.cpu_count() or 1, _MAX_THREADS)
            _shared_pool = ThreadPoolExecutor(workers, thread_name_prefix="novelai-decode")
        return _shared_pool


def _each(work: Callable[[int], None], count: int) -> None:
    """work(0) … work(count − 1); a batch runs on parallel threads, one image each: PIL's
    decoders and numpy's casts release the GIL, so a 4-image batch takes about a quarter.
    Every item has finished when it returns (or raises the first item's error)."""
    if count == 1:
        work(0)
        return
    from concurrent.futures import wait

    # Items never wait for other items, so sharing the pool cannot deadlock.
    futures = [_pool().submit(work, index) for index in range(count)]
    wait(futures)
    for future in futures:
        future.result()


def _image_into(image: Image.Image, out: Any, mask_out: Any) -> None:
    import numpy as np

    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    # Two plain loops (cast copy, then an in-place float scale) run about 3x faster than one
    # np.multiply over uint8, which casts through small buffers.
    np.copyto(out, _rgb_array(image))
    np.multiply(out, np.float32(1.0 / 255.0), out=out)
    if has_alpha:
        _alpha_into_mask(image if image.mode == "RGBA" else image.convert("RGBA"), mask_out)


def _rgb_array(image: Image.Image) -> Any:
    """The image's RGB pixels as a contiguous uint8 [H,W,3] array (read-only).

    PIL keeps RGB/RGBA/RGBX pixels in four bytes; its raw packer writes the RGB bytes straight
    from them in one pass (a convert("RGB") first would copy the whole image once more).
    """
    import numpy as np

    source = image if image.mode in _RGB_PACKABLE else image.convert("RGB")
    raw = source.tobytes("raw", "RGB")
    return np.frombuffer(raw, dtype=np.uint8).reshape(image.height, image.width, 3)


def _alpha_into_mask(rgba: Image.Image, out: Any) -> None:
    """out = (255 − alpha) / 255, written only inside the box where alpha is below 255;
    ``out`` is zeros elsewhere already. An opaque NovelAI image carries its stealth metadata in
    the alpha of a few columns only, so most of the mask is never touched. The box: the columns
    whose lowest alpha is below 255 (one min over the rows), then the rows within those columns.
    """
    import numpy as np

    alpha = np.frombuffer(rgba.tobytes("raw", "A"), dtype=np.uint8)
    alpha = alpha.reshape(rgba.height, rgba.width)
    if not alpha.size:
        return
    columns = np.flatnonzero(np.minimum.reduce(alpha, axis=0) < 255)
    if not columns.size:
        return
    left, right = int(columns[0]), int(columns[-1]) + 1
    rows = np.flatnonzero(np.minimum.reduce(alpha[:, left:right], axis=1) < 255)
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    region = out[top:bottom, left:right]
    np.subtract(np.float32(255), alpha[top:bottom, left:right], out=region)
    np.multiply(region, np.float32(1.0 / 255.0), out=region)


def tensor_to_pil(image: Any, index: int = 0) -> Image.Image:
    """One image of an IMAGE batch (or a single [H,W,C] image) as a PIL RGB/RGBA image."""
    from PIL import Image

    frame = image[index] if image.dim() == 4 else image
    if frame.dim() != 3 or frame.shape[-1] not in (1, 3, 4):
        raise ValueError(f"expected an IMAGE tensor [B,H,W,3], got shape {tuple(image.shape)}")
    array = _to_uint8(frame)
    if array.shape[-1] == 1:
        return Image.fromarray(array[..., 0], mode="L").convert("RGB")
    return Image.fromarray(array, mode="RGBA" if array.shape[-1] == 4 else "RGB")


def mask_to_pil(mask: Any, index: int = 0) -> Image.Image:
    """One mask of a MASK batch ([B,H,W] or [H,W]) as an 8-bit gray image, 1.0 → white."""
    from PIL import Image

    frame = mask[index] if mask.dim() == 3 else mask
    if frame.dim() != 2:
        raise ValueError(f"expected a MASK tensor [B,H,W], got shape {tuple(mask.shape)}")
    return Image.fromarray(_to_uint8(frame), mode="L")


def _to_uint8(frame: Any) -> Any:
    import torch

    scaled = frame.detach().to("cpu", torch.float32).clamp(0.0, 1.0).mul(255.0).round()
    return scaled.to(torch.uint8).numpy()
