"""The generation parameters a NovelAI image records, normalised for rebuilding the generation.

Everything the Comment JSON holds that a rebuild needs is here; what it cannot hold (the vibe
and character-reference pictures, the img2img/inpaint source image and mask) is listed in
``not_recorded`` so callers say so instead of silently dropping the settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Final

import numpy as np
from PIL import Image

from ..contract.capabilities import MODELS
from .model_sources import model_from_source
from .reader import NovelAIMetadata, as_integer, as_number
from .recorded_presets import infer_presets

# Comment ``request_type`` → the generate action.
_ACTIONS: Final = {
    "PromptGenerateRequest": "generate",
    "Img2ImgRequest": "img2img",
    "NativeInfillingRequest": "infill",
}
_TRANSPARENT_BELOW: Final = 128


@dataclass(frozen=True)
class RecordedCharacter:
    prompt: str
    uc: str
    # None when the generation let the AI place characters (use_coords false) or gave no center.
    center: tuple[float, float] | None


@dataclass(frozen=True)
class RecordedVibe:
    """A vibe's settings; its picture or encoding is not in the metadata."""

    strength: float
    information_extracted: float | None


@dataclass(frozen=True)
class RecordedReference:
    """A character reference's settings; its picture is not in the metadata."""

    mode: str  # "character", "style" or "character&style"
    strength: float
    fidelity: float  # 1 - secondary strength
    information_extracted: float | None


@dataclass(frozen=True)
class GenerationParameters:
    """What the image's metadata says; None where it does not say."""

    prompt: str | None
    negative: str | None
    seed: int | None
    model: str | None  # a model id of the capability table; None when not certain
    width: int | None
    height: int | None
    steps: int | None
    scale: float | None
    sampler: str | None
    characters: tuple[RecordedCharacter, ...]
    origin: str  # "text" (PNG chunks), "exif" (WebP/JPEG) or "stealth" (alpha channel)
    # When the model is unknown but its family is not (an unlisted hash): the models it may be.
    model_candidates: tuple[str, ...] = ()
    # --- appended fields (keep the order above: callers unpack it) -------------------------
    source: str | None = None  # NovelAI's Source text, e.g. "NovelAI Diffusion V4.5 4BDE2A90"
    # "generate", "img2img", "infill", "director:<tool>"; else the raw request type
    action: str | None = None
    noise_schedule: str | None = None
    cfg_rescale: float | None = None
    variety: bool = False  # Variety+ (skip_cfg_above_sigma recorded)
    smea: bool = False
    smea_dyn: bool = False
    decrisper: bool = False  # dynamic_thresholding (V3)
    use_coords: bool | None = None
    n_samples: int | None = None
    strength: float | None = None  # img2img / inpaint
    noise: float | None = None
    extra_noise_seed: int | None = None
    vibes: tuple[RecordedVibe, ...] = ()
    character_references: tuple[RecordedReference, ...] = ()
    # The prompt and UC as typed, and the presets that completed them (see recorded_presets);
    # None when the model is unknown.
    user_prompt: str | None = None
    user_negative: str | None = None
    quality_tags: bool | None = None
    quality_preset: str | None = None
    uc_preset: str | None = None
    transparent_background: bool | None = None
    not_recorded: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["characters"] = [
            {"prompt": c.prompt, "uc": c.uc, "center": list(c.center) if c.center else None}
            for c in self.characters
        ]
        return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _numbers(value: Any) -> list[float | None]:
    return [as_number(v) for v in value] if isinstance(value, list) else []


def model_id(meta: NovelAIMetadata) -> str | None:
    """The model id: the Comment's ``model`` when it names one, else from the Source hash.

    None when neither says it for certain (an unlisted hash, an older model): never a guess.
    """
    recorded = _recorded_model(meta)
    return recorded if recorded is not None else model_from_source(meta.source).model


def model_candidates(meta: NovelAIMetadata) -> tuple[str, ...]:
    """The models an unlisted hash of a known family may mean; () when the model is certain."""
    if _recorded_model(meta) is not None:
        return ()
    return model_from_source(meta.source).candidates


def _recorded_model(meta: NovelAIMetadata) -> str | None:
    recorded = meta.comment.get("model")
    if isinstance(recorded, str) and recorded in MODELS:
        cap = MODELS[recorded]
        return cap.base_model or cap.id
    return None


def _use_coords(meta: NovelAIMetadata) -> bool | None:
    v4 = meta.comment.get("v4_prompt")
    if not isinstance(v4, dict) or "use_coords" not in v4:
        return None
    return bool(v4.get("use_coords"))


def _characters(meta: NovelAIMetadata) -> tuple[RecordedCharacter, ...]:
    use_coords = bool(_use_coords(meta))
    out: list[RecordedCharacter] = []
    for item in meta.characters:
        center = item.get("center")
        xy: tuple[float, float] | None = None
        if use_coords and isinstance(center, dict):
            x, y = center.get("x"), center.get("y")
            if isinstance(x, int | float) and isinstance(y, int | float):
                xy = (float(x), float(y))
        out.append(RecordedCharacter(str(item.get("prompt", "")), str(item.get("uc", "")), xy))
    return tuple(out)


