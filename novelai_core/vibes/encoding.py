"""Encoding V4+ vibes before a generation: which need it, a store seam, and the swap-in.

Encoding costs 2 Anlas per image and model, so callers pass a ``VibeStore`` (``vibe_store``
has one on disk; the client defaults to ``MemoryVibeStore``) and check every other rule first
(``validate_with_pending_vibes``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Protocol

from ..contract.validation import effective_capability
from ..converter.generation import validate_request
from ..converter.images import ImageInput, png_bytes, to_pil
from ..errors import InputError
from ..models.user import GenerationRequest, Vibe
from .store_entry import round_information

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# (image PNG, model id, information_extracted) -> encoding bytes
Encoder = Callable[[bytes, str, float], bytes]


class VibeStore(Protocol):
    """Where vibe encodings are kept between calls.

    Keys: the PNG bytes of the vibe image, the generation model id, information extracted.
    """

    def get(self, image: bytes, model: str, information_extracted: float) -> bytes | None: ...

    def put(self, image: bytes, model: str, information_extracted: float, data: bytes) -> None: ...


MEMORY_STORE_ENTRIES: Final = 256  # ~12 MB of real (~49 KB) encodings


class MemoryVibeStore:
    """A bounded in-process VibeStore: least recently used entries go first; nothing on disk."""

    def __init__(self, max_entries: int = MEMORY_STORE_ENTRIES) -> None:
        self.max_entries = max(1, max_entries)
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, float], bytes] = OrderedDict()

    @staticmethod
    def _key(image: bytes, model: str, information_extracted: float) -> tuple[str, str, float]:
        digest = hashlib.sha256(image).hexdigest()
        # The disk store's rule (float noise from widgets removed), so both key alike.
        return digest, model, round_information(information_extracted)

    def get(self, image: bytes, model: str, information_extracted: float) -> bytes | None:
        key = self._key(image, model, information_extracted)
        with self._lock:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
            return data

    def put(self, image: bytes, model: str, information_extracted: float, data: bytes) -> None:
        key = self._key(image, model, information_extracted)
        with self._lock:
            self._entries[key] = data
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def vibe_png(image: ImageInput) -> bytes:
    """The PNG bytes a vibe image is encoded (and keyed) from; PNG input is kept as is."""
    if isinstance(image, bytes | bytearray) and bytes(image[:8]) == _PNG_MAGIC:
        return bytes(image)
    return png_bytes(to_pil(image))


def needs_encoding(vibe: Vibe, model: str) -> bool:
    """True when the vibe has no encoding usable with ``model``."""
    return vibe.encoding is None or vibe.encoding_model not in (None, model)


def stored_or_encoded(
    store: VibeStore | None, png: bytes, model: str, information_extracted: float, encode: Encoder
) -> tuple[bytes, bool]:
    """(encoding, cached): from the store, else ``encode`` (2 Anlas) and put in the store."""
    data = store.get(png, model, information_extracted) if store is not None else None
    if data is not None:
        return data, True
    data = encode(png, model, information_extracted)
    if store is not None:
        store.put(png, model, information_extracted, data)
    return data, False


def count_vibes_to_encode(request: GenerationRequest, store: VibeStore | None) -> int:
    """How many /ai/encode-vibe calls (2 Anlas each) a generation of ``request`` will make."""
    cap = effective_capability(request)
    if cap.vibe_mode != "encoded":
        return 0
    count = 0
    for vibe in request.vibes:
        if not needs_encoding(vibe, cap.id):
            continue
        stored = None
        if store is not None and vibe.image is not None:
            stored = store.get(vibe_png(vibe.image), cap.id, vibe.information_extracted)
        count += stored is None
    return count


def validate_with_pending_vibes(request: GenerationRequest) -> None:
    """validate_request with stand-in encodings, so bad input fails before any encode is paid."""
    cap = effective_capability(request)
    if cap.vibe_mode != "encoded" or not request.vibes:
        validate_request(request)
        return
    vibes = []
    for index, vibe in enumerate(request.vibes):
        if not needs_encoding(vibe, cap.id):
            vibes.append(vibe)
            continue
        if vibe.image is None:
            raise InputError(
                f"vibes[{index}]: its encoding was made for {vibe.encoding_model}, not "
                f"{cap.id}, and it has no image to encode again"
            )
        vibes.append(vibe.model_copy(update={"encoding": b"pending", "encoding_model": cap.id}))
    validate_request(request.model_copy(update={"vibes": tuple(vibes)}))


def encode_missing_vibes(
    request: GenerationRequest, store: VibeStore | None, encode: Encoder
) -> GenerationRequest:
    """The request with every vibe encoded for its model: from the store, else ``encode``."""
    cap = effective_capability(request)
    if cap.vibe_mode != "encoded" or not any(needs_encoding(v, cap.id) for v in request.vibes):
        return request
    vibes = []
    for vibe in request.vibes:
        if not needs_encoding(vibe, cap.id) or vibe.image is None:
            vibes.append(vibe)
            continue
        png = vibe_png(vibe.image)
        data, _ = stored_or_encoded(store, png, cap.id, vibe.information_extracted, encode)
        vibes.append(vibe.model_copy(update={"encoding": data, "encoding_model": cap.id}))
    return request.model_copy(update={"vibes": tuple(vibes)})
