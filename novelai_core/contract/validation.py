"""Local checks of a GenerationRequest against the contract and the capability table.

Every failure is an ``InputError`` naming the field and the limit, raised before any request
(and any Anlas) is spent. ``converter.validate_request`` is the public entry point.
"""

from __future__ import annotations

from ..converter.images import header_size, image_size
from ..errors import InputError
from ..models.user import Character, GenerationRequest, Img2ImgSource, InpaintSource
from .capabilities import ModelCapability, UnknownModelError, get_capability, inpainting_capability
from .constants import (
    GRID_CELLS,
    MAX_CHARACTER_REFERENCES,
    MAX_PIXELS,
    MAX_SCALE,
    MAX_SEED,
    MAX_SIDE,
    MAX_STEPS,
    MAX_VIBES,
    MIN_STEPS,
    SIZE_STEP,
    max_samples_for_area,
)
from .presets import TAG_HINTS
from .tool_sizes import ENHANCE_MAX_PIXELS_X5

# Every UC preset id some model offers (the tag-hint table holds them all).
UC_PRESET_IDS = frozenset(TAG_HINTS) - {"standard"}


def effective_capability(request: GenerationRequest) -> ModelCapability:
    """The row the request follows: the model's, or its inpainting model's (with fallback)."""
    try:
        cap = get_capability(request.model)
    except UnknownModelError as exc:
        raise InputError(f"model: {exc}") from None
    if isinstance(request.source, InpaintSource):
        try:
            return inpainting_capability(request.model)
        except ValueError as exc:
            raise InputError(f"model: {exc}") from None
    if cap.inpainting or not cap.exists:
        base = cap.base_model or request.model
        raise InputError(
            f"model: {request.model} is an inpainting model; use {base} with an inpaint source"
        )
    return cap


def active_characters(request: GenerationRequest) -> tuple[Character, ...]:
    """Characters that are sent: enabled and with a non-empty prompt (contract §6)."""
    return tuple(c for c in request.characters if c.enabled and c.prompt.strip())


def resolved_steps(request: GenerationRequest, cap: ModelCapability) -> int:
    steps = request.settings.steps
    return cap.default_steps if steps is None else steps


def check_request(request: GenerationRequest) -> ModelCapability:
    """Run every check; returns the effective capability row."""
    cap = effective_capability(request)
    _check_prompt(request, cap)
    _check_canvas(request)
    _check_sampling(request, cap)
    _check_features(request, cap)
    _check_characters(request, cap)
    _check_source(request, cap)
    _check_vibes(request, cap)
    _check_character_references(request, cap)
    return cap


def _check_prompt(request: GenerationRequest, cap: ModelCapability) -> None:
    prompt = request.prompt
    if not prompt.text.strip():
        raise InputError("prompt.text: the prompt is empty; describe the image to generate")
    if prompt.negative.strip() and not cap.negative_prompt:
        raise InputError(f"prompt.negative: {cap.id} takes no negative prompt; leave it empty")
    # A known level the model lacks is sent as "none", as the web app does (R1); only names
    # no model has are refused.
    if prompt.uc_preset not in cap.uc_preset_names and prompt.uc_preset not in UC_PRESET_IDS:
        raise InputError(
            f"prompt.uc_preset: {prompt.uc_preset!r} does not exist for {cap.id}; "
            f"choose one of {', '.join(cap.uc_preset_names)}"
        )
    if prompt.quality_preset is not None and prompt.quality_preset not in (
        cap.quality_preset_names
    ):
        raise InputError(
            f"prompt.quality_preset: {prompt.quality_preset!r} does not exist for {cap.id}; "
            f"choose one of {', '.join(cap.quality_preset_names)}"
        )


def _check_canvas(request: GenerationRequest) -> None:
    s = request.settings
    for name, value in (("width", s.width), ("height", s.height)):
        if value <= 0 or value % SIZE_STEP:
            raise InputError(
                f"settings.{name}: {value} is not a positive multiple of {SIZE_STEP} "
                f"(NovelAI fails on other sizes)"
            )
        if value > MAX_SIDE:
            raise InputError(f"settings.{name}: {value} is above the maximum side of {MAX_SIDE}")
    if s.width * s.height > MAX_PIXELS:
        raise InputError(
            f"settings.width×height: {s.width}×{s.height} = {s.width * s.height} px is above "
            f"the maximum of {MAX_PIXELS} px (3 MiP)"
        )
    limit = max_samples_for_area(s.width, s.height)
    if not 1 <= s.n_samples <= limit:
        raise InputError(
            f"settings.n_samples: {s.n_samples} is outside 1–{limit}, the limit at "
            f"{s.width}×{s.height}"
        )
    if s.seed is not None and not 0 <= s.seed <= MAX_SEED:
        raise InputError(f"settings.seed: {s.seed} is outside 0–{MAX_SEED}")


def _check_sampling(request: GenerationRequest, cap: ModelCapability) -> None:
    s = request.settings
    if s.steps is not None and not MIN_STEPS <= s.steps <= min(MAX_STEPS, cap.max_steps):
        raise InputError(
            f"settings.steps: {s.steps} is outside {MIN_STEPS}–{min(MAX_STEPS, cap.max_steps)}"
            + (f" (locked on {cap.id})" if cap.max_steps < MAX_STEPS else "")
        )
    if s.scale is not None and not 0 <= s.scale <= MAX_SCALE:
        raise InputError(f"settings.scale: {s.scale} is outside 0–{MAX_SCALE:g}")
    if s.sampler is not None and s.sampler not in cap.samplers:
        raise InputError(
            f"settings.sampler: {s.sampler!r} is not available on {cap.id}; "
            f"choose one of {', '.join(cap.samplers)}"
        )
    if s.noise_schedule is not None and s.noise_schedule not in cap.noise_schedules:
        raise InputError(
            f"settings.noise_schedule: {s.noise_schedule!r} is not available on {cap.id}; "
            f"choose one of {', '.join(cap.noise_schedules)}"
        )


