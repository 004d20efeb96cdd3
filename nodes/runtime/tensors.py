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
from typing import TYPE_CHECKING, Any

_MAX_THREADS = 8  # n_samples is at most 8
_MIN_BAND_ROWS = 128  # below this a band's cast is too short to be worth a thread
# Modes whose first three channels are R, G, B (CMYK's are not): PIL packs their RGB directly.
_RGB_PACKABLE = ("RGB", "RGBA", "RGBX")

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    import torch
    from PIL import Image

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

    One float32 buffer is allocated per output and no intermediate float array is made: each
    image's packed RGB bytes are cast into its slice, which is then scaled in place.
    ``alpha=False`` leaves the MASK zeros without reading the alpha channel (for images whose
    alpha is known to carry no transparency).
    """
    if not images:
        raise ValueError("no images to convert")
    return _filled(images, _buffers(len(images), images[0].size), alpha)


def _buffers(count: int, size: tuple[int, int]) -> tuple[Any, Any]:
    """Empty IMAGE and zero MASK numpy buffers (shared with torch by from_numpy, no copy)."""
    import numpy as np

    width, height = size
    batch = np.empty((count, height, width, 3), dtype=np.float32)
    mask = np.zeros((count, height, width), dtype=np.float32)
    return batch, mask


def _filled(
    images: Sequence[Image.Image], buffers: tuple[Any, Any], alpha: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    batch, mask = buffers
    size = images[0].size
    for image in images:
        if image.size != size:
            raise ValueError(f"images of one batch differ in size: {image.size} vs {size}")
    if len(images) == 1:
        _one_image_into(images[0], batch[0], mask[0] if alpha else None)
    else:

        def fill(index: int) -> None:
            _image_into(images[index], batch[index], mask[index] if alpha else None)

        _each(fill, len(images))
    return torch.from_numpy(batch), torch.from_numpy(mask)


def pngs_to_tensors(
    encoded: Sequence[bytes], *, alpha: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode images (PNG, WebP, JPEG bytes) and stack them as ``images_to_tensors`` does;
    DecodeError names an image PIL cannot read. Call it from a node's thread, never from a
    decoding thread (``in_background``): it waits for work it hands to those threads."""
    if len(encoded) == 1:
        from . import png_overlap

        image = _readable(lambda: _opened(encoded[0]), 0)
        if _workers() > 1 and png_overlap.eligible(image):
            return _overlapped(image, len(encoded[0]), alpha)
        # The output buffers are allocated (and the mask zeroed) on another thread while
        # this one decodes: the header gives the size before the pixels are read.
        buffers = _pool().submit(_buffers, 1, image.size)
        _readable(image.load, 0)
        return _filled([image], buffers.result(), alpha)
    images: list[Any] = [None] * len(encoded)

    def decode(index: int) -> None:
        images[index] = _readable(lambda: decode_image(encoded[index]), index)

    _each(decode, len(encoded))
    return images_to_tensors(images, alpha=alpha)


