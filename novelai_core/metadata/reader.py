"""PNG text chunks and NovelAI's alpha-channel "stealth" metadata: read, write, interpret."""

from __future__ import annotations

import gzip
import io
import json
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from PIL import Image

from ..errors import DecodeError
from .exif_text import exif_chunks

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
STEALTH_MAGIC: Final = b"stealth_pngcomp"  # gzip-compressed payload (NovelAI writes this)
STEALTH_MAGIC_PLAIN: Final = b"stealth_pnginfo"  # uncompressed UTF-8 (community tools)
_TEXT_TYPES: Final = (b"tEXt", b"zTXt", b"iTXt")
# A text chunk or stealth payload never needs more; bounds zlib/gzip bombs.
MAX_TEXT_BYTES: Final = 16 << 20
_ALPHA_MODES: Final = ("RGBA", "RGBa", "LA", "La", "PA")
_HEADER_BITS: Final = (len(STEALTH_MAGIC) + 4) * 8
_HASH_SUFFIX: Final = re.compile(r"\s+[0-9A-Fa-f]{6,}$")
# Where the metadata was found: PNG text chunks, EXIF (WebP/JPEG), or the alpha-channel copy.
Origin = Literal["text", "exif", "stealth"]


# --- PNG chunks ---------------------------------------------------------------------------


