"""Checks a generate request the way NovelAI does and turns it into a plan for the renderer.

The body is first decoded with the schema's types (``go_decoding``: a wrong type is a 500 with
Go's text). The refusals after that are the ones a source shows, with its status and message
(``shared/novelai-api-2026.md`` R9, ``shared/novelai-api.md`` §2-§10); what no source shows the
real service refusing (e.g. the ``native`` noise schedule on V4+, an unlisted sampler) is accepted.
"""

from __future__ import annotations

import base64
import binascii
import io
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from PIL import Image

from ..contract.capabilities import MODELS, ModelCapability
from ..contract.constants import (
    MAX_PIXELS,
    MAX_SIDE,
    MAX_VIBES,
    REFERENCE_CANVAS_LANDSCAPE,
    REFERENCE_CANVAS_PORTRAIT,
    REFERENCE_CANVAS_SQUARE,
    SIZE_STEP,
    max_samples_for_area,
)
from .go_decoding import GENERATION_REQUEST, decode
from .refusals import BARE_500, SimError, internal_error, validation_error
from .vibe_encodings import read_encoding

ACTIONS: Final = ("generate", "img2img", "infill")
REQUEST_TYPES: Final = {
    "generate": "PromptGenerateRequest",
    "img2img": "Img2ImgRequest",
    "infill": "NativeInfillingRequest",
}
_REFERENCE_CANVASES: Final = (
    REFERENCE_CANVAS_PORTRAIT,
    REFERENCE_CANVAS_LANDSCAPE,
    REFERENCE_CANVAS_SQUARE,
)
_DIRECTOR_ERROR: Final = "Error encoding v4 director references"
# The text Q7 saw after the JSON of a 400 "doesn't support action infill" (F saw a ZIP there).
_INFILL_TRAILER: Final = b"500 Internal Server Error"
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
    # Request parameters NovelAI copies into the Comment (real outputs show them), under the
    # Comment's names.
    echo: dict[str, Any] = field(default_factory=dict)

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
        }
        if self.cap.smea:
            data.update(sm=self.sm, sm_dyn=self.sm_dyn)
        if self.cap.is_v4_plus:
            data.update(v4_prompt=self.v4_prompt, v4_negative_prompt=self.v4_negative_prompt)
        if self.image is not None:
            data.update(strength=self.strength, noise=self.noise)
        data.update(self.echo)
        return data


def get_model_or_none(model: Any) -> ModelCapability | None:
    cap = MODELS.get(model) if isinstance(model, str) else None
    return cap if cap is not None and cap.exists else None


def get_model(body: Mapping[str, Any], key: str = "model") -> ModelCapability:
    """The capability row of the requested model; 400 as NovelAI words it when unknown."""
    model = body.get(key)
    cap = get_model_or_none(model)
    if cap is None:
        raise validation_error(f"model {model} doesn't exist")
    return cap


