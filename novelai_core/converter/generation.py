"""The pure converter: user models → the exact NovelAI request bodies (contract §3-§9).

No network, no files, no randomness: a seed must be resolved first (``resolve_seed``) and V4+
vibes must already carry their encoding. Every model-dependent rule reads the capability table.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

from ..contract.capabilities import ModelCapability
from ..contract.constants import (
    MAX_SEED,
    PATH_GENERATE,
    PATH_GENERATE_STREAM,
    REFERENCE_CANVAS_LANDSCAPE,
    REFERENCE_CANVAS_PORTRAIT,
    REFERENCE_CANVAS_SQUARE,
    V3_VIBE_CANVAS,
    grid_center,
    snap_to_grid,
)
from ..contract.cost import MAX_PER_IMAGE, CostEstimate, generation_cost
from ..contract.presets import TAG_HINTS
from ..contract.tool_sizes import enhance_max_size
from ..contract.validation import (
    active_characters,
    check_request,
    effective_capability,
    resolved_steps,
)
from ..errors import InputError
from ..models.user import Character, GenerationRequest, Img2ImgSource, InpaintSource
from ..models.wire import (
    Center,
    CharacterPrompt,
    CharCaption,
    DirectorReferenceDescription,
    GenerateImageParameters,
    GenerateImageRequest,
    Img2ImgNested,
    V4Caption,
    V4NegativePrompt,
    V4Prompt,
    dump_wire,
)
from .auto_text import with_auto_text
from .images import (
    ImageInput,
    b64,
    closest_canvas,
    exact_png,
    letterbox,
    png_bytes,
    quantize_mask,
    to_pil,
)
from .prompting import TRANSPARENT_TAG, negative_text, with_enhance_addition, with_tags
from .tool_bodies import build_augment_request, build_encode_vibe_request, build_upscale_request

__all__ = [
    "BuiltRequest",
    "build_augment_request",
    "build_encode_vibe_request",
    "build_generate_request",
    "build_upscale_request",
    "estimate_cost",
    "resolve_seed",
    "validate_request",
]

# Variety+ scales its sigma by the canvas area relative to 832×1216 (in 8-px latent cells).
_VARIETY_REFERENCE_CELLS = 104 * 152
_AI_CHOICE = (0.5, 0.5)
_UC_NONE = "none"


@dataclass(frozen=True)
class BuiltRequest:
    """One ready-to-send generate request."""

    endpoint: str
    # Sent as JSON with images inline in base64, for every model and action: the official
    # schema's form, which live probes confirm for V5 img2img/infill too (R9 d).
    body: dict[str, Any]
    cost: CostEstimate  # tier=None; callers re-estimate per tier


def validate_request(request: GenerationRequest) -> None:
    """Raise InputError (naming the field and the limit) for anything NovelAI would refuse."""
    cap = check_request(request)
    estimate = _cost(request, cap, tier=None, vibes_to_encode=0)
    if estimate.over_per_image_limit:
        raise InputError(
            f"settings: one image would cost {estimate.base_per_image} Anlas, above NovelAI's "
            f"limit of {MAX_PER_IMAGE}; lower the size or steps"
        )


def resolve_seed(request: GenerationRequest, rng: random.Random | None = None) -> GenerationRequest:
    """The request with a concrete seed: unchanged if it has one, else a random one over the web
    app's full unsigned 32-bit range (R12)."""
    if request.settings.seed is not None:
        return request
    seed = (rng or random.SystemRandom()).randint(0, MAX_SEED)
    settings = request.settings.model_copy(update={"seed": seed})
    return request.model_copy(update={"settings": settings})


def estimate_cost(
    request: GenerationRequest,
    *,
    tier: int | None = None,
    vibes_to_encode: int = 0,
    v5_allowance_left: bool | None = None,
) -> CostEstimate:
    """Anlas for this request (contract §11); ``tier`` 3 applies Opus' free rule (to V5 only
    when ``v5_allowance_left`` is True: the monthly allowance, usage.percent < 100)."""
    return _cost(
        request,
        effective_capability(request),
        tier=tier,
        vibes_to_encode=vibes_to_encode,
        v5_allowance_left=v5_allowance_left,
    )


