"""A lone PNG decoded on the calling thread while a second thread casts the rows already decoded.

Decoding a NovelAI PNG (inflate + unfilter) is ~80% of turning it into an IMAGE tensor and
cannot be split across threads; the RGB packing and float cast after it can. So the cast runs
*during* the decode, a band of rows at a time, on a decoding thread ("the follower").

How the follower knows which rows are final. The decoder writes into a numpy buffer we own
(PIL maps an RGBA image onto it) and fills it row after row, top to bottom. Before decoding,
the alpha byte of each row's last pixel is set to ``SENTINEL``; a row whose mark has changed
has been written, and so have all rows above it. PIL asks ``load_read`` for the next piece of
compressed data between decoder calls, so there, on the decoding thread itself, the marks are
read (a binary search, a few microseconds) and the count of finished rows is handed to the
follower through a queue (which also orders the memory: the follower reads only rows written
before the count was sent). A row that happens to decode to the mark is only found late, by a
row below it: the count never runs ahead of the decoder.

The follower reads finished rows without copying the image. Every row is cast once; the last
ones after the decode ends. Only a plain 8-bit RGBA, non-interlaced, single-frame PNG takes this
path (every NovelAI image); anything else, or a Pillow that decodes differently, is decoded the
plain way.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Executor

SENTINEL = 0x3C  # no alpha NovelAI gives an opaque image (254, 255); rare in any other
_PIECES = 24  # how many pieces the compressed data is read in (more: finer overlap)
_MIN_PIECE = 4096
_MAX_PIECE = 64 * 1024  # PIL's own read size
MIN_ROWS = 256  # a smaller image decodes too fast for a second thread to pay off

CastRows = Callable[[Any, Any, int, int], None]
Events = queue.SimpleQueue[tuple[str, Any]]  # ("rows", finished rows) / ("end", decoded in full)


def eligible(image: Any) -> bool:
    """True for an opened (not yet loaded) 8-bit RGBA, non-interlaced, single-frame PNG."""
    tile = getattr(image, "tile", None)
    if image.format != "PNG" or image.mode != "RGBA" or not tile or len(tile) != 1:
        return False
    codec, extents, _offset, args = tile[0]
    width, height = image.size
    return (
        codec == "zip"
        and tuple(extents) == (0, 0, width, height)
        and args == "RGBA"
        and not image.info.get("interlace")
        and not getattr(image, "is_animated", False)
        and callable(getattr(image, "load_read", None))
        and height >= MIN_ROWS
    )


def decode_casting(image: Any, encoded_size: int, out: Any, pool: Executor, cast: CastRows) -> bool:
    """Load ``image`` (``eligible``, ``encoded_size`` bytes of PNG) while ``cast(rgba, out,
    top, bottom)`` runs on ``pool`` for the rows decoded so far; out[H,W,3] is filled when it
    returns True. False: this Pillow does not decode into our buffer, so ``out`` is not filled
    (and the image may not be loaded yet). PIL's errors (a broken or truncated PNG) come
    through as they are.
    """
    width, height = image.size
    rgba = _pixel_buffer(height, width)
    core = _mapped_core(rgba)
    if core is None:
        return False
    image.im = core  # PIL decodes into image memory that already has the right mode and size
    marks = rgba[:, -1, 3]  # a view: the alpha of each row's last pixel
    marks[:] = SENTINEL
    events: Events = queue.SimpleQueue()
    job = pool.submit(_follow, events, rgba, out, cast)
    read = image.load_read
    finished = 0

    def load_read(size: int) -> bytes:
        nonlocal finished
        finished = _rows_written(marks, finished)  # between two decoder calls
        events.put(("rows", finished))
        data: bytes = read(size)
        return data

    image.load_read = load_read
    image.decodermaxblock = min(_MAX_PIECE, max(_MIN_PIECE, encoded_size // _PIECES))
    loaded = False
    try:
        image.load()
        loaded = image.im is core
    finally:
        events.put(("end", loaded))
        del image.load_read  # the closure refers to the image: no cycle left for the gc
        del image.decodermaxblock
    job.result()
    return loaded


def _mapped_core(rgba: Any) -> Any:
    """A PIL RGBA image core whose pixels *are* ``rgba``'s memory, or None where this Pillow
    copies instead (then the follower would read a buffer nobody writes). Checked by writing
    two values into the array's first and last pixels and reading them through PIL."""
    from PIL import Image

    height, width = rgba.shape[:2]
    core = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1).im
    for value in ((1, 2, 3, 4), (5, 6, 7, 8)):
        rgba[0, 0] = rgba[-1, -1] = value
        if core.getpixel((0, 0)) != value or core.getpixel((width - 1, height - 1)) != value:
            return None
    return core


def _pixel_buffer(height: int, width: int) -> Any:
    """Where the decoder writes: uint8 [H,W,4], contents undefined until decoded."""
    import numpy as np

    return np.empty((height, width, 4), dtype=np.uint8)


def _rows_written(marks: Any, known: int) -> int:
    """How many rows from the top the decoder has written: rows below ``known`` are; a row
    whose mark changed is, and so is every row above it (the marks are searched by halves)."""
    low, high = known, len(marks)
    while low < high:
        middle = (low + high) // 2
        if marks[middle] != SENTINEL:
            low = middle + 1
        else:  # not written yet, or written with the mark's value: count it as not yet
            high = middle
    return low


def _follow(events: Events, rgba: Any, out: Any, cast: CastRows) -> None:
    """Cast rows as the decoder finishes them; on ("end", True) cast the rest."""
    height = rgba.shape[0]
    done = 0
    while True:
        kind, value = events.get()
        if kind == "rows":
            if value > done:
                cast(rgba, out, done, value)
                done = value
        else:
            if value and done < height:
                cast(rgba, out, done, height)
            return
