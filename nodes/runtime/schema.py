"""Socket type names and widget specs shared by the nodes, declared once.

Each concept travels on its own socket type so ComfyUI refuses wrong connections:
a prompt config, a character chain, a character-reference chain, a vibe chain and a source.
Chains are tuples of frozen ``novelai_core.models.user`` models; nodes never mutate them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pydantic import BaseModel

PROMPT: Final = "NAI_PROMPT"
CHARACTERS: Final = "NAI_CHARACTERS"
CHARACTER_REFERENCES: Final = "NAI_CHARREF"
VIBES: Final = "NAI_VIBES"
SOURCE: Final = "NAI_SOURCE"

CATEGORY: Final = "NovelAI"
CATEGORY_PROMPT: Final = "NovelAI/prompt"
CATEGORY_REFERENCE: Final = "NovelAI/reference"
CATEGORY_SOURCE: Final = "NovelAI/source"
CATEGORY_ACCOUNT: Final = "NovelAI/account"

# A node input spec is (type, options) for ComfyUI's classic INPUT_TYPES.
InputSpec = tuple[Any, ...]


def text(tooltip: str, default: str = "", *, multiline: bool = True) -> InputSpec:
    """A prompt text widget. dynamicPrompts off: the frontend would eat NovelAI's {} and //."""
    return (
        "STRING",
        {
            "default": default,
            "multiline": multiline,
            "dynamicPrompts": False,
            "tooltip": tooltip,
        },
    )


def unit_float(tooltip: str, default: float, *, low: float = 0.0, high: float = 1.0) -> InputSpec:
    """A slider-like FLOAT in [low, high] with a 0.01 step (strengths, noise, fidelity)."""
    return (
        "FLOAT",
        {"default": default, "min": low, "max": high, "step": 0.01, "tooltip": tooltip},
    )


def field_widget(model: type[BaseModel], name: str, *, tooltip: str) -> InputSpec:
    """The widget of one field of a core model: its type, default and limits come from the field.

    A limit is written once, in the model (``Field(0.6, ge=0.0, le=1.0)``): the node offers what
    the model accepts. Floats move in steps of 0.01. The model is passed in by the caller, so
    pydantic is imported when a node's INPUT_TYPES is read, never when the pack is imported.
    """
    field = model.model_fields[name]
    kinds = {float: ("FLOAT", 0.01), int: ("INT", 1)}
    if field.annotation not in kinds:
        raise TypeError(f"{model.__name__}.{name}: no widget for {field.annotation!r}")
    kind, step = kinds[field.annotation]
    options: dict[str, Any] = {"default": field.default}
    for constraint in field.metadata:
        if hasattr(constraint, "ge"):
            options["min"] = constraint.ge
        if hasattr(constraint, "le"):
            options["max"] = constraint.le
    if options.keys() != {"default", "min", "max"}:
        raise TypeError(f"{model.__name__}.{name}: a widget needs a default, ge and le")
    return (kind, {**options, "step": step, "tooltip": tooltip})


def integer(tooltip: str, default: int, low: int, high: int, *, step: int = 1) -> InputSpec:
    """An INT widget in [low, high]."""
    return ("INT", {"default": default, "min": low, "max": high, "step": step, "tooltip": tooltip})


def boolean(tooltip: str, default: bool) -> InputSpec:
    return ("BOOLEAN", {"default": default, "tooltip": tooltip})


def combo(options: tuple[str, ...] | list[str], default: str, tooltip: str) -> InputSpec:
    return (list(options), {"default": default, "tooltip": tooltip})


def socket(type_name: str, tooltip: str) -> InputSpec:
    return (type_name, {"tooltip": tooltip})


IMAGE_INPUT_TOOLTIP: Final = "The image; of a batch, the first image is used."

# The outputs of the nodes that run a generation (Generate, Enhance), in this order.
GENERATION_RETURN_TYPES: Final = ("IMAGE", "MASK", "INT", "STRING")
GENERATION_RETURN_NAMES: Final = ("images", "mask", "seed", "metadata")
GENERATION_OUTPUT_TOOLTIPS: Final = (
    "The generated images, [B,H,W,3] float32 in 0..1.",
    "Transparency (V5 transparent background): 1 = transparent; zeros for opaque images.",
    "The seed used (sample i used seed + i).",
    "NovelAI's metadata of the first image (the PNG's Comment JSON).",
)