def _check_features(request: GenerationRequest, cap: ModelCapability) -> None:
    s = request.settings
    if (s.smea or s.smea_dyn) and not cap.smea:
        raise InputError(f"settings.smea: SMEA is only available on V3 models, not on {cap.id}")
    if s.smea_dyn and not s.smea:
        raise InputError("settings.smea_dyn: SMEA DYN needs settings.smea turned on")
    if s.decrisper and not cap.decrisper:
        raise InputError(f"settings.decrisper: Decrisper is only available on V3, not {cap.id}")
    if s.variety and cap.variety_base is None:
        raise InputError(f"settings.variety: Variety+ is not available on {cap.id}")
    if s.transparent_background and not cap.transparency:
        raise InputError(
            f"settings.transparent_background: transparency is not available on {cap.id}"
        )


def _check_characters(request: GenerationRequest, cap: ModelCapability) -> None:
    characters = active_characters(request)
    if characters and cap.max_characters == 0:
        raise InputError(f"characters: {cap.id} has no character prompts; use a V4+ model")
    if len(characters) > cap.max_characters:
        raise InputError(
            f"characters: {len(characters)} characters, {cap.id} allows at most "
            f"{cap.max_characters}"
        )
    for index, character in enumerate(characters):
        if character.uc.strip() and not cap.negative_prompt:
            raise InputError(
                f"characters[{index}].uc: {cap.id} takes no negative prompt; leave it empty"
            )
        position = character.position
        if isinstance(position, str) and position not in GRID_CELLS:
            raise InputError(
                f"characters[{index}].position: {position!r} is not a grid cell A1..E5"
            )
        if isinstance(position, tuple) and not all(0.0 <= v <= 1.0 for v in position):
            raise InputError(
                f"characters[{index}].position: {position} must have x and y within 0..1"
            )


def _check_source(request: GenerationRequest, cap: ModelCapability) -> None:
    source = request.source
    if source is None:
        return
    size = image_size(source.image, field="source.image")
    if isinstance(source, Img2ImgSource) and source.upscaled_enhance:
        _check_enhance_max(request, cap, size)
    if isinstance(source, InpaintSource):
        mask_size = image_size(source.mask, field="source.mask")
        if mask_size != size:
            raise InputError(
                f"source.mask: the mask is {mask_size[0]}×{mask_size[1]} but the image is "
                f"{size[0]}×{size[1]}; they must be the same size"
            )


def _check_enhance_max(
    request: GenerationRequest, cap: ModelCapability, size: tuple[int, int]
) -> None:
    """Enhance Max (R10): V5 only, for sources under 2,516,582.4 px, at the source's size."""
    if not cap.enhance_max:
        raise InputError(
            f"source.upscaled_enhance: Enhance Max is only available on V5, not {cap.id}"
        )
    if size[0] * size[1] * 5 >= ENHANCE_MAX_PIXELS_X5:
        raise InputError(
            f"source.upscaled_enhance: {size[0]}×{size[1]} is too large for Enhance Max "
            f"(under {ENHANCE_MAX_PIXELS_X5 / 5:g} px); use a ×1 Enhance"
        )


def _check_vibes(request: GenerationRequest, cap: ModelCapability) -> None:
    vibes = request.vibes
    if not vibes:
        return
    if isinstance(request.source, InpaintSource):
        raise InputError("vibes: inpainting takes no vibes; remove them or use img2img")
    if request.character_references:
        raise InputError(
            "vibes: vibe transfer and character reference cannot be combined; remove one"
        )
    if cap.vibe_mode == "none":
        raise InputError(f"vibes: {cap.id} has no vibe transfer")
    if len(vibes) > MAX_VIBES:
        raise InputError(f"vibes: {len(vibes)} vibes, at most {MAX_VIBES} are allowed")
    for index, vibe in enumerate(vibes):
        if cap.vibe_mode == "raw" and vibe.image is None:
            raise InputError(f"vibes[{index}]: {cap.id} needs the vibe's image, not an encoding")
        if vibe.encoding is not None and vibe.encoding_model is None:
            # An encoding serves only the model it was made for; without its name it could be
            # sent to another model (NovelAI answers 500) or reused across models.
            raise InputError(
                f"vibes[{index}].encoding_model: the vibe has an encoding but does not say which "
                f"model it was encoded for; set encoding_model (e.g. {cap.id})"
            )
        if cap.vibe_mode == "encoded":
            if vibe.encoding is None:
                raise InputError(
                    f"vibes[{index}]: {cap.id} needs vibes encoded first (/ai/encode-vibe); "
                    f"this vibe has only an image"
                )
            if vibe.encoding_model is not None and vibe.encoding_model != cap.id:
                raise InputError(
                    f"vibes[{index}]: encoded for {vibe.encoding_model}, not {cap.id}; "
                    f"encodings only work with the model they were made for"
                )


def _check_character_references(request: GenerationRequest, cap: ModelCapability) -> None:
    refs = request.character_references
    if not refs:
        return
    if not cap.character_reference:
        raise InputError(f"character_references: {cap.id} has no character reference")
    if len(refs) > MAX_CHARACTER_REFERENCES:
        raise InputError(
            f"character_references: {len(refs)} references, at most "
            f"{MAX_CHARACTER_REFERENCES} are allowed"
        )
    for index, ref in enumerate(refs):
        # The header is enough: references never go with vibes, whose encoding is the only
        # thing paid before the converter decodes the picture (and refuses broken data).
        header_size(ref.image, field=f"character_references[{index}].image")