def _cost(
    request: GenerationRequest,
    cap: ModelCapability,
    *,
    tier: int | None,
    vibes_to_encode: int,
    v5_allowance_left: bool | None = None,
) -> CostEstimate:
    s = request.settings
    width, height = s.width, s.height
    if isinstance(request.source, Img2ImgSource) and request.source.upscaled_enhance:
        width, height = enhance_max_size(width, height)  # billed at the enlarged size (R10)
    return generation_cost(
        cap,
        width=width,
        height=height,
        steps=resolved_steps(request, cap),
        n_samples=s.n_samples,
        smea=s.smea and cap.smea,
        smea_dyn=s.smea_dyn and cap.smea,
        strength=request.source.strength if request.source is not None else 1.0,
        vibes=len(request.vibes),
        vibes_to_encode=vibes_to_encode,
        character_references=len(request.character_references),
        tier=tier,
        v5_allowance_left=v5_allowance_left,
    )


def build_generate_request(
    request: GenerationRequest, *, stream: Literal["msgpack", "sse"] | None = None
) -> BuiltRequest:
    """The exact body for /ai/generate-image (or -stream when ``stream`` is set)."""
    if request.settings.seed is None:
        raise InputError("settings.seed: no seed; call converter.resolve_seed(request) first")
    validate_request(request)
    cap = effective_capability(request)
    seed = request.settings.seed
    final_input = _final_prompt(request, cap)
    params: dict[str, Any] = _base_parameters(request, cap)
    params.update(_preset_fields(request, cap))
    params.update(_sampling_flags(request, cap))
    if cap.is_v4_plus:
        params.update(_v4_fields(request, cap, final_input, params["negative_prompt"]))
    params.update(_source_fields(request, seed))
    params.update(_vibe_fields(request, cap))
    params.update(_reference_fields(request))
    if stream is not None:
        params["stream"] = stream
    action = "generate"
    if request.source is not None:
        action = "infill" if isinstance(request.source, InpaintSource) else "img2img"
    body = GenerateImageRequest(
        input=final_input,
        model=cap.id,
        action=action,
        parameters=GenerateImageParameters.model_validate(params),
        use_new_shared_trial=True,
    )
    return BuiltRequest(
        endpoint=PATH_GENERATE if stream is None else PATH_GENERATE_STREAM,
        body=dump_wire(body),
        cost=_cost(request, cap, tier=None, vibes_to_encode=0),
    )


def _final_prompt(request: GenerationRequest, cap: ModelCapability) -> str:
    """The ``input`` text, built in the web app's order (R4 step 2): transparency and quality
    tags, the Enhance addition, then V5's automatic text."""
    prompt = request.prompt
    tags = []
    if request.settings.transparent_background and cap.transparency:
        tags.append(TRANSPARENT_TAG)  # R2: the tag is what makes V5 transparent
    if prompt.quality:
        tags.append(cap.quality_suffix(prompt.quality_preset))
    text = with_tags(cap, prompt.text, tags)
    source = request.source
    if (
        isinstance(source, Img2ImgSource)
        and source.enhance
        and not source.upscaled_enhance
        and cap.enhance_prompt_add
    ):
        text = with_enhance_addition(text)
    if cap.auto_text:
        characters = active_characters(request)
        centers = _centers(request, cap)
        placed = [(c.prompt, xy.x, xy.y) for c, xy in zip(characters, centers, strict=True)]
        text = with_auto_text(text, placed, _use_coords(characters))
    return text


def effective_uc_preset(cap: ModelCapability, name: str) -> str:
    """The preset sent: the user's; the model's only one where it is locked (V5 full-medium:
    heavy, R11); else "none" when this model lacks that level (R1, Q4)."""
    names = cap.uc_preset_names
    if name in names:
        return name
    return names[0] if len(names) == 1 else _UC_NONE


def _base_parameters(request: GenerationRequest, cap: ModelCapability) -> dict[str, Any]:
    s = request.settings
    p = request.prompt
    return {
        "params_version": cap.params_version,
        "width": s.width,
        "height": s.height,
        "scale": cap.default_scale if s.scale is None else s.scale,
        "sampler": s.sampler or cap.default_sampler,
        "steps": resolved_steps(request, cap),
        "n_samples": s.n_samples,
        "seed": s.seed,
        "noise_schedule": s.noise_schedule or cap.default_noise_schedule,
        "negative_prompt": negative_text(
            cap, p.text, p.negative, effective_uc_preset(cap, p.uc_preset)
        ),
        "cfg_rescale": s.cfg_rescale,
        "legacy": False,
        "legacy_v3_extend": False,
        "controlnet_strength": 1,
        "dynamic_thresholding": s.decrisper and cap.decrisper,
        # The web sends it on generate and img2img (captures C, Q12); infill sets its own.
        "add_original_image": True,
        "image_format": s.image_format,
    }


