"""Weight-syntax conversion for a chosen model: V4+ numeric ``1.2::tag::``, V3 braces.

Converting to NovelAI changes only what is A1111 syntax: ``(tag)``, ``(tag:1.2)`` and escaped
brackets. What NovelAI reads as is (``[tag]``, ``{tag}``, ``1.2::tag::``) is left alone, and
``<lora:…>`` tags (NovelAI has no LoRA) are removed with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from ..contract.capabilities import UnknownModelError, get_capability
from ..errors import InputError
from .weights import a1111_to_novelai, novelai_to_a1111

Direction = Literal["novelai", "a1111"]
DIRECTIONS: Final[tuple[Direction, ...]] = ("novelai", "a1111")


# A1111 extra networks: <lora:name:weight>, <lyco:…>, <hypernet:…>.
_EXTRA_NETWORK: Final = re.compile(r"\s*,?\s*<(lora|lyco|hypernet):([^>]*)>", re.IGNORECASE)


@dataclass(frozen=True)
class Conversion:
    text: str
    warnings: tuple[str, ...]


def _without_extra_networks(text: str) -> tuple[str, tuple[str, ...]]:
    names = [f"<{m.group(1)}:{m.group(2)}>" for m in _EXTRA_NETWORK.finditer(text)]
    if not names:
        return text, ()
    cleaned = _EXTRA_NETWORK.sub("", text).lstrip(" ,")
    return cleaned, (f"removed {', '.join(names)}: NovelAI has no LoRA",)


def convert_prompt(text: str, model: str, *, to: Direction = "novelai") -> Conversion:
    """The converted text and what the conversion dropped (one warning line each)."""
    warnings: tuple[str, ...] = ()
    if to == "novelai":
        text, warnings = _without_extra_networks(text)
    return Conversion(convert_for_model(text, model, to=to), warnings)


def convert_for_model(text: str, model: str, *, to: Direction = "novelai") -> str:
    """``to="novelai"``: A1111/ComfyUI weights → the model's syntax; ``"a1111"``: back."""
    try:
        cap = get_capability(model)
    except UnknownModelError as exc:
        raise InputError(f"model: {exc}") from None
    if to == "a1111":
        return novelai_to_a1111(text)
    if to != "novelai":
        raise InputError(f"to: {to!r} is not one of {', '.join(DIRECTIONS)}")
    try:
        # V3 reads only braces; V4 and later read the numeric form (contract §5).
        return a1111_to_novelai(text, numeric=cap.is_v4_plus, brackets=False)
    except ValueError as exc:  # e.g. a negative weight cannot be written with V3 braces
        raise InputError(f"prompt: {exc}") from None