def _overlapped(image: Image.Image, size: int, alpha: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """A lone NovelAI PNG: its rows are cast on a decoding thread while this one decodes."""
    import numpy as np
    import torch

    from . import png_overlap

    width, height = image.size
    batch = np.empty((1, height, width, 3), dtype=np.float32)
    # Zeroing the mask (a memset where malloc recycles memory) runs beside the decode too.
    zeros = _pool().submit(np.zeros, (1, height, width), dtype=np.float32)
    cast_during = _readable(
        lambda: png_overlap.decode_casting(image, size, batch[0], _pool(), _cast_rgba_rows), 0
    )
    mask = zeros.result()
    if not cast_during:  # a Pillow that decodes into its own memory: convert afterwards
        _readable(image.load, 0)
        _one_image_into(image, batch[0], None)
    if alpha:
        _alpha_into_mask(image, mask[0])
    return torch.from_numpy(batch), torch.from_numpy(mask)


def in_background(work: Callable[[], Any]) -> Future[Any]:
    """Run ``work`` on a decoding thread (for side work that can overlap a decode)."""
    return _pool().submit(work)


def _readable(read: Callable[[], Any], index: int) -> Any:
    """read(), with PIL's errors for unreadable bytes turned into a DecodeError naming the image."""
    try:
        return read()
    except (OSError, ValueError, SyntaxError) as exc:
        from ...novelai_core.errors import DecodeError

        raise DecodeError(f"image {index} is in a form PIL cannot read: {exc}") from exc


def _pool() -> ThreadPoolExecutor:
    """The decoding threads, started once: starting a thread per call costs about as much as
    the work it would take over (idle threads wait; the interpreter ends them at exit)."""
    global _shared_pool  # noqa: PLW0603 - one pool per process is the point
    from concurrent.futures import ThreadPoolExecutor

    with _pool_lock:
        if _shared_pool is None:
            _shared_pool = ThreadPoolExecutor(_workers(), thread_name_prefix="novelai-decode")
        return _shared_pool


@functools.cache
def _workers() -> int:
    """Threads for decoding (asked once: os.cpu_count() reads /sys on every call)."""
    return min(os.cpu_count() or 1, _MAX_THREADS)


def _each(work: Callable[[int], None], count: int) -> None:
    """work(0) … work(count − 1); a batch runs on parallel threads, one image each: PIL's
    decoders and numpy's casts release the GIL, so a 4-image batch takes about a quarter.
    Every item has finished when it returns (or raises the first item's error)."""
    if count == 1:
        work(0)
        return
    # Items never wait for other items, so sharing the pool cannot deadlock.
    _run_all([_pool().submit(work, index) for index in range(count)])


def _run_all(futures: list[Any]) -> None:
    from concurrent.futures import wait

    wait(futures)
    for future in futures:
        future.result()


def _image_into(image: Image.Image, out: Any, mask_out: Any | None) -> None:
    """One image into its IMAGE slice (and, unless ``mask_out`` is None, its MASK slice)."""
    if mask_out is not None and _has_alpha(image):
        _alpha_into_mask(_as_rgba(image), mask_out)
    _cast_rows(_rgb_array(image), out, 0, image.height)


def _one_image_into(image: Image.Image, out: Any, mask_out: Any | None) -> None:
    """``_image_into`` for a lone image, with its work spread over the decoding threads (a
    batch spreads whole images instead): the mask on one thread while the RGB bytes are
    packed here, then the cast and scale in bands of rows, which numpy runs without the GIL."""
    if _workers() == 1:
        _image_into(image, out, mask_out)
        return
    pool = _pool()
    jobs = []
    if mask_out is not None and _has_alpha(image):
        jobs.append(pool.submit(_alpha_into_mask, _as_rgba(image), mask_out))
    rgb = _rgb_array(image)
    height = image.height
    bands = max(1, min(_workers(), height // _MIN_BAND_ROWS))
    edges = [height * k // bands for k in range(bands + 1)]
    jobs += [pool.submit(_cast_rows, rgb, out, edges[k], edges[k + 1]) for k in range(1, bands)]
    _cast_rows(rgb, out, edges[0], edges[1])
    _run_all(jobs)


def _cast_rows(rgb: Any, out: Any, top: int, bottom: int) -> None:
    """out[top:bottom] = rgb[top:bottom] / 255 as float32. Two plain loops (cast copy, then an
    in-place scale) run about 3x faster than one np.multiply over uint8, which casts through
    small buffers."""
    import numpy as np

    band = out[top:bottom]
    np.copyto(band, rgb[top:bottom])
    np.multiply(band, np.float32(1.0 / 255.0), out=band)


def _cast_rgba_rows(rgba: Any, out: Any, top: int, bottom: int) -> None:
    """out[top:bottom] from the rows of an RGBA uint8 [H,W,4] array: PIL packs their RGB bytes
    (no copy of the band first: it is mapped), then ``_cast_rows`` casts and scales them."""
    import numpy as np
    from PIL import Image

    rows, width = bottom - top, rgba.shape[1]
    band = Image.frombuffer("RGBA", (width, rows), rgba[top:bottom], "raw", "RGBA", 0, 1)
    packed = np.frombuffer(band.tobytes("raw", "RGB"), dtype=np.uint8)
    _cast_rows(packed.reshape(rows, width, 3), out[top:bottom], 0, rows)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _as_rgba(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGBA" else image.convert("RGBA")


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
