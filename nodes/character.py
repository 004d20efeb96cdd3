"""NovelAI Character node: one character of a multi-character prompt, appended to a chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..novelai_core.contract.constants import GRID_CELLS
from .runtime import schema as t

if TYPE_CHECKING:
    from ..novelai_core.models.user import Character

AI_CHOICE = "AI's choice"
CUSTOM_XY = "custom x/y"
POSITIONS = (AI_CHOICE, *GRID_CELLS, CUSTOM_XY)


def position_value(position: str, x: float, y: float) -> str | tuple[float, float] | None:
    """The user model's position: None (AI's choice), a grid cell, or free (x, y)."""
    if position == AI_CHOICE:
        return None
    if position == CUSTOM_XY:
        return (x, y)
    return position


class NovelAICharacter:
    """Appends one character to an (optional) incoming chain; the input chain is left as is."""

    SEARCH_ALIASES = (
        "nai character",
        "character prompt",
        "multi character",
        "position",
    )

    DESCRIPTION = (
        "One character for V4, V4.5 and V5 multi-character prompts: its own prompt, its own "
        "Undesired Content and where it stands. Chain several Character nodes (up to 6 on "
        "V4/V4.5, 32 on V5) and connect the last one to NovelAI Generate."
    )
    CATEGORY = t.CATEGORY_PROMPT
    FUNCTION = "append"
    RETURN_TYPES = (t.CHARACTERS,)
    RETURN_NAMES = ("characters",)
    OUTPUT_TOOLTIPS = ("The incoming characters plus this one.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "prompt": t.text("This character's prompt, e.g. 'girl, red hair, smiling'."),
                "uc": t.text("What to avoid for this character only."),
                "position": t.combo(
                    POSITIONS,
                    AI_CHOICE,
                    "Where the character is: a cell of the web app's 5x5 grid (A1 top left, "
                    "C3 centre, E5 bottom right), the AI's choice, or custom x/y (V5 takes any "
                    "x/y; V4/V4.5 snap it to the grid).",
                ),
                "x": t.unit_float(
                    "Horizontal centre 0..1 (left..right); only for custom x/y.", 0.5
                ),
                "y": t.unit_float("Vertical centre 0..1 (top..bottom); only for custom x/y.", 0.5),
                "enabled": t.boolean(
                    "Off: the character stays in the chain but is not sent.", True
                ),
            },
            "optional": {
                "characters": t.socket(t.CHARACTERS, "Characters before this one (optional)."),
            },
        }

    def append(
        self,
        *,
        prompt: str,
        uc: str,
        position: str,
        x: float,
        y: float,
        enabled: bool,
        characters: tuple[Character, ...] | None = None,
    ) -> tuple[tuple[Character, ...]]:
        from ..novelai_core.models.user import Character

        character = Character(
            prompt=prompt, uc=uc, position=position_value(position, x, y), enabled=enabled
        )
        return ((*(characters or ()), character),)
