"""Recent paid results, keyed by the exact request sent: an identical request is never paid twice.

ComfyUI caches a node's outputs, but newer versions drop that cache under memory pressure; a
re-queued fixed-seed Generate would then send (and pay for) the same request again. This store
answers it instead. The key is the whole request as it would go over the wire (host, endpoint,
JSON body with the seed and the images), compared byte for byte, so a different body, even one
field or one pixel apart, never gets another request's images. Bounded by count and by bytes;
the oldest entries go first. Process memory only: nothing is written to disk.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

MAX_ENTRIES: Final = 32
MAX_BYTES: Final = 512 * 1024 * 1024  # images held, summed; ComfyUI's own cache holds tensors

_lock = threading.Lock()
_entries: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()
_held = 0


def request_key(
    base_url: str, endpoint: str, body: Mapping[str, Any], files: Mapping[str, bytes] | None = None
) -> bytes:
    """The exact request as bytes: canonical JSON of host, endpoint and body, then each file."""
    head = json.dumps(
        [base_url, endpoint, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    parts = [len(head).to_bytes(8, "big"), head]
    for name in sorted(files or {}):
        data = bytes((files or {})[name])
        label = name.encode()
        parts += [len(label).to_bytes(8, "big"), label, len(data).to_bytes(8, "big"), data]
    return b"".join(parts)


def get(key: bytes | None) -> Any | None:
    """The result stored for exactly ``key`` (and it becomes the newest), or None."""
    if key is None:
        return None
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return None
        _entries.move_to_end(key)
        return entry[0]


def put(key: bytes | None, result: Any) -> None:
    """Keep ``result`` for ``key``; evict the oldest entries past MAX_ENTRIES or MAX_BYTES."""
    global _held  # noqa: PLW0603 - one store per process is the point
    if key is None:
        return
    size = len(key) + sum(len(getattr(image, "png", b"") or b"") for image in result.images)
    if size > MAX_BYTES:
        return
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _held -= old[1]
        _entries[key] = (result, size)
        _held += size
        while len(_entries) > MAX_ENTRIES or _held > MAX_BYTES:
            _, (_, freed) = _entries.popitem(last=False)
            _held -= freed


def clear() -> None:
    """Forget everything (tests; a user who wants a fresh request changes the seed instead)."""
    global _held  # noqa: PLW0603
    with _lock:
        _entries.clear()
        _held = 0


def count() -> int:
    with _lock:
        return len(_entries)
