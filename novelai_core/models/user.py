"""Friendly, immutable user-level models of a NovelAI generation (what nodes and the CLI build).

Only simple per-field ranges are checked here; every limit the contract names (size, steps,
seed, characters, vibes...) is checked by ``converter.validate_request`` against the capability
table, so those errors are all ``InputError``s naming the field and the limit.
"""

from __future__ import annotations

from typing import Annotated, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from ..contract.capabilities import DEFAULT_MODEL
from ..contract.constants import ReferenceMode
from ..contract.presets import canonical_uc_preset
from ..converter.images import ImageInput

__all__ = [
    "Character",
    "CharacterReference",
    "GenerationRequest",
    "GenerationSettings",
    "ImageInput",
    "Img2ImgSource",
    "InpaintSource",
    "Position",
    "Prompt",
    "Vibe",
]

Position = str | tuple[float, float] | None
# Strict bytes: a str (say, a file path) must not be silently encoded into "image bytes".
_Bytes = Annotated[bytes, Strict()]
_Image = Image.Image | _Bytes


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Prompt(_Frozen):
    """The base prompt, the user's UC, and whether the web app's quality/UC presets are added."""

    text: str
    negative: str = ""
    quality: bool = True
    # None = the model's first (default) quality preset.
    quality_preset: str | None = None
    # The web app's ids: heavy, light, humanFocus, furryFocus, none (old human/furry accepted).
    uc_preset: str = "heavy"

    @field_validator("uc_preset")
    @classmethod
    def _web_preset_id(cls, value: str) -> str:
        return canonical_uc_preset(value)


class Character(_Frozen):
    """One character of a multi-character prompt (V4+)."""

    prompt: str
    uc: str = ""
    # Grid cell "A1".."E5", free (x, y) in 0..1, or None = "AI's choice".
    position: Position = None
    enabled: bool = True

    @field_validator("position")
    @classmethod
    def _normalise_cell(cls, value: Position) -> Position:
        # Range checks live in converter.validate_request so every input error is an InputError.
        return value.strip().upper() if isinstance(value, str) else value


class Img2ImgSource(_Frozen):
    """img2img: start from an image (resized to the canvas by the converter)."""

    image: _Image
    strength: float = Field(0.7, ge=0.01, le=0.99)
    noise: float = Field(0.0, ge=0.0, le=0.99)
    color_correct: bool = False
    # Enhance (R10): V4.5/V5 add the web app's "-2::upscaled, blurry::" to the prompt.
    enhance: bool = False
    # Enhance "Max" (V5): the request keeps the source's size and the server enlarges it
    # (upscaled_enhance); no prompt addition.
    upscaled_enhance: bool = False


class InpaintSource(_Frozen):
    """Inpainting: repaint the white area of ``mask`` (same size as ``image``)."""

    image: _Image
    mask: _Image
    # The web app sends its img2img defaults with infill; the inpaint slider is img2img_strength.
    # strength is sent as parameters.strength, which NovelAI limits to 0.01-0.99 (contract §7).
    strength: float = Field(0.7, ge=0.01, le=0.99)
    noise: float = Field(0.0, ge=0.0, le=0.99)
    add_original_image: bool = False
    img2img_strength: float = Field(1.0, ge=0.01, le=1.0)


class Vibe(_Frozen):
    """Vibe transfer: a raw image (V3; V4+ encodes it first) and/or an encoding for one model."""

    image: _Image | None = None
    encoding: _Bytes | None = None
    encoding_model: str | None = None
    information_extracted: float = Field(1.0, ge=0.0, le=1.0)
    strength: float = Field(0.6, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _needs_image_or_encoding(self) -> Vibe:
        if self.image is None and self.encoding is None:
            raise ValueError("a vibe needs an image or an encoding")
        if self.encoding is not None and not self.encoding:
            raise ValueError("a vibe encoding must not be empty")
        return self


class CharacterReference(_Frozen):
    """Character reference ("Precise Reference", V4.5)."""

    image: _Image
    mode: ReferenceMode = "character&style"
    strength: float = Field(1.0, ge=0.0, le=1.0)
    fidelity: float = Field(1.0, ge=0.0, le=1.0)


class GenerationSettings(_Frozen):
    """Canvas and sampling settings; None means "the model's default" (capability table)."""

    width: int = 832
    height: int = 1216
    steps: int | None = None
    scale: float | None = None
    sampler: str | None = None
    noise_schedule: str | None = None
    cfg_rescale: float = Field(0.0, ge=0.0, le=1.0)
    # None = random, drawn by converter.resolve_seed (the converter itself stays pure).
    seed: int | None = None
    n_samples: int = 1
    smea: bool = False
    smea_dyn: bool = False
    decrisper: bool = False
    variety: bool = False
    transparent_background: bool | None = None
    image_format: Literal["png", "webp"] = "png"


class GenerationRequest(_Frozen):
    """Everything one generate call needs, before model-specific conversion."""

    model: str = DEFAULT_MODEL
    prompt: Prompt
    settings: GenerationSettings = GenerationSettings()
    characters: tuple[Character, ...] = ()
    source: Img2ImgSource | InpaintSource | None = None
    vibes: tuple[Vibe, ...] = ()
    character_references: tuple[CharacterReference, ...] = ()
