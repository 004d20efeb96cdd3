"""Checks a generate request the way NovelAI does and turns it into a plan for the renderer."""

from __future__ import annotations

import base64
import binascii
import io
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image

from ..contract.capabilities import MODELS, ModelCapability
from ..contract.constants import (
    MAX_PIXELS,
    MAX_SEED,
    MAX_SIDE,
    MAX_VIBES,
    SIZE_STEP,
    max_samples_for_area,
)
from .refusals import SimError, internal_error, validation_error
from .vibe_encodings import read_encoding

ACTIONS: Final = ("generate", "img2img", "infill")
REQUEST_TYPES: Final = {
    "generate": "PromptGenerateRequest",
    "img2img": "Img2ImgRequest",
    "infill": "NativeInfillingRequest",
}
_DIRECTOR_LISTS: Final = (
    "director_reference_descriptions",
    "director_reference_information_extracted",
    "director_reference_strength_values",
    "director_reference_secondary_strength_values",
)


@dataclass(frozen=True)
class GenPlan:
    """Everything the renderer and the ledger need from a valid generate request."""

    cap: ModelCapability
    action: str
    prompt: str
    uc: str
    width: int
    height: int
    steps: int
    scale: float
    sampler: str
    noise_schedule: str
    seed: int
    n_samples: int
    cfg_rescale: float
    sm: bool
    sm_dyn: bool
    strength: float
    noise: float
    image: Image.Image | None
    mask: Image.Image | None
    add_original_image: bool
    vibes: int
    character_references: int
    v4_prompt: Any
    v4_negative_prompt: Any
    straight_alpha: bool
    transparent: bool
    image_format: str
    stream: str | None

    def comment(self, sample: int) -> dict[str, Any]:
        """The Comment JSON NovelAI writes into each PNG, for sample ``sample``."""
        data: dict[str, Any] = {
            "prompt": self.prompt,
            "steps": self.steps,
            "height": self.height,
            "width": self.width,
            "scale": self.scale,
            "seed": self.seed + sample,
            "n_samples": self.n_samples,
            "noise_schedule": self.noise_schedule,
            "sampler": self.sampler,
            "cfg_rescale": self.cfg_rescale,
            "uc": self.uc,
            "request_type": REQUEST_TYPES[self.action],
            "signed_hash": "simulator-unsigned",
            "model": self.cap.id,
        }
        if self.cap.smea:
            data.update(sm=self.sm, sm_dyn=self.sm_dyn)
        if self.cap.is_v4_plus:
            data.update(v4_prompt=self.v4_prompt, v4_negative_prompt=self.v4_negative_prompt)
        if self.image is not None:
            data.update(strength=self.strength, noise=self.noise)
        return data


def get_model(body: Mapping[str, Any], key: str = "model") -> ModelCapability:
    """The capability row of the requested model; 400 as NovelAI words it when unknown."""
    model = body.get(key)
    cap = MODELS.get(model) if isinstance(model, str) else None
    if cap is None or not cap.exists:
        raise validation_error(f"model {model} doesn't exist")
    return cap


