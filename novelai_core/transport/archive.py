"""ZIP framing of NovelAI image responses: build (simulator) and read (client)."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from typing import Final

from ..errors import DecodeError

ZIP_MAGIC: Final = b"PK\x03\x04"
# Refuse archives that declare more than this in total: a body is a handful of PNGs.
MAX_UNCOMPRESSED_BYTES: Final = 1 << 30
_SNIPPET_CHARS: Final = 200
_IMAGE_NAME: Final = re.compile(r"image_(\d+)\.[A-Za-z0-9]+")
# 1980-01-01 is the earliest ZIP timestamp; a fixed one keeps built archives reproducible.
_FIXED_DATE: Final = (1980, 1, 1, 0, 0, 0)
# What zipfile raises for hostile or damaged input besides BadZipFile.
_ZIP_FAILURES: Final = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
    struct.error,
    KeyError,
    IndexError,
    OverflowError,
)


def build_zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    """Pack files, in the given order, into an uncompressed (stored) ZIP."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    return out.getvalue()


def body_snippet(data: bytes, limit: int = _SNIPPET_CHARS) -> str:
    """The start of a body as readable text, for error messages (HTML/JSON error pages)."""
    text = data[: limit * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sort_key(name: str) -> tuple[int, int, str]:
    match = _IMAGE_NAME.fullmatch(name.rsplit("/", 1)[-1])
    if match is None:
        # Unexpected names go after the images, in name order.
        return (1, 0, name)
    return (0, int(match.group(1)), name)


def read_zip(data: bytes) -> list[tuple[str, bytes]]:
    """Unpack a NovelAI ZIP body into (name, bytes) pairs ordered by image index.

    Raises DecodeError for anything that is not a complete, intact, non-empty archive.
    """
    if not data:
        raise DecodeError("NovelAI sent an empty body where a ZIP of images was expected")
    if not data.startswith(ZIP_MAGIC):
        raise DecodeError(
            "NovelAI's answer is not a ZIP of images; it starts with: " + repr(body_snippet(data))
        )
    try:
        entries = _unpack(data)
    except DecodeError:
        raise
    except _ZIP_FAILURES as exc:
        raise DecodeError(f"NovelAI's ZIP of images is damaged or truncated: {exc}") from exc
    if not entries:
        raise DecodeError("NovelAI's ZIP of images contains no files")
    entries.sort(key=lambda entry: _sort_key(entry[0]))
    return entries


def _unpack(data: bytes) -> list[tuple[str, bytes]]:
    # BytesIO over bytes shares the buffer until written to, so this does not copy the body.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        declared = sum(info.file_size for info in infos)
        if declared > MAX_UNCOMPRESSED_BYTES:
            raise DecodeError(f"NovelAI's ZIP declares {declared} bytes of content; refusing")
        # ZipFile.read checks each entry's CRC-32 and raises BadZipFile on a mismatch.
        return [(info.filename, archive.read(info)) for info in infos]