def _vibes(comment: dict[str, Any]) -> tuple[RecordedVibe, ...]:
    strengths = _numbers(comment.get("reference_strength_multiple"))
    extracted = _numbers(comment.get("reference_information_extracted_multiple"))
    return tuple(
        RecordedVibe(s, extracted[i] if i < len(extracted) else None)
        for i, s in enumerate(strengths)
        if s is not None
    )


def _reference_mode(description: Any) -> str:
    caption = description.get("caption") if isinstance(description, dict) else None
    mode = caption.get("base_caption") if isinstance(caption, dict) else None
    return mode if isinstance(mode, str) else "character&style"


def _references(comment: dict[str, Any]) -> tuple[RecordedReference, ...]:
    descriptions = comment.get("director_reference_descriptions")
    if not isinstance(descriptions, list):
        return ()
    strengths = _numbers(comment.get("director_reference_strengths"))
    secondary = _numbers(comment.get("director_reference_secondary_strengths"))
    extracted = _numbers(comment.get("director_reference_information_extracted"))

    def at(values: list[float | None], index: int, default: float | None) -> float | None:
        value = values[index] if index < len(values) else None
        return default if value is None else value

    out = []
    for index, description in enumerate(descriptions):
        strength = at(strengths, index, 1.0)
        second = at(secondary, index, 0.0)
        assert strength is not None and second is not None
        out.append(
            RecordedReference(
                mode=_reference_mode(description),
                strength=strength,
                fidelity=round(1 - second, 6),
                information_extracted=at(extracted, index, None),
            )
        )
    return tuple(out)


def _not_recorded(
    action: str | None, vibes: tuple[RecordedVibe, ...], refs: tuple[RecordedReference, ...]
) -> tuple[str, ...]:
    notes: list[str] = []
    if action == "img2img":
        notes.append("the img2img source image (give it again)")
    if action == "infill":
        notes.append("the inpaint source image and mask (give them again)")
        notes.append("inpaint add_original_image and img2img strength (defaults used)")
    if vibes:
        notes.append(f"the picture or encoding of {len(vibes)} vibe(s) (their settings are kept)")
    if refs:
        notes.append(f"the picture of {len(refs)} character reference(s) (their settings are kept)")
    return tuple(notes)


def has_transparent_pixels(image: Image.Image) -> bool:
    """True when some alpha is far below opaque (the stealth copy only touches the lowest bit)."""
    if image.mode not in ("RGBA", "LA", "PA", "RGBa", "La"):
        return False
    low = np.asarray(image.getchannel("A"), dtype=np.uint8).min(initial=255)
    return bool(low < _TRANSPARENT_BELOW)


def generation_parameters(
    meta: NovelAIMetadata, image: Image.Image | None = None
) -> GenerationParameters:
    """Normalised parameters from read_metadata's result.

    ``image``, the picture itself, tells a V5 transparent-background image by its alpha when
    the prompt does not say it.
    """
    c = meta.comment
    request_type = _text(c.get("request_type"))
    action = _ACTIONS.get(request_type or "", request_type)
    if action is None and _text(c.get("req_type")):  # a Director tool's output, e.g. "sketch"
        action = f"director:{c['req_type']}"
    vibes, refs = _vibes(c), _references(c)
    skip = as_number(c.get("skip_cfg_above_sigma"))
    model = model_id(meta)
    presets = infer_presets(model, meta.prompt or "", meta.negative or "")
    # V5 transparency shows in the picture's alpha even where the prompt does not say it.
    if presets is not None and image is not None and MODELS[model or ""].transparency:
        transparent = presets.transparent_background or has_transparent_pixels(image)
        presets = replace(presets, transparent_background=transparent)
    return GenerationParameters(
        prompt=meta.prompt,
        negative=meta.negative,
        seed=meta.seed,
        model=model,
        width=meta.width,
        height=meta.height,
        steps=meta.steps,
        scale=meta.scale,
        sampler=meta.sampler,
        characters=_characters(meta),
        origin=meta.origin,
        model_candidates=model_candidates(meta),
        source=meta.source,
        action=action,
        noise_schedule=_text(c.get("noise_schedule")),
        cfg_rescale=as_number(c.get("cfg_rescale")),
        variety=skip is not None and skip > 0,
        smea=c.get("sm") is True,
        smea_dyn=c.get("sm_dyn") is True,
        decrisper=c.get("dynamic_thresholding") is True,
        use_coords=_use_coords(meta),
        n_samples=as_integer(c.get("n_samples")),
        strength=as_number(c.get("strength")) if action in ("img2img", "infill") else None,
        noise=as_number(c.get("noise")) if action in ("img2img", "infill") else None,
        extra_noise_seed=as_integer(c.get("extra_noise_seed")),
        vibes=vibes,
        character_references=refs,
        user_prompt=presets.prompt if presets else None,
        user_negative=presets.negative if presets else None,
        quality_tags=presets.quality if presets else None,
        quality_preset=presets.quality_preset if presets else None,
        uc_preset=presets.uc_preset if presets else None,
        transparent_background=presets.transparent_background if presets else None,
        not_recorded=_not_recorded(action, vibes, refs),
    )