def _chunks(png: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, start of chunk, end of chunk) for each chunk, up to and including IEND."""
    if not png.startswith(PNG_SIGNATURE):
        raise DecodeError("not a PNG image (the PNG signature is missing)")
    pos = len(PNG_SIGNATURE)
    size = len(png)
    while True:
        if pos + 8 > size:
            raise DecodeError("PNG is truncated: it ends before the IEND chunk")
        length, kind = struct.unpack_from(">I4s", png, pos)
        end = pos + 12 + length
        if end > size:
            raise DecodeError(f"PNG is truncated inside a {kind!r} chunk")
        yield kind, pos, end
        if kind == b"IEND":
            return
        pos = end


def _inflate(data: bytes, what: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES)
    except zlib.error as exc:
        raise DecodeError(f"compressed PNG {what} chunk is corrupt: {exc}") from exc
    if inflater.unconsumed_tail:
        raise DecodeError(f"compressed PNG {what} chunk inflates beyond {MAX_TEXT_BYTES} bytes")
    if not inflater.eof:
        raise DecodeError(f"compressed PNG {what} chunk is truncated")
    return out


def _parse_text(kind: bytes, body: bytes) -> tuple[str, str]:
    name = kind.decode("ascii")
    key, sep, rest = body.partition(b"\0")
    if not sep or not key:
        raise DecodeError(f"malformed PNG {name} chunk (no keyword)")
    if kind == b"tEXt":
        return key.decode("latin-1"), rest.decode("latin-1")
    if kind == b"zTXt":
        if not rest or rest[0] != 0:
            raise DecodeError("PNG zTXt chunk uses an unknown compression method")
        return key.decode("latin-1"), _inflate(rest[1:], name).decode("latin-1")
    # iTXt: compression flag, method, language tag \0, translated keyword \0, UTF-8 text.
    if len(rest) < 2:
        raise DecodeError("malformed PNG iTXt chunk")
    compressed, method = rest[0], rest[1]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        raise DecodeError("malformed PNG iTXt chunk")
    text = parts[2]
    if compressed:
        if method != 0:
            raise DecodeError("PNG iTXt chunk uses an unknown compression method")
        text = _inflate(text, name)
    try:
        return key.decode("latin-1"), text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError("PNG iTXt chunk is not valid UTF-8") from exc


def read_text_chunks(png: bytes) -> dict[str, str]:
    """All tEXt/zTXt/iTXt key-value pairs of a PNG, without decoding pixels.

    CRCs are not checked: a reader should not reject metadata a sloppy editor left behind.
    A later chunk with the same key wins.
    """
    view = memoryview(png)
    found: dict[str, str] = {}
    for kind, start, end in _chunks(png):
        if kind in _TEXT_TYPES:
            key, value = _parse_text(kind, bytes(view[start + 8 : end - 4]))
            found[key] = value
    return found


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind))
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _text_chunk(key: str, value: str) -> bytes:
    try:
        raw_key = key.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ValueError(f"PNG text keyword {key!r} is not latin-1") from exc
    if not 1 <= len(raw_key) <= 79 or b"\0" in raw_key:
        raise ValueError(f"PNG text keyword {key!r} must be 1-79 characters without NUL")
    if "\0" in value:
        raise ValueError(f"PNG text value for {key!r} contains NUL")
    try:
        return _chunk(b"tEXt", raw_key + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:
        pass
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: no PNG can hold them
        raise ValueError(f"PNG text value for {key!r} is not valid Unicode text") from exc
    # Uncompressed iTXt with empty language and translated keyword.
    return _chunk(b"iTXt", raw_key + b"\0\0\0\0\0" + encoded)


def _chunk_key(png: bytes, start: int, end: int) -> str:
    return (
        bytes(png[start + 8 : min(end - 4, start + 8 + 80)]).partition(b"\0")[0].decode("latin-1")
    )


def add_text_chunks(png: bytes, chunks: Mapping[str, str]) -> bytes:
    """Insert text chunks before the first IDAT (replacing text chunks with the same keys).

    Values that latin-1 cannot encode go in uncompressed iTXt chunks (UTF-8).
    """
    new = b"".join(_text_chunk(key, value) for key, value in chunks.items())
    parts: list[bytes] = [PNG_SIGNATURE]
    inserted = False
    for kind, start, end in _chunks(png):
        if kind in _TEXT_TYPES and _chunk_key(png, start, end) in chunks:
            continue
        if not inserted and kind in (b"IDAT", b"IEND"):
            parts.append(new)
            inserted = True
        parts.append(png[start:end])
    return b"".join(parts)


# --- stealth (alpha LSB) ------------------------------------------------------------------


def _column_major(alpha: np.ndarray[Any, np.dtype[np.uint8]], count: int) -> np.ndarray[Any, Any]:
    """The first `count` alpha values in NovelAI's order: x outer, y inner."""
    height = alpha.shape[0]
    columns = -(-count // height)
    ordered: np.ndarray[Any, Any] = alpha[:, :columns].T.reshape(-1)[:count]
    return ordered


def embed_stealth(image: Image.Image, chunks: Mapping[str, str]) -> Image.Image:
    """A new RGBA image whose alpha LSBs carry `chunks` as NovelAI's stealth payload."""
    payload = gzip.compress(json.dumps(dict(chunks)).encode("utf-8"), mtime=0)
    header = STEALTH_MAGIC + struct.pack(">I", len(payload) * 8)
    bits = np.unpackbits(np.frombuffer(header + payload, dtype=np.uint8))
    rgba = image.convert("RGBA")
    width, height = rgba.size
    if bits.size > width * height:
        raise ValueError(
            f"image {width}x{height} is too small for {bits.size} bits of stealth metadata"
        )
    pixels = np.array(rgba, dtype=np.uint8)
    # Transposed copy: column-major order becomes plain C order.
    alpha_t = np.ascontiguousarray(pixels[:, :, 3].T)
    flat = alpha_t.reshape(-1)
    flat[: bits.size] = (flat[: bits.size] & 0xFE) | bits
    pixels[:, :, 3] = alpha_t.T
    return Image.fromarray(pixels, "RGBA")


def _alpha(image: Image.Image) -> np.ndarray[Any, np.dtype[np.uint8]] | None:
    if image.mode not in _ALPHA_MODES:
        return None
    return np.asarray(image.getchannel("A"), dtype=np.uint8)


def _read_bytes(alpha: np.ndarray[Any, np.dtype[np.uint8]], start_bit: int, count: int) -> bytes:
    bits = _column_major(alpha, start_bit + count * 8)[start_bit:] & 1
    return np.packbits(bits).tobytes()


def read_stealth(image: Image.Image) -> dict[str, str] | None:
    """NovelAI's stealth payload from the alpha LSBs; None when there is none or it is not a
    JSON object (another tool's text).

    Raises DecodeError when the magic is present but the length or the gzip stream is broken.
    """
    alpha = _alpha(image)
    if alpha is None or alpha.size < _HEADER_BITS:
        return None
    header = _read_bytes(alpha, 0, len(STEALTH_MAGIC) + 4)
    magic = header[: len(STEALTH_MAGIC)]
    if magic not in (STEALTH_MAGIC, STEALTH_MAGIC_PLAIN):
        return None
    (bit_length,) = struct.unpack(">I", header[len(STEALTH_MAGIC) :])
    available = alpha.size - _HEADER_BITS
    if bit_length == 0 or bit_length % 8 or bit_length > available:
        raise DecodeError(
            f"stealth metadata declares {bit_length} bits; the image holds at most {available}"
        )
    payload = _read_bytes(alpha, _HEADER_BITS, bit_length // 8)
    raw = _gunzip(payload) if magic == STEALTH_MAGIC else payload
    return _decode_stealth_payload(raw)


def _gunzip(payload: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        raw = inflater.decompress(payload, MAX_TEXT_BYTES)
    except zlib.error as exc:
        raise DecodeError(f"stealth metadata is not valid gzip: {exc}") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise DecodeError("stealth metadata gzip is truncated or too large")
    return raw


def _decode_stealth_payload(raw: bytes) -> dict[str, str] | None:
    """The stealth text as chunks; None when it is not a JSON object (A1111 writes plain text
    there: someone else's metadata, not broken NovelAI metadata)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    # Values are the PNG text chunks (strings); keep anything else readable as JSON text.
    return {
        str(key): value if isinstance(value, str) else json.dumps(value)
        for key, value in data.items()
    }


# --- interpretation -----------------------------------------------------------------------


def as_number(value: Any) -> float | None:
    """A JSON number as float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def as_integer(value: Any) -> int | None:
    """A JSON number with an integral value as int; None otherwise."""
    number = as_number(value)
    return int(number) if number is not None and number.is_integer() else None


@dataclass(frozen=True)
class NovelAIMetadata:
    """What NovelAI recorded about an image: the text chunks and the parsed Comment JSON."""

    chunks: dict[str, str]
    comment: dict[str, Any]
    origin: Origin

    @property
    def prompt(self) -> str | None:
        value = self.comment.get("prompt", self.chunks.get("Description"))
        return value if isinstance(value, str) else None

    @property
    def negative(self) -> str | None:
        value = self.comment.get("uc")
        return value if isinstance(value, str) else None

    @property
    def seed(self) -> int | None:
        return as_integer(self.comment.get("seed"))

    @property
    def steps(self) -> int | None:
        return as_integer(self.comment.get("steps"))

    @property
    def scale(self) -> float | None:
        return as_number(self.comment.get("scale"))

    @property
    def sampler(self) -> str | None:
        value = self.comment.get("sampler")
        return value if isinstance(value, str) else None

    @property
    def width(self) -> int | None:
        return as_integer(self.comment.get("width"))

    @property
    def height(self) -> int | None:
        return as_integer(self.comment.get("height"))

    @property
    def source(self) -> str | None:
        """The Source chunk, e.g. "NovelAI Diffusion V4.5 4BDE2A90"."""
        return self.chunks.get("Source")

    @property
    def model(self) -> str | None:
        """The model's display name from Source, without the hash (full and curated share it)."""
        source = self.source
        return _HASH_SUFFIX.sub("", source.strip()) if source else None

    @property
    def characters(self) -> list[dict[str, Any]]:
        """Characters from v4_prompt: {"prompt", "uc", "center": {"x", "y"} | None}."""
        positives = _char_captions(self.comment.get("v4_prompt"))
        negatives = _char_captions(self.comment.get("v4_negative_prompt"))
        result: list[dict[str, Any]] = []
        for index, caption in enumerate(positives):
            uc = negatives[index].get("char_caption") if index < len(negatives) else None
            centers = caption.get("centers")
            first = centers[0] if isinstance(centers, list) and centers else None
            center = {"x": first.get("x"), "y": first.get("y")} if isinstance(first, dict) else None
            result.append(
                {
                    "prompt": caption.get("char_caption", ""),
                    "uc": uc if isinstance(uc, str) else "",
                    "center": center,
                }
            )
        return result


def _char_captions(v4: Any) -> list[dict[str, Any]]:
    caption = v4.get("caption") if isinstance(v4, dict) else None
    captions = caption.get("char_captions") if isinstance(caption, dict) else None
    if not isinstance(captions, list):
        return []
    return [item for item in captions if isinstance(item, dict)]


def _parse_comment(text: str) -> dict[str, Any] | None:
    """The Comment as a JSON object; None when it is not one (GIMP writes its own Comment)."""
    try:
        comment = json.loads(text)
    except ValueError:
        return None
    return comment if isinstance(comment, dict) else None


def _open_image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DecodeError(f"cannot read the image: {exc}") from exc
    return image


def _from_chunks(chunks: dict[str, str] | None, origin: Origin) -> NovelAIMetadata | None:
    if not chunks or "Comment" not in chunks:
        return None
    comment = _parse_comment(chunks["Comment"])
    return None if comment is None else NovelAIMetadata(chunks, comment, origin)


def read_metadata(png: bytes | Image.Image) -> NovelAIMetadata | None:
    """NovelAI metadata from wherever NovelAI put it; None when there is none.

    Looks in order at the PNG text chunks, EXIF (NovelAI's WebP/JPEG: UserComment, Software,
    ImageDescription) and the alpha-channel copy (``stealth_pngcomp`` / ``stealth_pnginfo``).
    A ``Comment`` that is not NovelAI's JSON (GIMP writes one) is skipped, not an error, and so
    is stealth text that is not a JSON object (A1111's). Raises DecodeError only for bytes that
    are no readable image or a NovelAI payload that is broken (bad gzip, impossible length).
    """
    if isinstance(png, Image.Image):
        text = {k: v for k, v in png.info.items() if isinstance(k, str) and isinstance(v, str)}
    else:
        text = read_text_chunks(png) if png.startswith(PNG_SIGNATURE) else {}
    found = _from_chunks(text, "text")
    if found is not None:
        return found
    image = png if isinstance(png, Image.Image) else _open_image(png)
    found = _from_chunks(exif_chunks(image), "exif") or _from_chunks(read_stealth(image), "stealth")
    if found is None and text.get("Comment", "").lstrip().startswith("{"):
        # Meant as JSON, broken, and no intact copy elsewhere: corrupt, not "no metadata".
        raise DecodeError("the image's Comment metadata is not valid JSON (and no intact copy)")
    return found
