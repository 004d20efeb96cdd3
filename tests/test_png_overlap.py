"""A lone NovelAI PNG is cast while it decodes: exact results, rows never read before they are
decoded, plain decoding for every other PNG, and broken data still a DecodeError."""

from __future__ import annotations

import io
import itertools
import time
import zlib
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

from tests.comfy_harness import pack_module

tensors = pack_module("nodes.runtime.tensors")
overlap = pack_module("nodes.runtime.png_overlap")
DecodeError = pack_module("novelai_core.errors").DecodeError
UNWRITTEN = 0x5A  # what the pixel buffer holds before the decoder writes a row


def _png(pixels: np.ndarray, mode: str = "RGBA", **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, "PNG", **save)
    return buffer.getvalue()


def _images(height: int = 320, width: int = 96) -> dict[str, np.ndarray]:
    """Pixels that compress very differently (long matches, none at all, a mix)."""
    rng = np.random.default_rng(height * width)
    noise = rng.integers(0, 256, (height, width, 4), np.uint8)
    flat = np.zeros((height, width, 4), np.uint8)
    flat[..., 3] = 255
    stripes = np.repeat(rng.integers(0, 256, (height, 1, 4), np.uint8), width, axis=1)
    mixed = flat.copy()
    mixed[height // 3 : height // 2] = noise[height // 3 : height // 2]
    mixed[..., 3] = np.where(rng.random((height, width)) < 0.02, 254, 255)  # stealth-like
    return {"noise": noise, "flat": flat, "stripes": stripes, "mixed": mixed}


def _expected_rgb(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels[..., :3].astype(np.float32) * np.float32(1 / 255))


@pytest.fixture
def watched_casts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Fill the decoder's buffer with UNWRITTEN and record every band the follower casts."""
    bands: list[tuple[int, int]] = []
    cast = tensors._cast_rgba_rows

    def recorded(rgba: Any, out: Any, top: int, bottom: int) -> None:
        bands.append((top, bottom))
        cast(rgba, out, top, bottom)

    monkeypatch.setattr(
        overlap, "_pixel_buffer", lambda h, w: np.full((h, w, 4), UNWRITTEN, np.uint8)
    )
    monkeypatch.setattr(tensors, "_cast_rgba_rows", recorded)
    return bands


def _read_in_pieces_of(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(overlap, "_MIN_PIECE", size)
    monkeypatch.setattr(overlap, "_MAX_PIECE", size)


@pytest.mark.parametrize("kind", ["noise", "flat", "stripes", "mixed"])
@pytest.mark.parametrize("piece", [64, 257, 4096])
def test_a_lone_png_cast_during_its_decode_equals_the_plain_conversion(
    kind: str, piece: int, watched_casts: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny pieces mean many counts handed over, some in the middle of a row: a row counted
    # ready too early would be cast from UNWRITTEN bytes and differ from the expected pixels.
    _read_in_pieces_of(piece, monkeypatch)
    pixels = _images()[kind]
    data = _png(pixels)
    for _ in range(3):
        watched_casts.clear()
        batch, mask = tensors.pngs_to_tensors([data], alpha=False)
        assert torch.allclose(batch[0], _expected_rgb(pixels), atol=1e-7, rtol=0)
        assert not mask.any() and mask.shape == (1, 320, 96)
        rows = sorted(watched_casts)
        assert rows[0][0] == 0 and rows[-1][1] == 320  # every row once, in order, no gaps
        assert all(a[1] == b[0] for a, b in itertools.pairwise(rows))
    if len(data) > 3 * piece:  # read in several pieces: cast in bands as the decode went
        assert len(watched_casts) > 1


@pytest.mark.parametrize("kind", ["flat", "stripes"])
@pytest.mark.parametrize("piece", [64, 100, 257])
def test_rows_are_cast_only_once_decoded_even_when_the_decoder_lags_behind(
    kind: str, piece: int, watched_casts: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading each piece slowly gives the follower all the time it wants: every row it counts
    # ready is cast while the decoder waits, so one counted too early always shows up.
    _read_in_pieces_of(piece, monkeypatch)
    read = PngImagePlugin.PngImageFile.load_read

    def slow_read(self: Any, size: int) -> bytes:
        time.sleep(0.001)
        return read(self, size)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load_read", slow_read)
    pixels = _images()[kind]
    batch, _ = tensors.pngs_to_tensors([_png(pixels)], alpha=False)
    assert torch.allclose(batch[0], _expected_rgb(pixels), atol=1e-7, rtol=0)
    assert len(watched_casts) > 1


def test_the_mask_of_a_transparent_png_on_this_path_is_one_minus_alpha(
    watched_casts: list[tuple[int, int]],
) -> None:
    pixels = _images()["noise"]
    batch, mask = tensors.pngs_to_tensors([_png(pixels)])
    expected = torch.from_numpy((255 - pixels[..., 3].astype(np.float32)) / 255)
    assert torch.allclose(mask[0], expected, atol=1e-7, rtol=0)
    assert torch.allclose(batch[0], _expected_rgb(pixels), atol=1e-7, rtol=0)
    assert watched_casts


def _handmade_png(pixels: np.ndarray, *, depth: int = 8, interlaced: bool = False) -> bytes:
    """An RGBA PNG written by hand, for the forms PIL does not write: 16 bits per channel
    (pixels are scaled up) and Adam7 interlacing (IDAT holds the seven passes)."""
    height, width = pixels.shape[:2]
    samples = pixels.astype(">u2") * 257 if depth == 16 else pixels
    passes = [(0, 0, 1, 1)]
    if interlaced:
        passes = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4),
                  (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]  # fmt: skip
    rows = bytearray()
    for top, left, dy, dx in passes:
        for row in samples[top::dy, left::dx]:
            if row.size:
                rows += b"\0" + row.tobytes()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    header += bytes([depth, 6, 0, 0, int(interlaced)])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


def _other_pngs() -> dict[str, bytes]:
    noise = _images()["noise"]
    palette = io.BytesIO()
    Image.fromarray(noise[..., :3].copy(), "RGB").convert("P").save(palette, "PNG")
    return {
        "RGB": _png(noise[..., :3].copy(), "RGB"),
        "palette": palette.getvalue(),
        "16-bit RGBA": _handmade_png(noise, depth=16),
        "interlaced RGBA": _handmade_png(noise, interlaced=True),
        "short RGBA": _png(_images(height=200)["noise"]),
    }


@pytest.mark.parametrize("name", list(_other_pngs()))
def test_other_pngs_take_the_plain_path_with_the_same_result(
    name: str, watched_casts: list[tuple[int, int]]
) -> None:
    data = _other_pngs()[name]
    opened = Image.open(io.BytesIO(data))
    assert not overlap.eligible(opened)
    batch, _ = tensors.pngs_to_tensors([data], alpha=False)
    reference = np.asarray(opened.convert("RGB"), dtype=np.float32) * np.float32(1 / 255)
    assert torch.allclose(batch[0], torch.from_numpy(reference), atol=1e-7, rtol=0)
    assert not watched_casts


@pytest.mark.parametrize("options", [{"depth": 16}, {"interlaced": True}])
def test_the_handmade_pngs_decode_to_their_pixels(options: dict[str, Any]) -> None:
    pixels = _images()["noise"]
    image = Image.open(io.BytesIO(_handmade_png(pixels, **options)))
    assert image.mode == "RGBA" and bool(image.info.get("interlace")) == ("interlaced" in options)
    assert np.array_equal(np.asarray(image), pixels)


def _idat_span(data: bytes) -> tuple[int, int]:
    start = data.index(b"IDAT") + 4
    return start, start + int.from_bytes(data[start - 8 : start - 4], "big")


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_broken_image_data_on_this_path_is_a_decode_error_and_nothing_hangs(
    damage: str, watched_casts: list[tuple[int, int]]
) -> None:
    data = bytearray(_png(_images()["mixed"]))
    start, end = _idat_span(bytes(data))
    if damage == "corrupt":
        data[start + (end - start) // 2 : end] = bytes(end - start - (end - start) // 2)
        broken = bytes(data)
    else:
        broken = bytes(data[: (start + end) // 2])
    assert overlap.eligible(Image.open(io.BytesIO(broken)))
    with pytest.raises(DecodeError, match="image 0"):
        tensors.pngs_to_tensors([broken], alpha=False)
    pixels = _images()["noise"]  # the decoding threads are free for the next image
    batch, _ = tensors.pngs_to_tensors([_png(pixels)], alpha=False)
    assert torch.allclose(batch[0], _expected_rgb(pixels), atol=1e-7, rtol=0)


def test_a_pillow_that_decodes_into_its_own_memory_still_gives_the_right_pixels(
    monkeypatch: pytest.MonkeyPatch, watched_casts: list[tuple[int, int]]
) -> None:
    prepare = PngImagePlugin.PngImageFile.load_prepare

    def own_memory(self: Any) -> None:
        self.im = Image.core.new(self.mode, self.size)
        prepare(self)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load_prepare", own_memory)
    pixels = _images()["mixed"]
    batch, mask = tensors.pngs_to_tensors([_png(pixels)], alpha=False)
    assert torch.allclose(batch[0], _expected_rgb(pixels), atol=1e-7, rtol=0)
    assert not mask.any()


def test_a_pillow_that_copies_a_mapped_buffer_takes_the_plain_path(
    monkeypatch: pytest.MonkeyPatch, watched_casts: list[tuple[int, int]]
) -> None:
    def copying(mode: str, size: tuple[int, int], data: Any, *args: Any) -> Image.Image:
        return Image.frombytes(mode, size, bytes(data), *args)

    monkeypatch.setattr(Image, "frombuffer", copying)
    pixels = _images()["mixed"]
    batch, _ = tensors.pngs_to_tensors([_png(pixels)], alpha=False)
    assert torch.allclose(batch[0], _expected_rgb(pixels), atol=1e-7, rtol=0)
    assert not watched_casts


def test_rows_that_decode_to_the_mark_value_are_still_cast_from_their_final_pixels(
    watched_casts: list[tuple[int, int]],
) -> None:
    pixels = _images()["noise"]
    pixels[:, -1, 3] = overlap.SENTINEL  # every row's mark decodes to the mark's own value
    batch, mask = tensors.pngs_to_tensors([_png(pixels)])
    assert torch.allclose(batch[0], _expected_rgb(pixels), atol=1e-7, rtol=0)
    expected = torch.from_numpy((255 - pixels[..., 3].astype(np.float32)) / 255)
    assert torch.allclose(mask[0], expected, atol=1e-7, rtol=0)
