"""Writing the web app's vibe files: .naiv4vibe documents, bundles, and export from the store.

An exported vibe carries its image and every encoding the vibe store holds for that picture,
so the web app imports it without paying to encode again (``vibe_files`` reads them back).
As the web app writes them (checked on its files): ``image`` is the base64 of the original
file's bytes (a JPEG stays a JPEG), ``id`` the sha256 of that base64 text, each encoding sits
under sha256("information_extracted:<value>") with the value as JavaScript prints it, the
thumbnail is a JPEG whose longer side is 256 px (small pictures are scaled up), and
``createdAt`` is in milliseconds.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

from PIL import Image

from ..converter.images import ImageInput, b64, png_bytes, to_pil
from .encoding import Encoder, stored_or_encoded, vibe_png
from .file_format import BUNDLE_IDENTIFIER, DEFAULT_STRENGTH, VIBE_IDENTIFIER, key_for_model
from .store import DiskVibeStore, round_information

__all__ = [
    "build_bundle",
    "build_vibe_file",
    "encoding_key",
    "ensure_encoding",
    "export_vibe",
    "js_number",
    "original_image_bytes",
]

THUMBNAIL_SIDE: Final = 256


def ensure_encoding(
    store: DiskVibeStore,
    image: ImageInput,
    model: str,
    information_extracted: float,
    encode: Encoder,
) -> tuple[bytes, bool]:
    """(encoding, cached): from the store, else ``encode`` (2 Anlas) and store it."""
    return stored_or_encoded(store, vibe_png(image), model, information_extracted, encode)


def _thumbnail(image: Image.Image) -> str:
    scale = THUMBNAIL_SIDE / max(image.size)
    size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
    thumb = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + b64(buffer.getvalue())


def js_number(value: float) -> float | int:
    """The number as the web app's JSON has it: 1, not 1.0."""
    rounded = round_information(value)
    return int(rounded) if float(rounded).is_integer() else rounded


def encoding_key(information_extracted: float) -> str:
    """The inner key of an encoding: sha256 of "information_extracted:<value>" (JS printing)."""
    return hashlib.sha256(
        f"information_extracted:{js_number(information_extracted)}".encode()
    ).hexdigest()


def original_image_bytes(image: ImageInput) -> bytes:
    """The bytes a vibe file carries: a PNG, JPEG or WebP file as given, anything else as PNG."""
    if isinstance(image, bytes | bytearray):
        head = bytes(image[:12])
        if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or (
            head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        ):
            return bytes(image)
    return png_bytes(to_pil(image))


def build_vibe_file(
    image: ImageInput,
    encodings: Iterable[tuple[str, float, bytes]],
    *,
    name: str,
    model: str,
    information_extracted: float,
    strength: float = DEFAULT_STRENGTH,
    created_at_ms: int | None = None,
) -> dict[str, Any]:
    """A .naiv4vibe document (type "image") from the image and (model, info, data) encodings.

    ``model`` / ``information_extracted`` / ``strength`` become importInfo: what the web app
    selects when the file is imported. Encodings for models without a modelKey are skipped.
    """
    original = original_image_bytes(image)
    by_key: dict[str, dict[str, Any]] = {}
    for enc_model, info, data in encodings:
        model_key = key_for_model(enc_model)
        if model_key is None:
            continue
        by_key.setdefault(model_key, {})[encoding_key(info)] = {
            "encoding": b64(data),
            "params": {"information_extracted": js_number(info)},
        }
    image_text = b64(original)
    return {
        "identifier": VIBE_IDENTIFIER,
        "version": 1,
        "type": "image",
        "image": image_text,
        "id": hashlib.sha256(image_text.encode("ascii")).hexdigest(),
        "encodings": by_key,
        "name": name,
        "thumbnail": _thumbnail(to_pil(original)),
        "createdAt": int(time.time() * 1000) if created_at_ms is None else created_at_ms,
        "importInfo": {
            "model": model,
            "information_extracted": js_number(information_extracted),
            "strength": strength,
        },
    }


def build_bundle(vibes: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A .naiv4vibebundle document from single-vibe documents."""
    return {"identifier": BUNDLE_IDENTIFIER, "version": 1, "vibes": list(vibes)}


def export_vibe(
    store: DiskVibeStore,
    image: ImageInput,
    *,
    model: str,
    information_extracted: float,
    encode: Callable[[bytes, str, float], bytes],
    name: str,
    strength: float = DEFAULT_STRENGTH,
) -> tuple[dict[str, Any], bool]:
    """(.naiv4vibe document, cached): the encoding for ``model`` (stored or made now) plus every
    other encoding the store holds for this picture; the file keeps the picture's own bytes."""
    png = vibe_png(image)
    data, cached = ensure_encoding(store, png, model, information_extracted, encode)
    encodings = [(model, information_extracted, data)]
    for entry, other in store.for_image(png):
        same = entry.model == model and entry.information_extracted == round_information(
            information_extracted
        )
        if not same:
            encodings.append((entry.model, entry.information_extracted, other))
    doc = build_vibe_file(
        image,
        encodings,
        name=name,
        model=model,
        information_extracted=information_extracted,
        strength=strength,
    )
    return doc, cached
