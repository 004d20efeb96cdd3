"""PNG text chunks and stealth metadata: round trips, interpretation and broken inputs."""

from __future__ import annotations

import gzip
import io
import json
import struct
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from novelai_core.errors import DecodeError
from novelai_core.metadata.reader import (
    PNG_SIGNATURE,
    STEALTH_MAGIC,
    NovelAIMetadata,
    add_text_chunks,
    embed_stealth,
    read_metadata,
    read_stealth,
    read_text_chunks,
)

COMMENT: dict[str, Any] = {
    "prompt": "1girl, best quality",
    "uc": "lowres, bad anatomy",
    "seed": 1234567,
    "steps": 23,
    "scale": 5.0,
    "sampler": "k_euler_ancestral",
    "width": 832,
    "height": 1216,
    "v4_prompt": {
        "caption": {
            "base_caption": "1girl, best quality",
            "char_captions": [
                {"char_caption": "girl, red hair", "centers": [{"x": 0.3, "y": 0.5}]},
                {"char_caption": "boy", "centers": []},
            ],
        },
        "use_coords": True,
        "use_order": True,
    },
    "v4_negative_prompt": {
        "caption": {
            "base_caption": "lowres",
            "char_captions": [{"char_caption": "blue hair", "centers": [{"x": 0.3, "y": 0.5}]}],
        },
        "legacy_uc": False,
    },
}
CHUNKS = {
    "Title": "AI generated image",
    "Description": "1girl, best quality",
    "Software": "NovelAI",
    "Source": "NovelAI Diffusion V4.5 4BDE2A90",
    "Comment": json.dumps(COMMENT),
}


def _png(image: Image.Image, text: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _noise(size: int = 64, mode: str = "RGBA") -> Image.Image:
    pixels = np.random.default_rng(7).integers(0, 256, (size, size, len(mode)), dtype=np.uint8)
    return Image.fromarray(pixels, mode)


def _stealth_image(payload: bytes, bit_length: int | None = None) -> Image.Image:
    """An RGBA image carrying raw bytes after the magic, bypassing embed_stealth's checks."""
    length = len(payload) * 8 if bit_length is None else bit_length
    bits = np.unpackbits(np.frombuffer(STEALTH_MAGIC + struct.pack(">I", length) + payload, "u1"))
    alpha = np.full(64 * 64, 254, dtype=np.uint8)
    alpha[: bits.size] |= bits
    pixels = np.zeros((64, 64, 4), dtype=np.uint8)
    pixels[:, :, 3] = alpha.reshape(64, 64).T  # column-major
    return Image.fromarray(pixels, "RGBA")


# --- text chunks ---------------------------------------------------------------------------


def test_text_chunks_written_by_pil_are_read_back() -> None:
    assert read_text_chunks(_png(_noise(8), CHUNKS)) == CHUNKS


def test_added_text_chunks_read_back_and_survive_a_pil_reopen() -> None:
    chunks = {**CHUNKS, "Description": "café ✓ 猫"}  # not latin-1: goes in iTXt
    png = add_text_chunks(_png(_noise(16)), chunks)
    assert read_text_chunks(png) == chunks
    reopened = Image.open(io.BytesIO(png))
    reopened.load()  # verifies every chunk CRC on the way
    assert dict(reopened.text) == chunks  # type: ignore[attr-defined]
    assert np.array_equal(np.asarray(reopened), np.asarray(_noise(16)))


def test_added_text_chunks_go_before_the_first_idat_and_replace_same_keys() -> None:
    png = add_text_chunks(_png(_noise(8), {"Title": "old", "Keep": "me"}), {"Title": "new"})
    assert png.index(b"tEXtTitle\0new") < png.index(b"IDAT")
    assert b"old" not in png
    assert read_text_chunks(png) == {"Keep": "me", "Title": "new"}


def test_compressed_text_chunks_are_read() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * 2000, zip=True)  # zTXt
    info.add_itxt("Description", "猫 " * 500, zip=True)  # compressed iTXt
    out = io.BytesIO()
    _noise(8).save(out, "PNG", pnginfo=info)
    assert read_text_chunks(out.getvalue()) == {"Comment": "x" * 2000, "Description": "猫 " * 500}


