"""The capability table: one row per NovelAI model id, read by every rule that differs by model.

NovelAI changes these with every release; change them here and nowhere else.
Sources are marked as in ``shared/novelai-api.md`` (live / clients / disputed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from ..errors import InputError
from .constants import (
    DDIM_V3,
    EXPONENTIAL,
    K_DPMPP_2M,
    K_DPMPP_2M_SDE,
    K_DPMPP_2S_ANCESTRAL,
    K_DPMPP_SDE,
    K_EULER,
    K_EULER_ANCESTRAL,
    KARRAS,
    NATIVE,
    POLYEXPONENTIAL,
)
from .presets import QUALITY, UC

Family = Literal["v3", "v4", "v4.5", "v5"]
VibeMode = Literal["raw", "encoded", "none"]
Tokenizer = Literal["clip", "t5", "qwen"]

_SAMPLERS_V4: Final = (
    K_EULER_ANCESTRAL,
    K_EULER,
    K_DPMPP_2S_ANCESTRAL,
    K_DPMPP_2M,
    K_DPMPP_2M_SDE,
    K_DPMPP_SDE,
)
_SAMPLERS_V3: Final = (*_SAMPLERS_V4, DDIM_V3)
_SCHEDULES_V3: Final = (NATIVE, KARRAS, EXPONENTIAL, POLYEXPONENTIAL)
_SCHEDULES_V4: Final = (KARRAS, EXPONENTIAL, POLYEXPONENTIAL)


@dataclass(frozen=True)
class ModelCapability:
    """Everything the SDK needs to know about one model id."""

    id: str
    family: Family
    display_name: str
    # Text NovelAI puts in a PNG's Source chunk before the model hash.
    source_name: str
    params_version: int
    samplers: tuple[str, ...]
    noise_schedules: tuple[str, ...]
    default_sampler: str
    default_noise_schedule: str
    default_steps: int
    default_scale: float
    smea: bool  # sm / sm_dyn (V3)
    decrisper: bool  # dynamic_thresholding (V3)
    # Variety+ base value for skip_cfg_above_sigma; None = the model has no Variety+.
    variety_base: float | None
    max_characters: int
    free_positions: bool  # V5: any x/y; V4/V4.5 snap to the 5x5 grid
    vibe_mode: VibeMode
    character_reference: bool
    # Quality presets in web-app order: (name, suffix). The first is the default.
    quality_presets: tuple[tuple[str, str], ...]
    # UC presets in web-app order (the index is the wire ucPreset): (name, text).
    uc_presets: tuple[tuple[str, str], ...]
    prompt_token_limit: int
    tokenizer: Tokenizer
    curated: bool  # curated/safe models: the web app does not add "nsfw" to the UC
    negative_prompt: bool = True  # V5 full-medium takes no negative prompt (clients)
    # V5 transparent background: the prompt tag plus straight_alpha (R2 of novelai-api-2026.md).
    transparency: bool = False
    # The web app appends ", teXt: <quoted strings>" to the prompt (R4): V5 and V5 inpainting.
    auto_text: bool = False
    # Enhance splices ", -2::upscaled, blurry::," into the prompt (R10): V4.5 and V5.
    enhance_prompt_add: bool = False
    # Enhance "Max": the server enlarges the image itself (upscaled_enhance, R10): V5.
    enhance_max: bool = False
    max_steps: int = 50  # V5 full-medium locks 14 (R11, Low: clients only)
    auto_smea_flag: bool = False  # send autoSmea: false (V4.5/V5 web app)
    cost_multiplier: float = 1.0  # V5 costs x1.5
    # Opus' free images of this model come from a monthly allowance (usage.percent, contract
    # §11): once it is used up they cost Anlas. V5.
    opus_allowance_metered: bool = False
    inpainting: bool = False  # this id is an inpainting model (action "infill")
    inpainting_model: str | None = None  # id to use for infill with this model
    base_model: str | None = None  # for inpainting ids: the generation model
    exists: bool = True  # False: NovelAI answers 400 "model ... doesn't exist"
    vibe_model_key: str | None = None  # modelKey in .naiv4vibe files

    @property
    def is_v4_plus(self) -> bool:
        """True for models that need v4_prompt (V4, V4.5, V5)."""
        return self.family != "v3"

    @property
    def uc_preset_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.uc_presets)

    @property
    def quality_preset_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.quality_presets)

    def uc_preset_index(self, name: str) -> int:
        """Wire index of a UC preset; raises ValueError naming the model's presets."""
        names = self.uc_preset_names
        if name not in names:
            raise ValueError(
                f"UC preset {name!r} does not exist for {self.id}; choose one of {', '.join(names)}"
            )
        return names.index(name)

    def uc_preset_text(self, name: str) -> str:
        return self.uc_presets[self.uc_preset_index(name)][1]

    def quality_suffix(self, preset: str | None = None) -> str:
        if preset is None:
            return self.quality_presets[0][1]
        for name, text in self.quality_presets:
            if name == preset:
                return text
        raise ValueError(
            f"quality preset {preset!r} does not exist for {self.id}; "
            f"choose one of {', '.join(self.quality_preset_names)}"
        )


