"""Original NovelAI PNG bytes, found again from an IMAGE tensor's pixels (for Save NovelAI PNG).

ComfyUI passes tensors between nodes, not files, so the PNG NovelAI sent (with its metadata) is
lost at the first socket. Nodes that receive NovelAI PNGs register them here keyed by a digest
of their RGB pixels; the save node digests each incoming image and, when a key matches, writes
the original bytes. Keying by content (not by tensor identity) survives batch splits, copies and
ComfyUI's output cache. A bounded LRU: originals are re-fetched by re-running the graph.
A PNG's key is computed on the first lookup that reaches it, not when it is registered: hashing
every generated batch cost as much as decoding it, and most images are never saved this way.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import Image

    from ...novelai_core.results import GeneratedImage

MAX_ENTRIES: Final = 64
MAX_BYTES: Final = 256 << 20

_lock = threading.Lock()
# PNG bytes → pixel key (None until a lookup needs it); oldest first.
_store: OrderedDict[bytes, bytes | None] = OrderedDict()


def pixel_key(image: Image.Image) -> bytes:
    """Digest of an image's size and 8-bit RGB pixels (alpha ignored: IMAGE has none)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    digest = hashlib.sha256(f"{rgb.width}x{rgb.height}".encode())
    digest.update(rgb.tobytes())
    return digest.digest()


def remember(images: Iterable[GeneratedImage]) -> None:
    """Register each ``GeneratedImage``-like object (``.data`` bytes) that is a PNG."""
    for item in images:
        data = getattr(item, "data", None)
        if isinstance(data, bytes) and data.startswith(b"\x89PNG"):
            remember_png(data)


def remember_png(data: bytes) -> None:
    """Register PNG bytes (their pixel key is computed when a lookup first needs it)."""
    with _lock:
        _store[data] = _store.pop(data, None)
        while len(_store) > MAX_ENTRIES or sum(map(len, _store)) > MAX_BYTES:
            _store.popitem(last=False)


def _key_of_png(data: bytes) -> bytes:
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as decoded:
            return pixel_key(decoded)
    except (OSError, ValueError, SyntaxError):
        return b""  # matches no image


def lookup(image: Image.Image) -> bytes | None:
    """The original PNG bytes whose pixels equal ``image``'s, or None (newest entries first)."""
    key = pixel_key(image)
    with _lock:
        entries = list(reversed(_store.items()))
    for data, stored_key in entries:
        known = stored_key if stored_key is not None else _key_of_png(data)
        if stored_key is None:
            with _lock:
                if data in _store:
                    _store[data] = known
        if known == key:
            with _lock:
                if data in _store:
                    _store.move_to_end(data)
            return data
    return None


def clear() -> None:
    with _lock:
        _store.clear()
