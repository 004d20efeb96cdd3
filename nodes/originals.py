"""Original NovelAI PNG bytes, found again from an IMAGE tensor's pixels (for Save NovelAI PNG).

ComfyUI passes tensors between nodes, not files, so the PNG NovelAI sent (with its metadata) is
lost at the first socket. Nodes that receive NovelAI PNGs register them here keyed by a digest
of their RGB pixels; the save node digests each incoming image and, when a key matches, writes
the original bytes. Keying by content (not by tensor identity) survives batch splits, copies and
ComfyUI's output cache. A bounded LRU: originals are re-fetched by re-running the graph.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from PIL import Image

MAX_ENTRIES: Final = 64
MAX_BYTES: Final = 256 << 20

_lock = threading.Lock()
_store: OrderedDict[bytes, bytes] = OrderedDict()


def pixel_key(image: Image.Image) -> bytes:
    """Digest of an image's size and 8-bit RGB pixels (alpha ignored: IMAGE has none)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    digest = hashlib.sha256(f"{rgb.width}x{rgb.height}".encode())
    digest.update(rgb.tobytes())
    return digest.digest()


def remember(images: Iterable[Any]) -> None:
    """Register each ``GeneratedImage``-like object (``.png`` bytes, ``.image`` PIL) that is PNG."""
    for item in images:
        data = getattr(item, "png", None)
        if isinstance(data, bytes) and data.startswith(b"\x89PNG"):
            remember_png(data, item.image)


def remember_png(data: bytes, image: Image.Image) -> None:
    key = pixel_key(image)
    with _lock:
        _store[key] = data
        _store.move_to_end(key)
        while len(_store) > MAX_ENTRIES or sum(map(len, _store.values())) > MAX_BYTES:
            _store.popitem(last=False)


def lookup(image: Image.Image) -> bytes | None:
    """The original PNG bytes whose pixels equal ``image``'s, or None."""
    key = pixel_key(image)
    with _lock:
        data = _store.get(key)
        if data is not None:
            _store.move_to_end(key)
        return data


def clear() -> None:
    with _lock:
        _store.clear()
