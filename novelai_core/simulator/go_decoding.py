"""NovelAI's request decoding, as Go's ``encoding/json`` does it, from the official schema.

The service is written in Go (``shared/novelai-api-2026.md`` §3): it decodes each body into typed
structs, answers a value of the wrong JSON type with **500** and the decoder's own text (I-a:
``json: cannot unmarshal number -1 into Go struct field RequestParameters.parameters.seed of type
uint64``), ignores undeclared keys, matches keys case-insensitively and treats ``null`` as "left
out". The field types below are the schema's (§1.3-§1.6); nothing here comes from the SDK's
converter, so the simulator can catch it sending a boolean or ``1248.0`` where an integer goes.

Go type names the schema does not show (``int`` for its integers, ``float64`` for numbers) are
the plain Go kinds; only ``seed`` is known to be ``uint64`` (I-a).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from .refusals import SimError

_INT64: Final = (-(2**63), 2**63 - 1)
_UINT64: Final = (0, 2**64 - 1)
_INTEGER_LITERAL: Final = re.compile(r"-?(0|[1-9]\d*)")


class JsonFloat(float):
    """A JSON number with a fraction or exponent, remembering its text (``832.0``, ``1e3``):
    Go refuses such literals for integer fields and quotes them in its message."""

    text: str

    def __new__(cls, text: str) -> JsonFloat:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(raw: bytes) -> Any:
    """Parse a body the way the decoder sees it: number literals kept, NaN/Infinity refused."""
    return json.loads(raw, parse_float=JsonFloat, parse_constant=_no_constants)


@dataclass(frozen=True)
class Slice:
    item: Spec


@dataclass(frozen=True)
class Struct:
    go_type: str  # package-qualified, as Go prints it
    fields: Mapping[str, Spec]

    @property
    def name(self) -> str:
        return self.go_type.rpartition(".")[2]


# Scalars are their Go type names; "any" accepts every JSON value.
Spec: TypeAlias = "str | Slice | Struct"
_INTEGERS: Final = {"int": _INT64, "uint64": _UINT64}
_NAMED_STRINGS: Final = ("image.ImageFormat", "image.StreamingType")

COORDINATES: Final = Struct("image.Coordinates", {"x": "float64", "y": "float64"})
CHARACTER_CAPTION: Final = Struct(
    "image.V4ExternalCharacterCaption", {"char_caption": "string", "centers": Slice(COORDINATES)}
)
CAPTION: Final = Struct(
    "image.V4ExternalCaption",
    {"base_caption": "string", "char_captions": Slice(CHARACTER_CAPTION)},
)
CONDITION: Final = Struct(
    "image.V4ConditionInput",
    {"caption": CAPTION, "legacy_uc": "bool", "use_coords": "bool", "use_order": "bool"},
)
IMG2IMG: Final = Struct(
    "image.Img2ImgParams",
    {"strength": "float64", "noise": "float64", "color_correct": "bool", "extra_noise_seed": "int"},
)
UPSCALE_PARAMS: Final = Struct("image.UpscaleParams", {"declared_blur_sigma": "float64"})
_NUMBERS: Final = Slice("float64")
_STRINGS: Final = Slice("string")

PARAMETERS: Final = Struct(
    "image.RequestParameters",
    {
        "add_original_image": "bool",
        "cfg_rescale": "float64",
        "color_correct": "bool",
        "controlnet_condition": "string",
        "controlnet_model": "string",
        "controlnet_strength": "float64",
        "deliberate_euler_ancestral_bug": "bool",
        "director_reference_descriptions": Slice(CONDITION),
        "director_reference_images": _STRINGS,
        "director_reference_information_extracted": _NUMBERS,
        "director_reference_secondary_strength_values": _NUMBERS,
        "director_reference_strength_values": _NUMBERS,
        "dynamic_thresholding": "bool",
        "extra_noise_seed": "int",  # signedness unknown (§5): the lenient choice
        "height": "int",
        "image": "string",
        "image_format": "image.ImageFormat",
        "img2img": IMG2IMG,
        "legacy": "bool",
        "legacy_v3_extend": "bool",
        "mask": "string",
        "n_samples": "int",
        "negative_prompt": "string",
        "noise": "float64",
        "noise_schedule": "string",
        "params_version": "int",
        "prefer_brownian": "bool",
        "prompt": "string",
        "qualityToggle": "bool",
        "reference_image": "string",
        "reference_image_multiple": _STRINGS,
        "reference_information_extracted": "float64",
        "reference_information_extracted_multiple": _NUMBERS,
        "reference_strength": "float64",
        "reference_strength_multiple": _NUMBERS,
        "sampler": "string",
        "scale": "float64",
        "seed": "uint64",
        "skip_cfg_above_sigma": "float64",
        "sm": "bool",
        "sm_dyn": "bool",
        "steps": "float64",  # the schema types steps as a number, not an integer
        "straight_alpha": "bool",
        "stream": "image.StreamingType",
        "strength": "float64",
        "tag_hint_qt": "int",
        "tag_hint_transparent_background": "bool",
        "tag_hint_uc_preset": "int",
        "ucPreset": "int",
        "upscale": UPSCALE_PARAMS,
        "upscaled_enhance": "bool",
        "v4_negative_prompt": CONDITION,
        "v4_prompt": CONDITION,
        "width": "int",
    },
)
GENERATION_REQUEST: Final = Struct(
    "image.ImageGenerationRequest",
    {
        "action": "string",
        "input": "string",
        "model": "string",
        "parameters": PARAMETERS,
        "url": "string",
    },
)
ENCODE_VIBE_REQUEST: Final = Struct(
    "image.EncodeVibeRequest",
    {
        "image": "string",
        "information_extracted": "float64",
        "model": "string",
        "mask": "string",
        "crop_to_mask": "bool",
        "focus_seed": "int",
        "info_extract_seed": "int",
    },
)
AUGMENT_REQUEST: Final = Struct(
    "image.AugmentImageRequest",
    {
        "req_type": "string",
        "image": "string",
        "width": "int",
        "height": "int",
        "prompt": "string",
        "defry": "int",
    },
)
UPSCALE_REQUEST: Final = Struct(
    "image.UpscaleRequest",
    {"image": "string", "model": "string", "declared_blur_sigma": "float64"},
)


def _go_name(spec: Spec) -> str:
    if isinstance(spec, Slice):
        return "[]" + _go_name(spec.item)
    if isinstance(spec, Struct):
        return spec.go_type
    return spec


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _literal(value: int | float) -> str:
    return value.text if isinstance(value, JsonFloat) else json.dumps(value)


@dataclass(frozen=True)
class _Where:
    struct: str | None  # innermost Go struct name; None at the top level
    path: tuple[str, ...]  # JSON field names from the top, no indices (as Go prints them)


def _type_error(shown: str, spec: Spec, where: _Where) -> SimError:
    target = _go_name(spec)
    if where.struct is None:
        place = "Go value"
    else:
        place = f"Go struct field {where.struct}.{'.'.join(where.path)}"
    message = f"json: cannot unmarshal {shown} into {place} of type {target}"
    return SimError(500, message, f"wrong JSON type: {message}")


def _scalar(value: Any, spec: str, where: _Where) -> Any:
    if spec == "any":
        return value
    kind = _json_kind(value)
    if spec == "bool":
        ok = kind == "bool"
    elif spec == "string" or spec in _NAMED_STRINGS:
        ok = kind == "string"
    elif spec == "float64":
        ok = kind == "number"
    else:
        if kind != "number":
            raise _type_error(kind, spec, where)
        text = _literal(value)
        lo, hi = _INTEGERS[spec]
        if not _INTEGER_LITERAL.fullmatch(text) or not lo <= int(text) <= hi:
            raise _type_error(f"number {text}", spec, where)
        return int(text)
    if not ok:
        shown = "number" if kind == "number" else kind
        raise _type_error(shown, spec, where)
    return float(value) if spec == "float64" else value


def _struct(value: Any, spec: Struct, where: _Where) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(_json_kind(value), spec, where)
    folded = {name.casefold(): name for name in spec.fields}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in spec.fields else folded.get(key.casefold())
        if name is None:
            out[key] = item  # undeclared: Go ignores it; kept for the simulator's own reading
            continue
        if item is None:  # null leaves the field at its zero value: as if it were left out
            out.pop(name, None)
            continue
        out[name] = _value(item, spec.fields[name], _Where(spec.name, (*where.path, name)))
    return out


def _value(value: Any, spec: Spec, where: _Where) -> Any:
    if isinstance(spec, Struct):
        return _struct(value, spec, where)
    if isinstance(spec, Slice):
        if not isinstance(value, list):
            raise _type_error(_json_kind(value), spec, where)
        return [None if v is None else _value(v, spec.item, where) for v in value]
    return _scalar(value, spec, where)


def decode(body: Any, spec: Struct) -> dict[str, Any]:
    """The body as the Go service reads it: declared keys under their schema names with their
    types checked (the first wrong type → SimError 500 with Go's text), nulls dropped,
    undeclared keys passed through untouched."""
    return _struct(body, spec, _Where(None, ()))