def test_bad_text_keys_are_refused_when_writing() -> None:
    png = _png(_noise(8))
    for key in ("", "k" * 80, "猫"):
        with pytest.raises(ValueError, match="keyword"):
            add_text_chunks(png, {key: "value"})


def test_text_that_no_png_can_hold_is_refused_when_writing() -> None:
    png = _png(_noise(8))
    with pytest.raises(ValueError, match="Unicode"):
        add_text_chunks(png, {"Source": "lone \ud800 surrogate"})
    with pytest.raises(ValueError, match="NUL"):
        add_text_chunks(png, {"Source": "a\0b"})


def test_a_non_png_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="not a PNG"):
        read_text_chunks(b"GIF89a....")


@pytest.mark.parametrize("cut", [8, 12, 30, -5, -12])
def test_a_truncated_png_is_a_decode_error(cut: int) -> None:
    with pytest.raises(DecodeError, match="truncated"):
        read_text_chunks(_png(_noise(8), CHUNKS)[:cut])


def test_a_corrupt_ztxt_chunk_is_a_decode_error() -> None:
    body = b"Comment\0\0" + zlib.compress(b"hello")[:-3]
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + b"\0\0\0\0"
    png = _png(_noise(8))
    with pytest.raises(DecodeError, match="zTXt"):
        read_text_chunks(png[:33] + chunk + png[33:])


# --- stealth -------------------------------------------------------------------------------


def test_stealth_round_trips_on_a_64x64_image() -> None:
    assert read_stealth(embed_stealth(_noise(), CHUNKS)) == CHUNKS


def test_stealth_leaves_colour_alone_and_moves_alpha_by_at_most_one() -> None:
    original = _noise()
    marked = embed_stealth(original, CHUNKS)
    before, after = np.asarray(original).astype(int), np.asarray(marked).astype(int)
    assert marked.mode == "RGBA" and marked.size == original.size
    assert np.array_equal(before[:, :, :3], after[:, :, :3])
    assert np.abs(before[:, :, 3] - after[:, :, 3]).max() == 1
    assert np.asarray(original).tobytes() == before.astype(np.uint8).tobytes()  # input untouched


def test_stealth_bits_are_column_major_and_msb_first() -> None:
    marked = np.asarray(embed_stealth(Image.new("RGB", (64, 64)), {"a": "b"}))
    column_major = marked[:, :, 3].T.reshape(-1) & 1
    assert np.packbits(column_major[: len(STEALTH_MAGIC) * 8]).tobytes() == STEALTH_MAGIC


def test_stealth_on_an_rgb_image_adds_alpha_and_survives_png_save() -> None:
    marked = embed_stealth(_noise(mode="RGB"), {"Comment": '{"seed": 3}'})
    reopened = Image.open(io.BytesIO(_png(marked)))
    assert read_stealth(reopened) == {"Comment": '{"seed": 3}'}


def test_an_image_too_small_for_the_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        embed_stealth(_noise(8), CHUNKS)


def test_images_without_alpha_or_magic_have_no_stealth() -> None:
    assert read_stealth(_noise(mode="RGB")) is None
    assert read_stealth(_noise()) is None
    assert read_stealth(Image.new("RGBA", (4, 4))) is None  # too small for even the header


def test_a_corrupted_stealth_gzip_is_a_decode_error() -> None:
    payload = bytearray(gzip.compress(json.dumps(CHUNKS).encode()))
    payload[12:20] = b"\xff" * 8
    with pytest.raises(DecodeError, match="gzip"):
        read_stealth(_stealth_image(bytes(payload)))


@pytest.mark.parametrize("bit_length", [0, 12, 64 * 64])
def test_a_stealth_length_that_cannot_fit_is_a_decode_error(bit_length: int) -> None:
    with pytest.raises(DecodeError, match="declares"):
        read_stealth(_stealth_image(b"\x1f\x8b", bit_length))


@pytest.mark.parametrize("raw", [b"{broken", b"[1, 2]", b"\xff\xfe", b"a photo\nSteps: 20"])
def test_stealth_text_that_is_not_a_json_object_is_no_novelai_metadata(raw: bytes) -> None:
    assert read_stealth(_stealth_image(gzip.compress(raw))) is None


# --- interpretation ------------------------------------------------------------------------