def number(params: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = params.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise validation_error(f"{key} must be a number")
    if not lo <= value <= hi:
        raise validation_error(f"{key} must be between {lo} and {hi}")
    return float(value)


def integer(params: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = params.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error(f"{key} must be an integer")
    if not lo <= value <= hi:
        raise validation_error(f"{key} must be between {lo} and {hi}")
    return value


def decode_b64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise validation_error(f"{field} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise validation_error(f"{field} is not valid base64") from None


def open_image(data: bytes, field: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        raise validation_error(f"{field} is not a readable image") from None
    return image


def resolve_image(
    value: Any, field: str, cap: ModelCapability, parts: Mapping[str, bytes]
) -> Image.Image:
    """An image field: the name of a multipart part, or (not on V5) inline base64."""
    if isinstance(value, str) and value in parts:
        return open_image(parts[value], field)
    if cap.multipart_images:
        text = str(value)
        shown = text if len(text) <= 16 else text[:5] + "…"
        raise SimError(400, f'{field} field references unknown form part "{shown}"')
    return open_image(decode_b64(value, field), field)


def _size(params: Mapping[str, Any]) -> tuple[int, int]:
    width = integer(params, "width", 832, 1, 1 << 16)
    height = integer(params, "height", 1216, 1, 1 << 16)
    if width % SIZE_STEP or height % SIZE_STEP:
        raise internal_error(f"size {width}x{height} is not a multiple of {SIZE_STEP}")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise validation_error(f"size {width}x{height} is larger than the maximum")
    return width, height


def _v4_objects(cap: ModelCapability, params: Mapping[str, Any]) -> tuple[Any, Any]:
    if not cap.is_v4_plus:
        return None, None
    v4p, v4n = params.get("v4_prompt"), params.get("v4_negative_prompt")
    for name, obj in (("v4_prompt", v4p), ("v4_negative_prompt", v4n)):
        caption = obj.get("caption") if isinstance(obj, dict) else None
        if not isinstance(caption, dict) or not isinstance(caption.get("base_caption"), str):
            raise internal_error(f"{name} is missing or has no caption.base_caption")
        chars = caption.get("char_captions", [])
        if not isinstance(chars, list):
            raise internal_error(f"{name}.caption.char_captions must be a list")
    assert isinstance(v4p, dict)  # checked above
    count = max(
        len(params.get("characterPrompts") or []), len(v4p["caption"].get("char_captions", []))
    )
    if count > cap.max_characters:
        raise internal_error(f"{count} characters; {cap.id} takes at most {cap.max_characters}")
    return v4p, v4n


def _same_length(params: Mapping[str, Any], key: str, expected: int, required: bool) -> None:
    value = params.get(key)
    if value is None and not required:
        return
    if not isinstance(value, list) or len(value) != expected:
        raise validation_error(f"{key} must be a list of {expected} values")


def _vibes(cap: ModelCapability, params: Mapping[str, Any]) -> int:
    refs = params.get("reference_image_multiple") or []
    if not isinstance(refs, list):
        raise validation_error("reference_image_multiple must be a list")
    if not refs:
        return 0
    if params.get("director_reference_images"):
        raise validation_error("vibe transfer and character reference cannot be combined")
    if len(refs) > MAX_VIBES:
        raise validation_error(f"at most {MAX_VIBES} vibes")
    _same_length(params, "reference_strength_multiple", len(refs), True)
    raw = cap.vibe_mode == "raw"
    _same_length(params, "reference_information_extracted_multiple", len(refs), raw)
    if cap.vibe_mode == "none":
        raise internal_error(f"{cap.id} takes no vibes")
    for i, ref in enumerate(refs):
        data = decode_b64(ref, f"reference_image_multiple[{i}]")
        header = read_encoding(data)
        if raw:
            if header is not None:
                raise internal_error("an encoded vibe was sent to a model that takes raw images")
            open_image(data, f"reference_image_multiple[{i}]")
        elif header is None:
            raise internal_error(f"vibe {i} is not an encoding (raw images need /ai/encode-vibe)")
        elif header.get("model") != cap.id:
            raise internal_error(f"vibe {i} was encoded for {header.get('model')}, not {cap.id}")
    return len(refs)


def _character_references(cap: ModelCapability, params: Mapping[str, Any], vibes: int) -> int:
    refs = params.get("director_reference_images") or []
    if not isinstance(refs, list):
        raise validation_error("director_reference_images must be a list")
    if not refs:
        return 0
    if vibes:
        raise validation_error("vibe transfer and character reference cannot be combined")
    if not cap.character_reference:
        raise internal_error(f"{cap.id} has no character reference")
    for key in _DIRECTOR_LISTS:
        _same_length(params, key, len(refs), True)
    for i, ref in enumerate(refs):
        open_image(decode_b64(ref, f"director_reference_images[{i}]"), "director_reference")
    return len(refs)


def _sampling(cap: ModelCapability, params: Mapping[str, Any]) -> tuple[str, str]:
    sampler = params.get("sampler", cap.default_sampler)
    if sampler not in cap.samplers:
        raise validation_error(f"sampler {sampler} is not available for {cap.id}")
    schedule = params.get("noise_schedule", cap.default_noise_schedule)
    if schedule not in cap.noise_schedules:
        if len(cap.noise_schedules) == 1:  # V5 forces its one schedule
            schedule = cap.noise_schedules[0]
        else:
            raise internal_error(f"noise schedule {schedule} is not available for {cap.id}")
    return str(sampler), str(schedule)


def _source_images(
    cap: ModelCapability, action: str, params: Mapping[str, Any], parts: Mapping[str, bytes]
) -> tuple[Image.Image | None, Image.Image | None]:
    if action == "generate":
        return None, None
    if action == "infill" and not cap.inpainting:
        raise internal_error(f"infill needs an inpainting model, not {cap.id}")
    if "image" not in params:
        raise validation_error(f"{action} needs parameters.image")
    image = resolve_image(params["image"], "image", cap, parts)
    mask = None
    if action == "infill":
        if "mask" not in params:
            raise validation_error("infill needs parameters.mask")
        mask = resolve_image(params["mask"], "mask", cap, parts)
    return image, mask


def _envelope(body: Any) -> tuple[ModelCapability, str, dict[str, Any], str]:
    """The model, action, parameters and prompt of a generate body."""
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    cap = get_model(body)
    action = body.get("action", "generate")
    if action not in ACTIONS:
        raise validation_error(f"action must be one of {', '.join(ACTIONS)}")
    params = body.get("parameters")
    if not isinstance(params, dict):
        raise validation_error("parameters must be an object")
    prompt = body.get("input")
    if not isinstance(prompt, str):
        raise validation_error("input must be a string")
    return cap, action, params, prompt


def _n_samples(params: Mapping[str, Any], width: int, height: int) -> int:
    n_samples = integer(params, "n_samples", 1, 1, 8)
    if n_samples > max_samples_for_area(width, height):
        raise validation_error(f"n_samples {n_samples} is too many for {width}x{height}")
    return n_samples


def _smea(cap: ModelCapability, params: Mapping[str, Any]) -> tuple[bool, bool]:
    """(sm, sm_dyn): SMEA on a model without it is a 500, as NovelAI answers it."""
    sm, sm_dyn = bool(params.get("sm", False)), bool(params.get("sm_dyn", False))
    if sm and not cap.smea:
        raise internal_error(f"sm (SMEA) is not available for {cap.id}")
    return sm, sm and sm_dyn


def _numbers(cap: ModelCapability, params: Mapping[str, Any], has_source: bool) -> dict[str, Any]:
    """steps, scale, seed, cfg_rescale, strength and noise, range-checked in that order."""
    seed = params.get("seed")
    return {
        "steps": integer(params, "steps", cap.default_steps, 1, 50),
        "scale": number(params, "scale", cap.default_scale, 0, 10),
        "seed": random.randint(0, 2**31 - 1)
        if seed is None
        else integer(params, "seed", 0, 0, MAX_SEED),
        "cfg_rescale": number(params, "cfg_rescale", 0, 0, 1),
        "strength": number(params, "strength", 0.7, 0.01, 0.99) if has_source else 1.0,
        "noise": number(params, "noise", 0, 0, 0.99) if has_source else 0.0,
    }


def _output_options(cap: ModelCapability, params: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    """Alpha, transparency, image format and stream framing (nothing here is refused)."""
    stream = params.get("stream")
    return {
        "straight_alpha": cap.transparency and bool(params.get("straight_alpha", False)),
        "transparent": bool(params.get("tag_hint_transparent_background"))
        or "transparent background" in prompt,
        "image_format": "webp" if params.get("image_format") == "webp" else "png",
        "stream": stream if isinstance(stream, str) else None,
    }


def plan_generation(body: Any, parts: Mapping[str, bytes] | None = None) -> GenPlan:
    """Validate a generate / generate-stream body (already parsed) into a GenPlan.

    The checks run in a fixed order, so a body with several faults always gets the same error.
    """
    cap, action, params, prompt = _envelope(body)
    width, height = _size(params)
    n_samples = _n_samples(params, width, height)
    sm, sm_dyn = _smea(cap, params)
    sampler, schedule = _sampling(cap, params)
    v4p, v4n = _v4_objects(cap, params)
    vibes = _vibes(cap, params)
    image, mask = _source_images(cap, action, params, parts or {})
    return GenPlan(
        cap=cap,
        action=action,
        prompt=prompt,
        uc=str(params.get("negative_prompt", "")),
        width=width,
        height=height,
        sampler=sampler,
        noise_schedule=schedule,
        n_samples=n_samples,
        sm=sm,
        sm_dyn=sm_dyn,
        **_numbers(cap, params, has_source=image is not None),
        image=image,
        mask=mask,
        add_original_image=bool(params.get("add_original_image", False)),
        vibes=vibes,
        character_references=_character_references(cap, params, vibes),
        v4_prompt=v4p,
        v4_negative_prompt=v4n,
        **_output_options(cap, params, prompt),
    )