def number(params: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    """A decoded number field (types are the decoder's job), range-checked."""
    value = params.get(key, default)
    if not lo <= value <= hi:
        raise validation_error(f"{key} must be between {lo} and {hi}")
    return float(value)


def integer(params: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    """A decoded integer field (types are the decoder's job), range-checked."""
    value = params.get(key, default)
    if not lo <= value <= hi:
        raise validation_error(f"{key} must be between {lo} and {hi}")
    return int(value)


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


def image_bytes(value: Any, field: str, parts: Mapping[str, bytes], multipart: bool) -> bytes:
    """An image field: in a multipart body the name of a form part, otherwise base64 (R9 d)."""
    if not multipart:
        return decode_b64(value, field)
    if isinstance(value, str) and value in parts:
        return parts[value]
    text = str(value)
    shown = text if len(text) <= 16 else text[:5] + "…"
    raise SimError(400, f'{field} field references unknown form part "{shown}"')


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
        if "v4_prompt" in params or "v4_negative_prompt" in params:
            raise SimError(500, BARE_500, f"{cap.id} (V3) takes no v4 captions")  # R9 i
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
    # characterPrompts is undeclared (web metadata, R14 d): the server reads the captions.
    count = len(v4p["caption"].get("char_captions", []))
    if count > cap.max_characters:
        raise internal_error(f"{count} characters; {cap.id} takes at most {cap.max_characters}")
    return v4p, v4n


def _same_length(params: Mapping[str, Any], key: str, expected: int, required: bool) -> None:
    value = params.get(key)
    if value is None and not required:
        return
    if not isinstance(value, list) or len(value) != expected:
        raise validation_error(f"{key} must be a list of {expected} values")


def _vibes(
    cap: ModelCapability, params: Mapping[str, Any], parts: Mapping[str, bytes], multipart: bool
) -> int:
    refs = params.get("reference_image_multiple") or []
    if not refs:
        return 0
    if params.get("director_reference_images"):
        # Q7 (status not stated; Low): the simulator answers it as a validation 400.
        raise SimError(400, "cannot mix reference and director_reference at the same time")
    if cap.family == "v5":
        raise SimError(500, BARE_500, f"{cap.id} takes no vibes")  # R9 e
    if len(refs) > MAX_VIBES:
        raise validation_error(f"at most {MAX_VIBES} vibes")
    _same_length(params, "reference_strength_multiple", len(refs), True)
    raw = cap.vibe_mode == "raw"
    _same_length(params, "reference_information_extracted_multiple", len(refs), raw)
    if cap.vibe_mode == "none":
        raise internal_error(f"{cap.id} takes no vibes")
    for i, ref in enumerate(refs):
        data = image_bytes(ref, f"reference_image_multiple[{i}]", parts, multipart)
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


def _character_references(
    cap: ModelCapability, params: Mapping[str, Any], parts: Mapping[str, bytes], multipart: bool
) -> int:
    refs = params.get("director_reference_images") or []
    if not refs:
        return 0
    if cap.family == "v5":
        # R9 a (F §12, P): the V5 service has no director-reference encoder to reach. The
        # middle of the live text is not published; its ends are.
        raise SimError(400, f"{_DIRECTOR_ERROR}: no such host")
    if not cap.character_reference:
        raise internal_error(f"{cap.id} has no character reference")
    for key in _DIRECTOR_LISTS:
        _same_length(params, key, len(refs), True)
    for i, ref in enumerate(refs):
        field = f"director_reference_images[{i}]"
        image = open_image(image_bytes(ref, field, parts, multipart), field)
        if image.size not in _REFERENCE_CANVASES:
            # R9 c (I-b): the encoder refuses any other size.
            reason = f"{field} is {image.width}x{image.height}, not one of the three canvases"
            raise SimError(400, f"{_DIRECTOR_ERROR}: non-200 response: 400", reason)
    return len(refs)


def _sampling(cap: ModelCapability, params: Mapping[str, Any]) -> tuple[str, str]:
    """Sampler and schedule as sent; V5 forces karras (F §2). No source shows a refusal."""
    sampler = str(params.get("sampler", cap.default_sampler))
    schedule = str(params.get("noise_schedule", cap.default_noise_schedule))
    if len(cap.noise_schedules) == 1:
        schedule = cap.noise_schedules[0]
    return sampler, schedule


def _source_images(
    cap: ModelCapability,
    action: str,
    params: Mapping[str, Any],
    parts: Mapping[str, bytes],
    multipart: bool,
) -> tuple[Image.Image | None, Image.Image | None]:
    if action == "generate":
        if "image" in params:
            raise SimError(400, "image is not allowed for regular generations")  # R9 g
        return None, None
    if action == "infill" and not cap.inpainting:
        # R9 b (F §12, Q7): JSON followed by stray bytes; clients must read the first object.
        raise SimError(
            400, f"Model {cap.id} doesn't support action infill", trailer=_INFILL_TRAILER
        )
    if "image" not in params:
        key = params.get("image_cache_secret_key")
        if isinstance(key, str):  # R9 n: the simulator keeps no web-app image cache
            raise SimError(400, "INVALID_CACHE_KEYS", details={"invalidKeys": [key]})
        raise validation_error(f"{action} needs parameters.image")
    image = open_image(image_bytes(params["image"], "image", parts, multipart), "image")
    mask = None
    if action == "infill":  # img2img ignores a mask (R9 h: 200, whole picture repainted)
        if "mask" not in params:
            raise validation_error("infill needs parameters.mask")
        mask = open_image(image_bytes(params["mask"], "mask", parts, multipart), "mask")
    return image, mask


def _envelope(body: Any) -> tuple[ModelCapability, str, dict[str, Any], str]:
    """The model, action, parameters and prompt of a decoded generate body."""
    cap = get_model(body)
    action = body.get("action", "generate")
    if action not in ACTIONS:
        raise validation_error(f"action must be one of {', '.join(ACTIONS)}")
    return cap, action, body.get("parameters", {}), body.get("input", "")


def _n_samples(params: Mapping[str, Any], width: int, height: int) -> int:
    n_samples = integer(params, "n_samples", 1, 1, 8)
    if n_samples > max_samples_for_area(width, height):
        raise validation_error(f"n_samples {n_samples} is too many for {width}x{height}")
    return n_samples


def _smea(cap: ModelCapability, params: Mapping[str, Any]) -> tuple[bool, bool]:
    """(sm, sm_dyn): SMEA on a model without it is a 500 (R9 k)."""
    sm, sm_dyn = params.get("sm", False), params.get("sm_dyn", False)
    if sm and not cap.smea:
        raise internal_error(f"sm (SMEA) is not available for {cap.id}")
    return sm, sm and sm_dyn


def _numbers(cap: ModelCapability, params: Mapping[str, Any], has_source: bool) -> dict[str, Any]:
    """steps, scale, seed, cfg_rescale, strength and noise, range-checked in that order."""
    seed = params.get("seed")  # uint64 (decoded); the web draws 0..2^32-1
    return {
        "steps": int(number(params, "steps", cap.default_steps, 1, 50)),
        "scale": number(params, "scale", cap.default_scale, 0, 10),
        "seed": random.randint(0, 2**32 - 1) if seed is None else seed,
        "cfg_rescale": number(params, "cfg_rescale", 0, 0, 1),
        "strength": number(params, "strength", 0.7, 0.01, 0.99) if has_source else 1.0,
        "noise": number(params, "noise", 0, 0, 0.99) if has_source else 0.0,
    }


def _output_options(cap: ModelCapability, params: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    """Alpha, transparency, image format and stream framing (nothing here is refused).

    Only the prompt tag makes a V5 image transparent (R2: probes with the tag gave alpha whatever
    the flags; the schema says the server does not interpret tag_hint_transparent_background).
    """
    return {
        "straight_alpha": cap.transparency and params.get("straight_alpha", False),
        "transparent": cap.transparency and "transparent background" in prompt.lower(),
        "image_format": "webp" if params.get("image_format") == "webp" else "png",
        "stream": params.get("stream"),
    }


def plan_generation(
    body: Any, parts: Mapping[str, bytes] | None = None, *, multipart: bool = False
) -> GenPlan:
    """Validate a generate / generate-stream body (already parsed) into a GenPlan.

    ``multipart``: the body came as the "request" part of a form, so image fields name parts.
    The checks run in a fixed order, so a body with several faults always gets the same error.
    """
    cap, action, params, prompt = _envelope(decode(body, GENERATION_REQUEST))
    parts = parts or {}
    width, height = _size(params)
    n_samples = _n_samples(params, width, height)
    sm, sm_dyn = _smea(cap, params)
    sampler, schedule = _sampling(cap, params)
    v4p, v4n = _v4_objects(cap, params)
    vibes = _vibes(cap, params, parts, multipart)
    references = _character_references(cap, params, parts, multipart)
    image, mask = _source_images(cap, action, params, parts, multipart)
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
        character_references=references,
        v4_prompt=v4p,
        v4_negative_prompt=v4n,
        **_output_options(cap, params, prompt),
        echo=_echoed(params),
    )


# Body name → Comment name, for the parameters real NovelAI Comments repeat.
_ECHOED: Final = {
    "skip_cfg_above_sigma": "skip_cfg_above_sigma",
    "dynamic_thresholding": "dynamic_thresholding",
    "legacy_v3_extend": "legacy_v3_extend",
    "deliberate_euler_ancestral_bug": "deliberate_euler_ancestral_bug",
    "prefer_brownian": "prefer_brownian",
    "extra_noise_seed": "extra_noise_seed",
    "reference_strength_multiple": "reference_strength_multiple",
    "reference_information_extracted_multiple": "reference_information_extracted_multiple",
    "director_reference_descriptions": "director_reference_descriptions",
    "director_reference_information_extracted": "director_reference_information_extracted",
    "director_reference_strength_values": "director_reference_strengths",
    "director_reference_secondary_strength_values": "director_reference_secondary_strengths",
}


def _echoed(params: Mapping[str, Any]) -> dict[str, Any]:
    return {comment: params[key] for key, comment in _ECHOED.items() if key in params}
