"""PIL images and PNG bytes ↔ ComfyUI tensors: IMAGE [B,H,W,3] and MASK [B,H,W], float32 0..1, CPU.

torch and numpy are imported inside the functions: importing the pack must stay fast.
Alpha becomes a MASK the way ComfyUI's LoadImage does it: mask = 1 − alpha, so an opaque image
gives zeros and a transparent background gives ones.
"""

from __future__ import annotations

import functools
import io
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

# Modes whose first three channels are R, G, B (CMYK's are not): PIL packs their RGB directly.
_RGB_PACKABLE = ("RGB", "RGBA", "RGBX")

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import numpy.typing as npt
    import torch
    from PIL import Image

Read = TypeVar("Read")

_pool_lock = threading.Lock()
_shared_pool: ThreadPoolExecutor | None = None


def decode_image(data: bytes) -> Image.Image:
    """A loaded PIL image from encoded bytes (PNG, JPEG, WebP)."""
    image = _opened(data)
    image.load()
    return image


def _opened(data: bytes) -> Image.Image:
    """The image with its header read (size and mode known), its pixels not yet decoded."""
    from PIL import Image

    return Image.open(io.BytesIO(data))


def images_to_tensors(
    images: Sequence[Image.Image], *, alpha: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack same-sized PIL images into (IMAGE [B,H,W,3], MASK [B,H,W]).

    ``alpha=False`` leaves the MASK zeros without reading the alpha channel (for images whose
    alpha is known to carry no transparency).
    """
    import numpy as np
    import torch

    if not images:
        raise ValueError("no images to convert")
    width, height = size = images[0].size
    for image in images:
        if image.size != size:
            raise ValueError(f"images of one batch differ in size: {image.size} vs {size}")
    batch = np.empty((len(images), height, width, 3), dtype=np.float32)
    mask = np.zeros((len(images), height, width), dtype=np.float32)

    def fill(index: int) -> None:
        image = images[index]
        _readable(image.load, index)  # pixels not read yet (pngs_to_tensors) are decoded here
        _rgb_into(image, batch[index])
        if alpha and _has_alpha(image):
            _alpha_into(image, mask[index])

    _each(fill, len(images))
    return torch.from_numpy(batch), torch.from_numpy(mask)


def pngs_to_tensors(
    encoded: Sequence[bytes], *, alpha: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode images (PNG, WebP, JPEG bytes) and stack them as ``images_to_tensors`` does (a
    batch decodes on parallel threads); DecodeError names an image PIL cannot read."""
    images = [_readable(functools.partial(_opened, data), i) for i, data in enumerate(encoded)]
    return images_to_tensors(images, alpha=alpha)


def _readable(read: Callable[[], Read], index: int) -> Read:
    """read(), with PIL's errors for unreadable bytes turned into a DecodeError naming the image."""
    try:
        return read()
    except (OSError, ValueError, SyntaxError) as exc:
        from ...novelai_core.errors import DecodeError

        raise DecodeError(f"image {index} is in a form PIL cannot read: {exc}") from exc


def _each(work: Callable[[int], None], count: int) -> None:
    """work(0) … work(count − 1); a batch runs on parallel threads, one image each (PIL's
    decoders and numpy's casts release the GIL). Raises the first item's error."""
    if count == 1:
        work(0)
        return
    for _ in _pool().map(work, range(count)):
        pass


def _pool() -> ThreadPoolExecutor:
    """The decoding threads, started once and kept (the interpreter ends them at exit)."""
    global _shared_pool  # noqa: PLW0603 - one pool per process
    from concurrent.futures import ThreadPoolExecutor

    with _pool_lock:
        if _shared_pool is None:
            threads = min(os.cpu_count() or 1, 8)  # a batch holds at most 8 images
            _shared_pool = ThreadPoolExecutor(threads, thread_name_prefix="novelai-decode")
        return _shared_pool


def _rgb_into(image: Image.Image, out: npt.NDArray[np.float32]) -> None:
    """out = the image's RGB pixels / 255 as float32: a cast copy, then an in-place scale."""
    import numpy as np

    source = image if image.mode in _RGB_PACKABLE else image.convert("RGB")
    packed = np.frombuffer(source.tobytes("raw", "RGB"), dtype=np.uint8)
    np.copyto(out, packed.reshape(image.height, image.width, 3))
    np.multiply(out, np.float32(1.0 / 255.0), out=out)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _alpha_into(image: Image.Image, out: npt.NDArray[np.float32]) -> None:
    """out = (255 − alpha) / 255, as ComfyUI's LoadImage makes its MASK."""
    import numpy as np

    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    alpha = np.frombuffer(rgba.tobytes("raw", "A"), dtype=np.uint8)
    np.subtract(np.float32(255), alpha.reshape(image.height, image.width), out=out)
    np.multiply(out, np.float32(1.0 / 255.0), out=out)


def tensor_to_pil(image: torch.Tensor, index: int = 0) -> Image.Image:
    """One image of an IMAGE batch (or a single [H,W,C] image) as a PIL RGB/RGBA image."""
    from PIL import Image

    frame = image[index] if image.dim() == 4 else image
    if frame.dim() != 3 or frame.shape[-1] not in (1, 3, 4):
        raise ValueError(f"expected an IMAGE tensor [B,H,W,3], got shape {tuple(image.shape)}")
    array = _to_uint8(frame)
    if array.shape[-1] == 1:
        return Image.fromarray(array[..., 0], mode="L").convert("RGB")
    return Image.fromarray(array, mode="RGBA" if array.shape[-1] == 4 else "RGB")


def mask_to_pil(mask: torch.Tensor, index: int = 0) -> Image.Image:
    """One mask of a MASK batch ([B,H,W] or [H,W]) as an 8-bit gray image, 1.0 → white."""
    from PIL import Image

    frame = mask[index] if mask.dim() == 3 else mask
    if frame.dim() != 2:
        raise ValueError(f"expected a MASK tensor [B,H,W], got shape {tuple(mask.shape)}")
    return Image.fromarray(_to_uint8(frame), mode="L")


def _to_uint8(frame: torch.Tensor) -> npt.NDArray[np.uint8]:
    import torch

    scaled = frame.detach().to("cpu", torch.float32).clamp(0.0, 1.0).mul(255.0).round()
    return scaled.to(torch.uint8).numpy()
