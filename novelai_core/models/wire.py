"""NovelAI's JSON, 1:1: request bodies (``extra="forbid"``) and responses (``extra="ignore"``).

Python names follow snake_case; the web app's camelCase keys are aliases. Dump request models with
``dump_wire(model)`` (by alias, ``None`` left out: the web app omits fields that do not apply).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..contract.constants import Action


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def dump_wire(model: BaseModel) -> dict[str, Any]:
    """The exact JSON object for a request model."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


class Center(_Request):
    x: float
    y: float


class CharCaption(_Request):
    char_caption: str
    centers: list[Center]


class V4Caption(_Request):
    base_caption: str
    char_captions: list[CharCaption] = Field(default_factory=list)


class V4Prompt(_Request):
    caption: V4Caption
    use_coords: bool
    use_order: bool = True


class V4NegativePrompt(_Request):
    caption: V4Caption
    legacy_uc: bool = False


class CharacterPrompt(_Request):
    prompt: str
    uc: str
    center: Center
    enabled: bool = True


class DirectorReferenceDescription(_Request):
    caption: V4Caption
    legacy_uc: bool = False


class Img2ImgNested(_Request):
    """Inpainting's nested img2img strength (read by V4/V4.5 servers)."""

    strength: float
    color_correct: bool = True


class GenerateImageParameters(_Request):
    """``parameters`` of /ai/generate-image (contract §3-§8)."""

    params_version: int
    width: int
    height: int
    scale: float
    sampler: str
    steps: int
    n_samples: int
    seed: int
    noise_schedule: str
    negative_prompt: str
    cfg_rescale: float
    # Metadata only (V3/V4/V4.5); V5 sends the *_preset_id / tag_hint_* fields instead.
    quality_toggle: bool | None = Field(None, alias="qualityToggle")
    uc_preset: int | None = Field(None, alias="ucPreset")
    # params_version 4: the preset ids (undeclared) and the schema's integer tag hints (R1).
    quality_preset_id: str | None = Field(None, alias="qualityPresetId")
    uc_preset_id: str | None = Field(None, alias="ucPresetId")
    tag_hint_qt: int | None = None
    tag_hint_uc_preset: int | None = None
    tag_hint_transparent_background: bool | None = None
    straight_alpha: bool | None = None
    auto_smea: bool | None = Field(None, alias="autoSmea")
    sm: bool | None = None
    sm_dyn: bool | None = None
    dynamic_thresholding: bool | None = None
    skip_cfg_above_sigma: float | None = None
    deliberate_euler_ancestral_bug: bool | None = None
    prefer_brownian: bool | None = None
    legacy: bool | None = None
    legacy_v3_extend: bool | None = None
    legacy_uc: bool | None = None
    controlnet_strength: int | None = None
    image_format: Literal["png", "webp"] | None = None
    stream: Literal["msgpack", "sse"] | None = None
    v4_prompt: V4Prompt | None = None
    v4_negative_prompt: V4NegativePrompt | None = None
    character_prompts: list[CharacterPrompt] | None = Field(None, alias="characterPrompts")
    use_coords: bool | None = None
    # img2img / infill (§7): image and mask are inline base64 (schema form, R9 d).
    image: str | None = None
    mask: str | None = None
    strength: float | None = None
    noise: float | None = None
    extra_noise_seed: int | None = None
    color_correct: bool | None = None
    add_original_image: bool | None = None
    inpaint_img2img_strength: float | None = Field(None, alias="inpaintImg2ImgStrength")
    img2img: Img2ImgNested | None = None
    upscaled_enhance: bool | None = None  # Enhance "Max" (V5, R10)
    # Vibe transfer (§8).
    reference_image_multiple: list[str] | None = None
    reference_information_extracted_multiple: list[float] | None = None
    reference_strength_multiple: list[float] | None = None
    normalize_reference_strength_multiple: bool | None = None
    # Character reference (§8, V4.5).
    director_reference_images: list[str] | None = None
    director_reference_descriptions: list[DirectorReferenceDescription] | None = None
    director_reference_information_extracted: list[float] | None = None
    director_reference_strength_values: list[float] | None = None
    director_reference_secondary_strength_values: list[float] | None = None


class GenerateImageRequest(_Request):
    """Body of /ai/generate-image and /ai/generate-image-stream."""

    input: str
    model: str
    action: Action
    parameters: GenerateImageParameters
    use_new_shared_trial: bool = True


class EncodeVibeRequest(_Request):
    image: str
    information_extracted: float
    model: str


class AugmentImageRequest(_Request):
    req_type: str
    image: str
    width: int
    height: int
    prompt: str | None = None
    defry: int | None = None


class UpscaleRequest(_Request):
    image: str
    model: str
    declared_blur_sigma: float = 0


class TrainingStepsLeft(_Response):
    fixed_training_steps_left: int = Field(0, alias="fixedTrainingStepsLeft")
    purchased_training_steps: int = Field(0, alias="purchasedTrainingSteps")


class SubscriptionUsage(_Response):
    percent: float | None = None
    is_negative: bool | None = Field(None, alias="isNegative")
    time_until_next_percent: float | None = Field(None, alias="timeUntilNextPercent")


class SubscriptionResponse(_Response):
    """GET /user/subscription. Anlas = fixed + purchased training steps."""

    tier: int
    active: bool
    expires_at: int | None = Field(None, alias="expiresAt")
    perks: dict[str, Any] = Field(default_factory=dict)
    training_steps_left: TrainingStepsLeft = Field(
        default_factory=TrainingStepsLeft, alias="trainingStepsLeft"
    )
    account_type: int | None = Field(None, alias="accountType")
    is_grace_period: bool | None = Field(None, alias="isGracePeriod")
    usage: SubscriptionUsage | None = None

    @property
    def anlas(self) -> int:
        steps = self.training_steps_left
        return steps.fixed_training_steps_left + steps.purchased_training_steps


class StreamIntermediate(_Response):
    """One preview step. ``image`` is raw bytes: SSE readers base64-decode it first."""

    event_type: Literal["intermediate"] = "intermediate"
    samp_ix: int
    step_ix: int
    gen_id: str | int | None = None
    sigma: float | None = None
    image: bytes  # JPEG


class StreamFinal(_Response):
    event_type: Literal["final"] = "final"
    samp_ix: int
    gen_id: str | int | None = None
    sigma: float | None = None
    image: bytes  # PNG


class StreamError(_Response):
    event_type: Literal["error"] = "error"
    message: str
    samp_ix: int | None = None
    gen_id: str | int | None = None


class SuggestedTag(_Response):
    tag: str
    count: int = 0
    confidence: float = 0.0


class SuggestTagsResponse(_Response):
    tags: list[SuggestedTag] = Field(default_factory=list)
