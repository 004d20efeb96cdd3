"""Weight-syntax conversion for a chosen model: V4+ numeric ``1.2::tag::``, V3 braces."""

from __future__ import annotations

from typing import Final, Literal

from ..contract.capabilities import UnknownModelError, get_capability
from ..errors import InputError
from .weights import a1111_to_novelai, novelai_to_a1111

Direction = Literal["novelai", "a1111"]
DIRECTIONS: Final[tuple[Direction, ...]] = ("novelai", "a1111")


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
        return a1111_to_novelai(text, numeric=cap.is_v4_plus)
    except ValueError as exc:  # e.g. a negative weight cannot be written with V3 braces
        raise InputError(f"prompt: {exc}") from None
