"""User models: immutable, strict about unknown fields, friendly defaults."""

from __future__ import annotations

import pytest
from PIL import Image
from pydantic import ValidationError

from novelai_core.contract.capabilities import DEFAULT_MODEL
from novelai_core.models.user import (
    Character,
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Prompt,
    Vibe,
)


def test_defaults_follow_the_web_app() -> None:
    request = GenerationRequest(prompt=Prompt(text="1girl"))
    assert request.model == DEFAULT_MODEL
    assert (request.settings.width, request.settings.height) == (832, 1216)
    assert request.settings.steps is None  # → the model's default
    assert request.prompt.quality is True
    assert request.prompt.uc_preset == "heavy"
    img = Image.new("RGB", (8, 8))
    assert Img2ImgSource(image=img).strength == 0.7
    inpaint = InpaintSource(image=img, mask=img)
    assert (inpaint.add_original_image, inpaint.img2img_strength) == (False, 1.0)
    assert Vibe(image=img).strength == 0.6
    ref = CharacterReference(image=img)
    assert (ref.mode, ref.strength, ref.fidelity) == ("character&style", 1.0, 1.0)


def test_models_are_frozen() -> None:
    prompt = Prompt(text="a")
    with pytest.raises(ValidationError):
        prompt.text = "b"  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="sed"):
        GenerationSettings(sed=3)  # type: ignore[call-arg]


def test_lists_become_tuples_so_values_stay_hashable_and_immutable() -> None:
    request = GenerationRequest(
        prompt=Prompt(text="a"),
        characters=[Character(prompt="b", position=[0.2, 0.4])],  # type: ignore[arg-type]
    )
    assert isinstance(request.characters, tuple)
    assert request.characters[0].position == (0.2, 0.4)


def test_grid_positions_are_normalised_to_upper_case() -> None:
    assert Character(prompt="a", position=" c3 ").position == "C3"


def test_a_vibe_needs_an_image_or_an_encoding() -> None:
    with pytest.raises(ValidationError, match="image or an encoding"):
        Vibe()
    assert Vibe(encoding=b"x").image is None


def test_images_may_be_pil_or_bytes_but_not_paths() -> None:
    assert Img2ImgSource(image=b"\x89PNG...").image == b"\x89PNG..."
    with pytest.raises(ValidationError):
        Img2ImgSource(image="/tmp/x.png")  # type: ignore[arg-type]


def test_strength_ranges_are_checked_at_construction() -> None:
    img = Image.new("RGB", (8, 8))
    with pytest.raises(ValidationError, match="strength"):
        Img2ImgSource(image=img, strength=1.5)
    with pytest.raises(ValidationError, match="fidelity"):
        CharacterReference(image=img, fidelity=-0.1)
    with pytest.raises(ValidationError, match="mode"):
        CharacterReference(image=img, mode="face")  # type: ignore[arg-type]


@pytest.mark.parametrize("source", [Img2ImgSource, InpaintSource])
def test_source_strength_and_noise_follow_the_contract_ranges(source: type) -> None:
    # Contract §7: strength 0.01-0.99, noise 0-0.99; NovelAI answers 400 outside them.
    img = Image.new("RGB", (8, 8))
    extra = {"mask": img} if source is InpaintSource else {}
    for strength in (0.01, 0.99):
        assert source(image=img, strength=strength, **extra).strength == strength
    for strength in (0.0, 1.0):
        with pytest.raises(ValidationError, match="strength"):
            source(image=img, strength=strength, **extra)
    assert source(image=img, noise=0.99, **extra).noise == 0.99
    for noise in (-0.01, 1.0):
        with pytest.raises(ValidationError, match="noise"):
            source(image=img, noise=noise, **extra)


def test_changing_a_copy_leaves_the_original_alone() -> None:
    request = GenerationRequest(prompt=Prompt(text="a"))
    changed = request.model_copy(update={"characters": (Character(prompt="b"),)})
    assert request.characters == ()
    assert len(changed.characters) == 1
