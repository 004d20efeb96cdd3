"""NovelAI Character Reference node (V4.5 "Precise Reference"), appended to a chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..novelai_core.contract.constants import REFERENCE_MODES
from .runtime import schema as t
from .runtime.tensors import tensor_to_pil

if TYPE_CHECKING:
    from torch import Tensor

    from ..novelai_core.models.user import CharacterReference


class NovelAICharacterReference:
    """Appends one character reference to an (optional) incoming chain."""

    DESCRIPTION = (
        "Character reference (V4.5 'Precise Reference'): keep a character's look and/or style "
        "from an image. Costs 5 Anlas per reference per image, also on Opus. Cannot be combined "
        "with vibes; V3, V4 and V5 do not support it."
    )
    CATEGORY = t.CATEGORY_REFERENCE
    FUNCTION = "append"
    RETURN_TYPES = (t.CHARACTER_REFERENCES,)
    RETURN_NAMES = ("character_references",)
    OUTPUT_TOOLTIPS = ("The incoming references plus this one.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        from ..novelai_core.models.user import CharacterReference

        return {
            "required": {
                "image": t.socket("IMAGE", t.IMAGE_INPUT_TOOLTIP),
                "mode": t.combo(
                    REFERENCE_MODES,
                    "character&style",
                    "What to take from the image: the character, the style, or both.",
                ),
                "strength": t.field_widget(
                    CharacterReference,
                    "strength",
                    tooltip="How strongly the reference is followed.",
                ),
                "fidelity": t.field_widget(
                    CharacterReference,
                    "fidelity",
                    tooltip="How closely details are kept (NovelAI sends 1 − fidelity).",
                ),
            },
            "optional": {
                "character_references": t.socket(
                    t.CHARACTER_REFERENCES, "References before this one (optional)."
                ),
            },
        }

    def append(
        self,
        *,
        image: Tensor,
        mode: str,
        strength: float,
        fidelity: float,
        character_references: tuple[CharacterReference, ...] | None = None,
    ) -> tuple[tuple[CharacterReference, ...]]:
        from ..novelai_core.converter.generation import reference_png
        from ..novelai_core.models.user import CharacterReference

        # Letterboxed and PNG-encoded once here (ComfyUI caches this node), not on every run.
        picture = reference_png(tensor_to_pil(image), field="image")
        reference = CharacterReference(
            image=picture, mode=mode, strength=strength, fidelity=fidelity
        )
        return ((*(character_references or ()), reference),)
