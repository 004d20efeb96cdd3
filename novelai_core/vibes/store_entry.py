"""One vibe store entry on disk: its key, its file format (header + encoding) and its listing.

An entry file is ``MAGIC``, a 4-byte header length, a JSON header naming its own key fields
and the encoding's sha256 and length, then the encoding. ``unpack`` accepts only entries whose
encoding checks out, so a truncated or corrupted file reads as missing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = [
    "ENTRY_SUFFIX",
    "INFO_DECIMALS",
    "StoredVibe",
    "describe_entry",
    "entry_key",
    "pack",
    "round_information",
    "split_entry",
    "unpack",
]

INFO_DECIMALS: Final = 4
MAGIC: Final = b"NAIVIBESTORE1\n"
ENTRY_SUFFIX: Final = ".vibe"
HEADER_LIMIT: Final = 64 * 1024


def round_information(value: float) -> float:
    """information_extracted as the store compares it (float noise removed)."""
    return round(float(value), INFO_DECIMALS)


@dataclass(frozen=True)
class StoredVibe:
    """One entry as listed: what it was encoded for, its size and when it was last used."""

    key: str
    model: str
    information_extracted: float
    image_sha256: str
    size: int
    last_used: float
    created: float
    path: Path
    name: str | None = None  # the vibe's name, when it came from a vibe file
    # The vibe file's id for an encoding stored without its picture ("encoding" vibes).
    vibe_id: str | None = None

    @property
    def has_image(self) -> bool:
        return self.vibe_id is None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "model": self.model,
            "information_extracted": self.information_extracted,
            "has_image": self.has_image,
            "vibe_id": self.vibe_id,
            "image_sha256": self.image_sha256,
            "bytes": self.size,
            "last_used": round(self.last_used, 3),
            "created": round(self.created, 3),
        }


def entry_key(digest: str, model: str, information_extracted: float) -> str:
    """The entry's file stem: one per picture, model and rounded information extracted."""
    text = f"{digest}\n{model}\n{round_information(information_extracted):.{INFO_DECIMALS}f}"
    return hashlib.sha256(text.encode()).hexdigest()


def pack(header: dict[str, Any], data: bytes) -> bytes:
    """Magic, header length, JSON header, then the encoding itself."""
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    return MAGIC + len(raw).to_bytes(4, "big") + raw + data


def split_entry(blob: bytes) -> tuple[dict[str, Any], bytes] | None:
    """(header, the rest) when ``blob`` starts like an entry, else None."""
    start = len(MAGIC) + 4
    if not blob.startswith(MAGIC) or len(blob) < start:
        return None
    length = int.from_bytes(blob[len(MAGIC) : start], "big")
    if length > HEADER_LIMIT or len(blob) < start + length:
        return None
    try:
        header = json.loads(blob[start : start + length])
    except ValueError:
        return None
    return (header, blob[start + length :]) if isinstance(header, dict) else None


def unpack(blob: bytes) -> tuple[dict[str, Any], bytes] | None:
    """(header, encoding) of a well-formed entry, else None (corrupted or truncated)."""
    split = split_entry(blob)
    if split is None:
        return None
    header, data = split
    intact = bool(data) and header.get("length") == len(data)
    return split if intact and header.get("sha256") == hashlib.sha256(data).hexdigest() else None


def describe_entry(path: Path) -> StoredVibe | None:
    """The entry at ``path`` as listed (from its header alone), or None if unreadable."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(MAGIC) + 4 + HEADER_LIMIT)
        stat = path.stat()
    except OSError:
        return None
    split = split_entry(head)
    if split is None:
        return None
    header = split[0]
    try:
        return StoredVibe(
            key=path.stem,
            model=str(header["model"]),
            information_extracted=float(header["information_extracted"]),
            image_sha256=str(header["image_sha256"]),
            size=stat.st_size,
            last_used=stat.st_mtime,
            created=float(header["created"]),
            path=path,
            name=header["name"] if isinstance(header.get("name"), str) else None,
            vibe_id=header["vibe_id"] if isinstance(header.get("vibe_id"), str) else None,
        )
    except (ValueError, KeyError, TypeError):
        return None
