"""A lone PNG decoded on the calling thread while a second thread casts the rows already decoded.

Decoding a NovelAI PNG (inflate + unfilter) is ~80% of turning it into an IMAGE tensor and
cannot be split across threads; the RGB packing and float cast after it can. So the cast runs
*during* the decode, a band of rows at a time, on a decoding thread ("the follower").

How the follower knows which rows are final. PIL's PNG loader asks ``load_read`` for the next
piece of IDAT data only after its decoder has consumed every earlier piece (the zip decoder
takes all the input it is given), so each ``load_read`` call marks a compressed offset C up to
which PIL has decoded. The follower inflates the same pieces itself with zlib (releasing the
GIL, ~3x faster than the decode), which tells how many raw bytes the first C compressed bytes
give. PIL may still owe a little of that output, so the rows counted ready are conservative:
only input at least ``_SLACK_IN`` bytes before C counts (zlib's bit buffer holds at most 8 bytes
of undecoded input) and the last ``_SLACK_OUT`` bytes (one unfinished match copy) do not.

The decoder writes into a numpy buffer we own (PIL maps an RGBA image onto it), so the follower
reads finished rows without copying the image. Every row is cast once; the last ones after the
decode ends. Only a plain 8-bit RGBA, non-interlaced, single-frame PNG takes this path (every
NovelAI image); anything else, or a Pillow that decodes differently, is decoded the plain way.
"""

from __future__ import annotations

import bisect
import queue
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Executor

_SLACK_IN = 64  # > the 8 bytes zlib may hold undecoded + one code in progress
_SLACK_OUT = 258  # the longest deflate match: what a paused copy can still owe
_PIECES = 24  # how many pieces the compressed data is read in (more: finer overlap)
_MIN_PIECE = 4096
_MAX_PIECE = 64 * 1024  # PIL's own read size
MIN_ROWS = 256  # a smaller image decodes too fast for a second thread to pay off

CastRows = Callable[[Any, Any, int, int], None]
Events = queue.SimpleQueue[tuple[str, Any]]  # ("piece", bytes) / ("decoded", offset) / ("end", ok)


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
    events: Events = queue.SimpleQueue()
    job = pool.submit(_follow, events, rgba, out, cast)
    read = image.load_read
    handed = 0

    def load_read(size: int) -> bytes:
        nonlocal handed
        events.put(("decoded", handed))  # every piece handed out before has been decoded
        data: bytes = read(size)
        handed += len(data)
        events.put(("piece", data))
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


def _follow(events: Events, rgba: Any, out: Any, cast: CastRows) -> None:
    """Cast rows as the decoder finishes them; on ("end", True) cast the rest."""
    height, width = rgba.shape[:2]
    rows = _RowCounter(height, width * 4 + 1)  # a PNG row: its filter byte, then the pixels
    done = 0
    while True:
        kind, value = events.get()
        if kind == "piece":
            rows.feed(value)
        elif kind == "decoded":
            ready = rows.ready(value - _SLACK_IN)
            if ready > done:
                cast(rgba, out, done, ready)
                done = ready
        else:
            if value and done < height:
                cast(rgba, out, done, height)
            return


class _RowCounter:
    """How many PNG rows a prefix of the compressed data surely gives (inflating it with zlib)."""

    def __init__(self, height: int, row_bytes: int) -> None:
        self.height = height
        self.row_bytes = row_bytes
        self._needed = height * row_bytes + _SLACK_OUT  # past this, every row is known
        self._inflater: Any = zlib.decompressobj()
        self._compressed = [0]  # ascending offsets into the compressed data …
        self._raw = [0]  # … and the raw bytes the data up to each one inflates to
        self._fed = 0

    def feed(self, piece: bytes) -> None:
        """The next piece; a mark goes _SLACK_IN bytes before its end, where ``ready`` looks."""
        for part in (piece[: -_SLACK_IN], piece[-_SLACK_IN :]):  # fmt: skip
            self._fed += len(part)
            if self._inflater is None:
                continue
            made = self._raw[-1]
            try:  # inflate no more than the image needs: a stream may claim far more
                made += len(self._inflater.decompress(part, self._needed - made))
            except zlib.error:
                self._inflater = None  # broken data: PIL's load reports it; count no further
                continue
            if made >= self._needed:
                self._inflater = None
            self._compressed.append(self._fed)
            self._raw.append(made)

    def ready(self, decoded_to: int) -> int:
        """Rows PIL surely finished once it decoded ``decoded_to`` compressed bytes or more."""
        index = bisect.bisect_right(self._compressed, decoded_to)
        raw = self._raw[index - 1] if index else 0
        return min(self.height, max(0, (raw - _SLACK_OUT) // self.row_bytes))
