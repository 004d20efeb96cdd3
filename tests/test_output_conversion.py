"""Fast paths of the Generate node's outputs keep exact results: tensors and the originals cache."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from tests.comfy_harness import pack_module

tensors = pack_module("nodes.runtime.tensors")
originals = pack_module("nodes.runtime.originals")


def _noise(mode: str, size: tuple[int, int] = (24, 16)) -> Image.Image:
    rgba = Image.fromarray(np.random.default_rng(5).integers(0, 256, (*size[::-1], 4), np.uint8))
    if mode == "P+transparency":
        image = rgba.convert("RGB").convert("P")
        image.info["transparency"] = 3
        return image
    return rgba.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "P+transparency", "I;16"])
def test_every_image_mode_converts_to_exactly_pixels_over_255(mode: str) -> None:
    image = _noise(mode)
    batch, mask = tensors.images_to_tensors([image, image])
    has_alpha = mode in ("RGBA", "LA", "P+transparency")
    reference = np.asarray(image.convert("RGBA" if has_alpha else "RGB"), dtype=np.float64)
    expected_rgb = torch.from_numpy(reference[..., :3] / 255).float()
    assert batch.dtype == torch.float32 and batch.shape == (2, 16, 24, 3)
    assert torch.allclose(batch[1], expected_rgb, atol=1e-7, rtol=0)
    if has_alpha:
        expected_mask = torch.from_numpy((255 - reference[..., 3]) / 255).float()
        assert torch.allclose(mask[0], expected_mask, atol=1e-7, rtol=0)
    else:
        assert not mask.any()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_an_original_is_found_from_its_pixels_after_registering_without_decoding() -> None:
    originals.clear()
    first, second = _noise("RGBA"), _noise("RGB", (8, 8))
    originals.remember_png(b"\x89PNG\r\n\x1a\n damaged: never decoded when registered")
    originals.remember_png(_png(first))
    originals.remember_png(_png(second))
    assert originals.lookup(first.convert("RGB")) == _png(first)  # alpha plays no part
    assert originals.lookup(second) == _png(second)
    assert originals.lookup(Image.new("RGB", (8, 8))) is None
    originals.clear()


def test_the_originals_cache_keeps_only_the_newest_entries() -> None:
    originals.clear()
    images = [Image.new("RGB", (4, 4), (i, 0, 0)) for i in range(originals.MAX_ENTRIES + 1)]
    for image in images:
        originals.remember_png(_png(image))
    assert originals.lookup(images[0]) is None
    assert originals.lookup(images[-1]) == _png(images[-1])
    assert originals.lookup(images[1]) == _png(images[1])
    originals.clear()


def test_an_opaque_image_with_a_few_translucent_pixels_gets_exactly_those_in_its_mask() -> None:
    image = Image.new("RGBA", (40, 30), (5, 6, 7, 255))
    image.putpixel((3, 5), (5, 6, 7, 254))  # like stealth metadata: an alpha LSB cleared
    image.putpixel((20, 11), (5, 6, 7, 0))
    opaque = Image.new("RGBA", (40, 30), (5, 6, 7, 255))
    _, mask = tensors.images_to_tensors([image, opaque])
    expected = torch.zeros((30, 40))
    expected[5, 3] = 1 / 255
    expected[11, 20] = 1.0
    assert torch.allclose(mask[0], expected, atol=1e-7, rtol=0)
    assert not mask[1].any()


def test_a_batch_of_pngs_decodes_in_parallel_to_the_same_tensors_as_one_by_one() -> None:
    images = [_noise("RGBA"), _noise("RGB"), _noise("LA"), _noise("P+transparency")]
    pngs = [_png(image) for image in images]
    batch, mask = tensors.pngs_to_tensors(pngs)
    for index, data in enumerate(pngs):
        one, one_mask = tensors.images_to_tensors([tensors.decode_image(data)])
        assert torch.equal(batch[index], one[0]) and torch.equal(mask[index], one_mask[0])


def test_an_unreadable_image_in_a_batch_is_a_decode_error_naming_it() -> None:
    pngs = [_png(_noise("RGB")), b"\x89PNG\r\n\x1a\n broken", _png(_noise("RGB"))]
    with pytest.raises(pack_module("novelai_core.errors").DecodeError, match="image 1"):
        tensors.pngs_to_tensors(pngs)


@pytest.mark.parametrize("height", [1, 127, 257, 1216])
def test_a_lone_image_converted_in_bands_on_threads_matches_the_plain_computation(
    height: int,
) -> None:
    rng = np.random.default_rng(height)
    pixels = rng.integers(0, 256, (height, 33, 4), np.uint8)
    pixels[..., 3] = np.where(rng.random((height, 33)) < 0.01, 7, 255)
    batch, mask = tensors.pngs_to_tensors([_png(Image.fromarray(pixels, "RGBA"))])
    expected = torch.from_numpy(pixels[..., :3].astype(np.float32) * np.float32(1 / 255))
    assert batch.shape == (1, height, 33, 3)
    assert torch.allclose(batch[0], expected, atol=1e-7, rtol=0)
    expected_mask = torch.from_numpy((255 - pixels[..., 3].astype(np.float32)) / 255)
    assert torch.allclose(mask[0], expected_mask, atol=1e-7, rtol=0)


def test_alpha_off_gives_a_zero_mask_and_the_same_image() -> None:
    image = _noise("RGBA")
    with_alpha, alpha_mask = tensors.pngs_to_tensors([_png(image)])
    without, zero_mask = tensors.pngs_to_tensors([_png(image)], alpha=False)
    assert alpha_mask.any() and not zero_mask.any()
    assert zero_mask.shape == alpha_mask.shape and torch.equal(with_alpha, without)
    batch, batch_mask = tensors.pngs_to_tensors([_png(image)] * 2, alpha=False)
    assert not batch_mask.any() and torch.equal(batch[1], with_alpha[0])


def test_an_unreadable_lone_image_is_a_decode_error() -> None:
    with pytest.raises(pack_module("novelai_core.errors").DecodeError, match="image 0"):
        tensors.pngs_to_tensors([b"\x89PNG\r\n\x1a\n broken"])