def _assert_parameters(meta: NovelAIMetadata) -> None:
    assert meta.prompt == "1girl, best quality"
    assert meta.negative == "lowres, bad anatomy"
    assert (meta.seed, meta.steps, meta.scale) == (1234567, 23, 5.0)
    assert (meta.sampler, meta.width, meta.height) == ("k_euler_ancestral", 832, 1216)
    assert meta.source == "NovelAI Diffusion V4.5 4BDE2A90"
    assert meta.model == "NovelAI Diffusion V4.5"
    assert meta.characters == [
        {"prompt": "girl, red hair", "uc": "blue hair", "center": {"x": 0.3, "y": 0.5}},
        {"prompt": "boy", "uc": "", "center": None},
    ]


def test_metadata_is_read_from_text_chunks_first() -> None:
    png = _png(embed_stealth(_noise(), {"Comment": "{}"}), CHUNKS)
    meta = read_metadata(png)
    assert meta is not None and meta.origin == "text"
    assert meta.chunks == CHUNKS and meta.comment == COMMENT
    _assert_parameters(meta)


def test_metadata_falls_back_to_stealth_when_text_chunks_were_stripped() -> None:
    png = _png(embed_stealth(_noise(), CHUNKS))
    for source in (png, Image.open(io.BytesIO(png))):
        meta = read_metadata(source)
        assert meta is not None and meta.origin == "stealth"
        _assert_parameters(meta)


def test_a_pil_image_with_text_chunks_reads_them() -> None:
    meta = read_metadata(Image.open(io.BytesIO(_png(_noise(8), CHUNKS))))
    assert meta is not None and meta.origin == "text" and meta.seed == 1234567


def test_an_image_without_metadata_gives_none() -> None:
    assert read_metadata(_png(_noise(8), {"Title": "holiday"})) is None
    assert read_metadata(_noise(8, "RGB")) is None


def test_a_broken_comment_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="Comment"):
        read_metadata(_png(_noise(8), {"Comment": "{not json"}))


def test_missing_or_odd_comment_fields_read_as_none() -> None:
    meta = NovelAIMetadata({}, {"seed": "12", "steps": 2.5, "scale": True}, "text")
    assert (meta.seed, meta.steps, meta.scale, meta.prompt, meta.model) == (None,) * 5
    assert meta.characters == []


def test_undecodable_image_bytes_are_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="cannot read the image"):
        read_metadata(b"definitely not an image")


# --- property tests ------------------------------------------------------------------------


def _small_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "AI generated image")
    info.add_text("Comment", json.dumps(COMMENT), zip=True)
    info.add_itxt("Description", "猫, cat", zip=True)
    info.add_itxt("Source", "ü", zip=False)
    out = io.BytesIO()
    embed_stealth(_noise(32), {"Comment": "{}"}).save(out, "PNG", pnginfo=info)
    return out.getvalue()


_SMALL_PNG = _small_png()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_after_a_png_signature_only_raise_decode_error(tail: bytes) -> None:
    try:
        chunks = read_text_chunks(PNG_SIGNATURE + tail)
    except DecodeError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in chunks.items())


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_damaged_pngs_only_raise_decode_error(data: st.DataObject) -> None:
    png = bytearray(_SMALL_PNG)
    for _ in range(data.draw(st.integers(1, 4))):
        png[data.draw(st.integers(8, len(png) - 1))] = data.draw(st.integers(0, 255))
    try:
        chunks = read_text_chunks(bytes(png))
    except DecodeError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in chunks.items())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 2**32 - 1))
def test_any_stealth_payload_only_raises_decode_error(payload: bytes, bit_length: int) -> None:
    try:
        found = read_stealth(_stealth_image(payload, bit_length))
    except DecodeError:
        return
    assert found is not None


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=200), max_size=4))
def test_stealth_round_trips_any_text(chunks: dict[str, str]) -> None:
    assert read_stealth(embed_stealth(Image.new("RGBA", (64, 64)), chunks)) == chunks


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_read_metadata_on_damaged_pngs_only_raises_decode_error(data: st.DataObject) -> None:
    png = bytearray(_SMALL_PNG)
    for _ in range(data.draw(st.integers(1, 3))):
        png[data.draw(st.integers(8, len(png) - 1))] = data.draw(st.integers(0, 255))
    try:
        meta = read_metadata(bytes(png))
    except DecodeError:
        return
    assert meta is None or meta.origin in ("text", "stealth")
