"""NovelAI metadata in EXIF (its WebP/JPEG outputs), read with Pillow, as PNG-style text chunks.

NovelAI writes ImageDescription (the prompt), Software (the Source text, e.g. "NovelAI Diffusion
V4.5 4BDE2A90") and UserComment: an EXIF character-code prefix, then JSON. That JSON is either
the PNG text chunks as an object (with the Comment JSON as a string inside) or the Comment
object itself; both are accepted.
"""

from __future__ import annotations

import json
from typing import Any, Final

from PIL import Image

_EXIF_IFD: Final = 0x8769
_USER_COMMENT: Final = 0x9286
_IMAGE_DESCRIPTION: Final = 0x010E
_SOFTWARE: Final = 0x0131
_DOCUMENT_NAME: Final = 0x010D
_MAX_COMMENT: Final = 16 << 20


def _decode_user_comment(value: Any, big_endian: bool) -> str | None:
    """UserComment text: 8-byte code (ASCII / UNICODE / undefined) + payload."""
    if isinstance(value, str):
        return value
    if not isinstance(value, bytes) or len(value) > _MAX_COMMENT:
        return None
    code, payload = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        encoding = "utf-16-be" if big_endian else "utf-16-le"
        if payload[:2] in (b"\xfe\xff", b"\xff\xfe"):
            encoding = "utf-16"
        return payload.decode(encoding, errors="replace")
    if code.startswith(b"ASCII") or code == b"\0" * 8:
        return payload.decode("utf-8", errors="replace")
    return value.decode("utf-8", errors="replace")  # no code prefix: some writers skip it


def _latin1_utf8(text: str) -> str:
    """EXIF ASCII fields holding UTF-8 (NovelAI's do) come back from Pillow as latin-1."""
    cleaned = text.lstrip("\0")
    try:
        return cleaned.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return cleaned


def exif_chunks(image: Image.Image) -> dict[str, str] | None:
    """PNG-style chunks {Comment, Description, Software, Source, …} from EXIF; None if none.

    Only a UserComment holding a JSON object counts; anything else is not NovelAI's.
    """
    try:
        exif = image.getexif()
        sub = exif.get_ifd(_EXIF_IFD)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return None
    big_endian = getattr(exif, "endian", "<") == ">"
    text = _decode_user_comment(sub.get(_USER_COMMENT), big_endian)
    if not text:
        return None
    try:
        data = json.loads(text.strip("\0 \n"))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("Comment"), str | dict):
        chunks = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    else:  # the UserComment is the Comment object itself
        chunks = {"Comment": json.dumps(data)}
    fields = {_IMAGE_DESCRIPTION: "Description", _SOFTWARE: "Source", _DOCUMENT_NAME: "Title"}
    for tag, key in fields.items():
        value = exif.get(tag)
        if isinstance(value, str) and key not in chunks:
            chunks[key] = _latin1_utf8(value)
    if "Description" in chunks:
        chunks["Description"] = chunks["Description"].lstrip("\0")
    return chunks
