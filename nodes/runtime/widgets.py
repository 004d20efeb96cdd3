"""Widget specs several nodes share (model, seed, steps, guidance, sampler, spend guard), once.

Limits come from the core's constants and defaults from the default model's capability row, so
the Generate and Enhance nodes (and the Director tools, Upscale and Export Vibe for the spend
guard) cannot drift apart. Tooltips differ per node and are passed in.
"""

from __future__ import annotations

from typing import Final

from ...novelai_core.contract.capabilities import (
    DEFAULT_MODEL,
    GENERATION_MODEL_IDS,
    get_capability,
)
from ...novelai_core.contract.constants import (
    K_EULER_ANCESTRAL,
    MAX_SCALE,
    MAX_SEED,
    MAX_STEPS,
    MIN_STEPS,
    SAMPLERS,
)
from . import schema as t
from . import spend_guard as guard

_DEFAULTS: Final = get_capability(DEFAULT_MODEL)
# The combos' option lists. ComfyUI types a combo input by its option list, so a node output
# that feeds one must declare this very list as its RETURN_TYPES entry (Load NovelAI PNG's
# model and sampler): a "STRING" output is refused as a type mismatch.
MODEL_COMBO: Final = list(GENERATION_MODEL_IDS)
SAMPLER_COMBO: Final = list(SAMPLERS)


def model(tooltip: str) -> t.InputSpec:
    """The generation model combo (inpainting ids are chosen by the SDK, not offered)."""
    return t.combo(MODEL_COMBO, DEFAULT_MODEL, tooltip)


def seed(tooltip: str) -> t.InputSpec:
    """The seed, with ComfyUI's control_after_generate (fixed, increment, randomize…)."""
    return (
        "INT",
        {
            "default": 0,
            "min": 0,
            "max": MAX_SEED,
            "control_after_generate": True,
            "tooltip": tooltip,
        },
    )


def steps(tooltip: str) -> t.InputSpec:
    return t.integer(tooltip, _DEFAULTS.default_steps, MIN_STEPS, MAX_STEPS)


def guidance(tooltip: str) -> t.InputSpec:
    """Prompt guidance (the wire's ``scale``)."""
    return (
        "FLOAT",
        {
            "default": _DEFAULTS.default_scale,
            "min": 0.0,
            "max": MAX_SCALE,
            "step": 0.1,
            "tooltip": tooltip,
        },
    )


def sampler(tooltip: str) -> t.InputSpec:
    return t.combo(SAMPLER_COMBO, K_EULER_ANCESTRAL, tooltip)


def spend_guard(tooltip: str = guard.TOOLTIP, *, default: str = guard.FREE_ONLY) -> t.InputSpec:
    """The spend guard combo; 'free only' by default so nothing costs Anlas unasked. A tool that
    is never free defaults to the smallest guard admitting its usual cost (a fresh node runs)."""
    return t.combo(guard.OPTIONS, default, tooltip)