def _uc(*names: str, family_key: str) -> tuple[tuple[str, str], ...]:
    texts = UC[family_key]
    return tuple((name, texts[name]) for name in names)


def _q(family_key: str) -> tuple[tuple[str, str], ...]:
    return tuple(QUALITY[family_key].items())


_V3 = ModelCapability(
    id="nai-diffusion-3",
    family="v3",
    display_name="NAI Diffusion Anime V3",
    source_name="NovelAI Diffusion V3",
    params_version=3,
    samplers=_SAMPLERS_V3,
    noise_schedules=_SCHEDULES_V3,
    default_sampler=K_EULER_ANCESTRAL,
    # R5 (2024-12 web capture, L params.py): karras, 23 steps; older presets' native/28 superseded.
    default_noise_schedule=KARRAS,
    default_steps=23,
    default_scale=5.0,
    smea=True,
    decrisper=True,
    variety_base=19.0,
    max_characters=0,
    free_positions=False,
    vibe_mode="raw",
    character_reference=False,
    quality_presets=_q("v3"),
    uc_presets=_uc("heavy", "light", "humanFocus", "none", family_key="v3"),
    prompt_token_limit=225,
    tokenizer="clip",
    curated=False,
    inpainting_model="nai-diffusion-3-inpainting",
)

_FURRY_V3 = replace(
    _V3,
    id="nai-diffusion-furry-3",
    display_name="NAI Diffusion Furry V3",
    source_name="NovelAI Diffusion Furry V3",
    default_scale=6.2,  # R5: furry V3's own default (L params.py, Aedial preset, Q10)
    quality_presets=_q("furry-v3"),
    uc_presets=_uc("heavy", "light", "none", family_key="furry-v3"),
    inpainting_model="nai-diffusion-furry-3-inpainting",
)

_V4_FULL = ModelCapability(
    id="nai-diffusion-4-full",
    family="v4",
    display_name="NAI Diffusion V4 Full",
    source_name="NovelAI Diffusion V4",
    params_version=3,
    samplers=_SAMPLERS_V4,
    noise_schedules=_SCHEDULES_V4,
    default_sampler=K_EULER_ANCESTRAL,
    default_noise_schedule=KARRAS,
    default_steps=23,
    # R3 Low: V4 guidance is disputed (5.5 in Q10/L, 6 in an Aedial preset); kept at 5.0 until a
    # capture settles it.
    default_scale=5.0,
    smea=False,
    decrisper=False,
    variety_base=19.0,
    max_characters=6,
    free_positions=False,
    vibe_mode="encoded",
    character_reference=False,
    quality_presets=_q("v4-full"),
    uc_presets=_uc("heavy", "light", "none", family_key="v4-full"),
    prompt_token_limit=512,
    tokenizer="t5",
    curated=False,
    inpainting_model="nai-diffusion-4-full-inpainting",
    vibe_model_key="v4full",
)

_V4_CURATED = replace(
    _V4_FULL,
    id="nai-diffusion-4-curated-preview",
    display_name="NAI Diffusion V4 Curated",
    quality_presets=_q("v4-curated"),
    uc_presets=_uc("heavy", "light", "none", family_key="v4-curated"),
    curated=True,
    inpainting_model="nai-diffusion-4-curated-inpainting",
    vibe_model_key="v4curated",
)

_V45_FULL = replace(
    _V4_FULL,
    id="nai-diffusion-4-5-full",
    family="v4.5",
    display_name="NAI Diffusion V4.5 Full",
    source_name="NovelAI Diffusion V4.5",
    variety_base=58.0,
    character_reference=True,
    quality_presets=_q("v4.5-full"),
    uc_presets=_uc("heavy", "light", "furryFocus", "humanFocus", "none", family_key="v4.5-full"),
    auto_smea_flag=True,
    enhance_prompt_add=True,
    inpainting_model="nai-diffusion-4-5-full-inpainting",
    vibe_model_key="v4-5full",
)

_V45_CURATED = replace(
    _V45_FULL,
    id="nai-diffusion-4-5-curated",
    display_name="NAI Diffusion V4.5 Curated",
    quality_presets=_q("v4.5-curated"),
    uc_presets=_uc("heavy", "light", "humanFocus", "none", family_key="v4.5-curated"),
    curated=True,
    inpainting_model="nai-diffusion-4-5-curated-inpainting",
    vibe_model_key="v4-5curated",
)

