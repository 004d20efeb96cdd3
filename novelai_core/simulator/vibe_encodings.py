"""The simulator's opaque vibe encodings: a recognisable header, the model, then random bytes."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from typing import Any, Final

VIBE_MAGIC: Final = b"NAISIMVIBE1"
_PADDING: Final = 3072


def make_encoding(model: str, information_extracted: float, image: bytes) -> bytes:
    """Bytes that record what they were made for; random padding keeps them non-deterministic."""
    header = json.dumps(
        {
            "model": model,
            "information_extracted": information_extracted,
            "image_sha256": hashlib.sha256(image).hexdigest(),
        },
        separators=(",", ":"),
    ).encode()
    return VIBE_MAGIC + struct.pack(">I", len(header)) + header + os.urandom(_PADDING)


def read_encoding(data: bytes) -> dict[str, Any] | None:
    """The header of a simulator encoding, or None if ``data`` is not one."""
    if not data.startswith(VIBE_MAGIC) or len(data) < len(VIBE_MAGIC) + 4:
        return None
    start = len(VIBE_MAGIC) + 4
    (length,) = struct.unpack(">I", data[len(VIBE_MAGIC) : start])
    try:
        header = json.loads(data[start : start + length])
    except ValueError:
        return None
    return header if isinstance(header, dict) else None
