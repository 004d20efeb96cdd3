"""NovelAI Prompt node: base prompt, negative prompt, quality tags and UC preset → NAI_PROMPT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..novelai_core.contract.capabilities import MODELS
from ..novelai_core.contract.presets import UC_PRESET_ALIASES
from .runtime import schema as t

if TYPE_CHECKING:
    from ..novelai_core.models.user import Prompt


def _preset_names(attribute: str) -> tuple[str, ...]:
    """Every preset name some model offers, in web-app order of first appearance."""
    names: dict[str, None] = {}
    for cap in MODELS.values():
        names.update(dict.fromkeys(getattr(cap, attribute)))
    return tuple(names)


class NovelAIPrompt:
    """Builds the prompt config the Generate node reads."""

    SEARCH_ALIASES = (
        "nai prompt",
        "novel ai prompt",
        "positive",
        "negative",
        "undesired content",
        "uc",
    )

    DESCRIPTION = (
        "The prompt of a NovelAI generation: tags or text, the negative prompt (Undesired "
        "Content), and the web app's quality tags and UC preset, which are added for the chosen "
        "model when the Generate node runs. NovelAI syntax: {tag} up, [tag] down, 1.5::tag::."
    )
    CATEGORY = t.CATEGORY_PROMPT
    FUNCTION = "build"
    RETURN_TYPES = (t.PROMPT,)
    RETURN_NAMES = ("prompt",)
    OUTPUT_TOOLTIPS = ("The prompt config; connect it to NovelAI Generate.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        # The web app's ids, then the names saved workflows may still hold (mapped to the ids).
        uc_presets = (*_preset_names("uc_preset_names"), *UC_PRESET_ALIASES)
        quality_presets = _preset_names("quality_preset_names")
        return {
            "required": {
                "prompt": t.text(
                    "What to draw: NovelAI tags or text. Quality tags are added "
                    "by the toggle below."
                ),
                "negative": t.text(
                    "Undesired Content: what to avoid. The UC preset is put in front of it."
                ),
                "quality_tags": t.boolean(
                    "Add the model's quality tags to the prompt, as the web app does.", True
                ),
                "quality_preset": t.combo(
                    quality_presets,
                    quality_presets[0],
                    "Which quality tags (V5 also has 'light'); other models have 'standard' only.",
                ),
                "uc_preset": t.combo(
                    uc_presets,
                    "heavy",
                    "The web app's Undesired Content preset. Not every model has every preset; "
                    "an unsupported one is reported before anything is sent.",
                ),
            }
        }

    def build(
        self,
        *,
        prompt: str,
        negative: str,
        quality_tags: bool,
        quality_preset: str,
        uc_preset: str,
    ) -> tuple[Prompt]:
        from ..novelai_core.models.user import Prompt

        return (
            Prompt(
                text=prompt,
                negative=negative,
                quality=quality_tags,
                quality_preset=quality_preset,
                uc_preset=uc_preset,
            ),
        )
