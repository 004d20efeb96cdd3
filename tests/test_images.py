"""Image helpers: decoding, exact resize, letterboxing and the 8-px mask quantisation."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from novelai_core.contract.constants import (
    REFERENCE_CANVAS_LANDSCAPE,
    REFERENCE_CANVAS_PORTRAIT,
    REFERENCE_CANVAS_SQUARE,
)
from novelai_core.converter.images import (
    b64,
    closest_canvas,
    letterbox,
    png_bytes,
    quantize_mask,
    resize_exact,
    to_pil,
)
from novelai_core.errors import InputError

CANVASES = (REFERENCE_CANVAS_PORTRAIT, REFERENCE_CANVAS_LANDSCAPE, REFERENCE_CANVAS_SQUARE)


def test_bytes_in_any_common_format_decode_to_a_pil_image() -> None:
    for fmt in ("PNG", "JPEG", "WEBP"):
        buffer = io.BytesIO()
        Image.new("RGB", (10, 6), (5, 6, 7)).save(buffer, format=fmt)
        assert to_pil(buffer.getvalue()).size == (10, 6)


def test_bytes_that_are_not_an_image_raise_an_input_error_naming_the_field() -> None:
    with pytest.raises(InputError, match=r"source\.image"):
        to_pil(b"hello", field="source.image")


def test_base64_has_no_data_url_prefix_and_round_trips() -> None:
    data = png_bytes(Image.new("RGB", (2, 2)))
    assert b64(data).startswith("iVBOR")


def test_resize_exact_gives_the_canvas_size_and_keeps_alpha() -> None:
    image = Image.new("RGBA", (100, 50), (1, 2, 3, 4))
    out = resize_exact(image, 64, 128)
    assert out.size == (64, 128)
    assert out.mode == "RGBA"
    assert resize_exact(Image.new("L", (8, 8)), 8, 8).mode == "RGB"


@pytest.mark.parametrize(
    ("size", "canvas"),
    [
        ((600, 900), (1024, 1536)),
        ((900, 600), (1536, 1024)),
        ((500, 520), (1472, 1472)),
        ((100, 400), (1024, 1536)),
        ((4000, 1000), (1536, 1024)),
    ],
)
def test_character_references_pick_the_canvas_nearest_their_aspect_ratio(
    size: tuple[int, int], canvas: tuple[int, int]
) -> None:
    assert closest_canvas(size, CANVASES) == canvas


def test_letterbox_centres_the_scaled_image_on_black() -> None:
    out = letterbox(Image.new("RGB", (300, 100), (255, 0, 0)), (600, 600))
    assert out.size == (600, 600)
    assert out.getpixel((300, 300)) == (255, 0, 0)  # centre: the image
    assert out.getpixel((300, 10)) == (0, 0, 0)  # above: the black bar
    assert out.getpixel((300, 199)) == (0, 0, 0)
    assert out.getpixel((300, 200)) == (255, 0, 0)  # 600×200 band starts at y=200


def test_v3_vibe_letterbox_is_transparent_rgba() -> None:
    out = letterbox(Image.new("RGB", (200, 100), (9, 9, 9)), (448, 448), mode="RGBA", fill=(0,) * 4)
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0)) == (0, 0, 0, 0)
    assert out.getpixel((224, 224)) == (9, 9, 9, 255)


def test_mask_quantisation_keeps_blocks_more_than_half_white() -> None:
    mask = Image.new("L", (32, 16), 0)
    mask.paste(255, (0, 0, 5, 8))  # 5/8 of block (0,0) → repaint
    mask.paste(255, (16, 0, 19, 8))  # 3/8 of block (2,0) → keep
    out = quantize_mask(mask, 32, 16)
    assert out.mode == "L"
    assert out.size == (32, 16)
    assert {out.getpixel((x, y)) for x in range(8) for y in range(8)} == {255}
    assert {out.getpixel((x, y)) for x in range(16, 24) for y in range(8)} == {0}
    assert {out.getpixel((x, y)) for x in range(32) for y in range(8, 16)} == {0}


def test_transparent_mask_pixels_count_as_keep() -> None:
    mask = Image.new("RGBA", (16, 8), (255, 255, 255, 0))
    mask.paste((255, 255, 255, 255), (0, 0, 8, 8))
    out = quantize_mask(mask, 16, 8)
    assert out.getpixel((0, 0)) == 255
    assert out.getpixel((12, 4)) == 0


def test_the_mask_is_scaled_to_the_canvas_before_quantising() -> None:
    mask = Image.new("L", (4, 2), 0)
    mask.paste(255, (0, 0, 2, 2))
    out = quantize_mask(mask, 64, 32)
    assert out.size == (64, 32)
    assert out.getpixel((0, 0)) == 255
    assert out.getpixel((40, 0)) == 0


def test_a_header_gives_the_size_without_decoding_and_a_whole_decode_refuses_broken_data() -> None:
    from novelai_core.converter.images import header_size, image_size

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 200, 30)).save(buffer, format="PNG")
    cut = buffer.getvalue()[: len(buffer.getvalue()) // 2]  # the header survives, the pixels do not
    assert header_size(cut) == (640, 480)
    with pytest.raises(InputError, match="not a PNG, JPEG or WebP"):
        image_size(cut)
    with pytest.raises(InputError, match="not a PNG"):
        header_size(b"not an image")