_V5_FULL = ModelCapability(
    id="nai-diffusion-5-full",
    family="v5",
    display_name="NAI Diffusion V5 Full",
    source_name="NovelAI Diffusion V5",
    params_version=4,
    samplers=_SAMPLERS_V4,
    noise_schedules=(KARRAS,),  # V5 forces karras
    default_sampler=K_EULER_ANCESTRAL,
    default_noise_schedule=KARRAS,
    default_steps=23,
    default_scale=7.0,  # R3: every V5 capture sends scale 7 (C x4, Q5), the bundle default
    smea=False,
    decrisper=False,
    variety_base=None,
    max_characters=32,
    free_positions=True,
    vibe_mode="none",
    character_reference=False,
    quality_presets=_q("v5"),
    uc_presets=_uc("heavy", "light", "furryFocus", "humanFocus", "none", family_key="v5"),
    prompt_token_limit=1471,
    tokenizer="qwen",
    curated=False,
    transparency=True,
    auto_text=True,
    auto_smea_flag=True,
    enhance_prompt_add=True,
    enhance_max=True,
    cost_multiplier=1.5,
    opus_allowance_metered=True,
    inpainting_model="nai-diffusion-5-full-inpainting",
    vibe_model_key="v5full",
)

_V5_CURATED = replace(
    _V5_FULL,
    id="nai-diffusion-5-curated",
    display_name="NAI Diffusion V5 Curated",
    prompt_token_limit=703,
    curated=True,
    # NovelAI has no V5 curated inpainting model; the web app uses V4.5 curated's (live).
    inpainting_model="nai-diffusion-4-5-curated-inpainting",
    vibe_model_key="v5curated",
)

# R11 (Low: three clients agree, no capture): steps locked at 14, Euler ancestral only, UC preset
# forced to heavy with no user UC (base or character), guidance editable. The disputed parts
# (cfg_rescale 0 vs omitted, the inpainting id) keep today's behaviour: cfg_rescale is sent and
# infill uses nai-diffusion-5-full-inpainting (Q9 Python) rather than an unconfirmed -medium id.
_V5_FULL_MEDIUM = replace(
    _V5_FULL,
    id="nai-diffusion-5-full-medium",
    display_name="NAI Diffusion V5 Full Medium",
    samplers=(K_EULER_ANCESTRAL,),
    default_steps=14,
    max_steps=14,
    uc_presets=_uc("heavy", family_key="v5"),
    negative_prompt=False,
    vibe_model_key=None,
)


def _inpainting(base: ModelCapability, inpaint_id: str) -> ModelCapability:
    return replace(
        base,
        id=inpaint_id,
        display_name=base.display_name + " Inpainting",
        inpainting=True,
        inpainting_model=inpaint_id,
        base_model=base.id,
        vibe_mode="none",  # inpainting takes no vibes (contract §2)
        character_reference=False,
        enhance_prompt_add=False,
        enhance_max=False,
        vibe_model_key=None,
    )


_INPAINTING = (
    _inpainting(_V3, "nai-diffusion-3-inpainting"),
    _inpainting(_FURRY_V3, "nai-diffusion-furry-3-inpainting"),
    _inpainting(_V4_FULL, "nai-diffusion-4-full-inpainting"),
    _inpainting(_V4_CURATED, "nai-diffusion-4-curated-inpainting"),
    _inpainting(_V45_FULL, "nai-diffusion-4-5-full-inpainting"),
    _inpainting(_V45_CURATED, "nai-diffusion-4-5-curated-inpainting"),
    _inpainting(_V5_FULL, "nai-diffusion-5-full-inpainting"),
)

# Listed so that a user who names it gets the web app's fallback, and so the simulator can refuse
# it exactly as NovelAI does: 400 "Validation error: model ... doesn't exist" (live).
_V5_CURATED_INPAINTING = replace(
    _inpainting(_V5_CURATED, "nai-diffusion-5-curated-inpainting"),
    exists=False,
    inpainting_model="nai-diffusion-4-5-curated-inpainting",
)

GENERATION_MODELS: Final[tuple[ModelCapability, ...]] = (
    _V3,
    _FURRY_V3,
    _V4_CURATED,
    _V4_FULL,
    _V45_CURATED,
    _V45_FULL,
    _V5_FULL,
    _V5_CURATED,
    _V5_FULL_MEDIUM,
)

MODELS: Final[dict[str, ModelCapability]] = {
    m.id: m for m in (*GENERATION_MODELS, *_INPAINTING, _V5_CURATED_INPAINTING)
}

# The model the web app selects by default; the SDK's default too.
DEFAULT_MODEL: Final = "nai-diffusion-4-5-full"

GENERATION_MODEL_IDS: Final[tuple[str, ...]] = tuple(m.id for m in GENERATION_MODELS)


class UnknownModelError(InputError):
    """A model id that is not in the capability table (an InputError, so still a ValueError)."""


def get_capability(model_id: str) -> ModelCapability:
    """The table row for a model id; raises UnknownModelError listing the known generation ids."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {model_id!r}; known models: {', '.join(GENERATION_MODEL_IDS)}"
        ) from None


def inpainting_capability(model_id: str) -> ModelCapability:
    """The row of the model that serves infill for ``model_id`` (itself if it is an inpainting id).

    Follows the web app's fallback for ids NovelAI does not serve.
    """
    cap = get_capability(model_id)
    target = cap.inpainting_model
    if target is None:
        raise ValueError(f"{model_id} has no inpainting model")
    resolved = get_capability(target)
    if not resolved.exists:  # pragma: no cover - table invariant, tested
        raise ValueError(f"inpainting model {target} for {model_id} is not served by NovelAI")
    return resolved