def _preset_fields(request: GenerationRequest, cap: ModelCapability) -> dict[str, Any]:
    p = request.prompt
    uc_preset = effective_uc_preset(cap, p.uc_preset)
    if cap.params_version < 4:
        # Metadata of the July 2026 web (Q12); the UC text is merged on the client.
        return {"quality_toggle": p.quality, "uc_preset": cap.uc_preset_index(uc_preset)}
    # params_version 4 (V5): the preset ids and the integer tag hints of one shared table (R1).
    quality_id = (p.quality_preset or cap.quality_preset_names[0]) if p.quality else _UC_NONE
    out: dict[str, Any] = {
        "quality_preset_id": quality_id,
        "uc_preset_id": uc_preset,
        "tag_hint_qt": TAG_HINTS[quality_id],
        "tag_hint_uc_preset": TAG_HINTS[uc_preset],
    }
    if request.settings.transparent_background and cap.transparency:
        out["tag_hint_transparent_background"] = True  # only with the toggle on (C, Q5, Q11)
    return out


def _sampling_flags(request: GenerationRequest, cap: ModelCapability) -> dict[str, Any]:
    s = request.settings
    out: dict[str, Any] = {}
    if cap.smea:
        out.update(sm=s.smea, sm_dyn=s.smea_dyn)
    if cap.auto_smea_flag:
        out["auto_smea"] = False
    if cap.transparency:
        out["straight_alpha"] = True  # web default
    if cap.is_v4_plus:
        out["legacy_uc"] = False
    if s.variety and cap.variety_base is not None:
        cells = (s.width // 8) * (s.height // 8)
        out["skip_cfg_above_sigma"] = cap.variety_base * math.sqrt(cells / _VARIETY_REFERENCE_CELLS)
    if cap.is_v4_plus:
        # Undeclared keys every V4.5/V5 web body carries (Q12, C).
        out.update(inpaint_img2img_strength=1, normalize_reference_strength_multiple=True)
    # The server defaults deliberate_euler_ancestral_bug to true when it is missing (R14 b, the
    # schema); the web sends false and prefer_brownian true on every request (C, Q12, R5).
    out.update(deliberate_euler_ancestral_bug=False, prefer_brownian=True)
    return out


def _center(character: Character, cap: ModelCapability) -> Center:
    position = character.position
    if position is None:
        x, y = _AI_CHOICE
    elif isinstance(position, str):
        x, y = grid_center(position)
    else:
        x, y = position
        if not cap.free_positions:
            x, y = snap_to_grid(x), snap_to_grid(y)
    return Center(x=x, y=y)


def _centers(request: GenerationRequest, cap: ModelCapability) -> list[Center]:
    return [_center(c, cap) for c in active_characters(request)]


def _use_coords(characters: tuple[Character, ...]) -> bool:
    return any(c.position is not None for c in characters)


def _v4_fields(
    request: GenerationRequest, cap: ModelCapability, final_input: str, negative: str
) -> dict[str, Any]:
    characters = active_characters(request)
    centers = _centers(request, cap)
    use_coords = _use_coords(characters)
    positive = V4Caption(
        base_caption=final_input,
        char_captions=[
            CharCaption(char_caption=c.prompt, centers=[xy])
            for c, xy in zip(characters, centers, strict=True)
        ],
    )
    negative_caption = V4Caption(
        base_caption=negative,
        char_captions=[
            CharCaption(char_caption=c.uc, centers=[xy])
            for c, xy in zip(characters, centers, strict=True)
        ],
    )
    return {
        "v4_prompt": V4Prompt(caption=positive, use_coords=use_coords, use_order=True),
        "v4_negative_prompt": V4NegativePrompt(caption=negative_caption, legacy_uc=False),
        "character_prompts": [
            CharacterPrompt(prompt=c.prompt, uc=c.uc, center=xy, enabled=True)
            for c, xy in zip(characters, centers, strict=True)
        ],
        "use_coords": use_coords,
    }


def extra_noise_seed(seed: int) -> int:
    """The web app's seed for the noise added to a source image (R8): seed − 1, and for seed 0
    the top of the unsigned 32-bit range (2026-09 bundle, P) rather than −1."""
    return MAX_SEED if seed == 0 else seed - 1


def _source_fields(request: GenerationRequest, seed: int) -> dict[str, Any]:
    source = request.source
    if source is None:
        return {}
    w, h = request.settings.width, request.settings.height
    image = exact_png(source.image, w, h, field="source.image")
    out: dict[str, Any] = {
        "image": b64(image),
        "strength": source.strength,
        "noise": source.noise,
        # img2img and infill alike (captures C: 1876249869 → 1876249868, 2849895151 → …150).
        "extra_noise_seed": extra_noise_seed(seed),
    }
    if isinstance(source, InpaintSource):
        mask = quantize_mask(to_pil(source.mask, field="source.mask"), w, h)
        out["mask"] = b64(png_bytes(mask))
        out["add_original_image"] = source.add_original_image
        out["inpaint_img2img_strength"] = source.img2img_strength
        if source.img2img_strength != 1.0:
            out["img2img"] = Img2ImgNested(strength=source.img2img_strength, color_correct=True)
    else:
        out["color_correct"] = source.color_correct
        if source.upscaled_enhance:
            out["upscaled_enhance"] = True
    return out


def _vibe_fields(request: GenerationRequest, cap: ModelCapability) -> dict[str, Any]:
    vibes = request.vibes
    if not vibes:
        return {}
    strengths = [v.strength for v in vibes]
    if cap.vibe_mode == "raw":
        images = []
        for index, vibe in enumerate(vibes):
            assert vibe.image is not None  # validated
            source = to_pil(vibe.image, field=f"vibes[{index}].image")
            boxed = letterbox(source, V3_VIBE_CANVAS, mode="RGBA", fill=(0, 0, 0, 0))
            images.append(b64(png_bytes(boxed)))
        return {
            "reference_image_multiple": images,
            "reference_information_extracted_multiple": [v.information_extracted for v in vibes],
            "reference_strength_multiple": strengths,
        }
    # Encoded (V4/V4.5): information_extracted is baked into the encoding.
    encodings = [b64(v.encoding) for v in vibes if v.encoding is not None]
    return {
        "reference_image_multiple": encodings,
        "reference_strength_multiple": strengths,
        "normalize_reference_strength_multiple": True,
    }


_REFERENCE_CANVASES = (
    REFERENCE_CANVAS_PORTRAIT,
    REFERENCE_CANVAS_LANDSCAPE,
    REFERENCE_CANVAS_SQUARE,
)


def reference_png(image: ImageInput, *, field: str = "image") -> bytes:
    """The picture of a character reference as sent: letterboxed (RGB, black) onto the reference
    canvas nearest its aspect ratio, PNG. A PNG already on such a canvas is sent as it is, so a
    caller that prepares it once (the Character Reference node) saves an encode per request."""
    source = to_pil(image, field=field)
    if (
        isinstance(image, bytes | bytearray)
        and source.format == "PNG"
        and source.mode == "RGB"
        and source.size in _REFERENCE_CANVASES
    ):
        return bytes(image)
    canvas = closest_canvas(source.size, _REFERENCE_CANVASES)
    return png_bytes(letterbox(source, canvas, mode="RGB", fill=(0, 0, 0)))


def _reference_fields(request: GenerationRequest) -> dict[str, Any]:
    refs = request.character_references
    if not refs:
        return {}
    images = [
        b64(reference_png(ref.image, field=f"character_references[{index}].image"))
        for index, ref in enumerate(refs)
    ]
    return {
        "director_reference_images": images,
        "director_reference_descriptions": [
            DirectorReferenceDescription(
                caption=V4Caption(base_caption=ref.mode, char_captions=[]), legacy_uc=False
            )
            for ref in refs
        ],
        "director_reference_information_extracted": [1.0 for _ in refs],
        "director_reference_strength_values": [ref.strength for ref in refs],
        # Fidelity 1 = secondary strength 0 (contract §8); rounded to drop float noise.
        "director_reference_secondary_strength_values": [
            round(1 - ref.fidelity, 6) for ref in refs
        ],
    }
