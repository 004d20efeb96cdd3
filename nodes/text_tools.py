"""Prompt tools: convert weight syntax A1111 ↔ NovelAI for a model, and count prompt tokens.

The token counter uses a real tokenizer only when one is available offline: inside ComfyUI,
the tokenizer files ComfyUI ships (found next to its ``comfy`` package, read with the
``tokenizers`` package ComfyUI installs). Otherwise the count is an estimate and says so.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from .runtime import comfy_compat, widgets
from .runtime import schema as t

if TYPE_CHECKING:
    from ..novelai_core.models.user import Character

TO_NOVELAI: Final = "A1111/ComfyUI → NovelAI"
TO_A1111: Final = "NovelAI → A1111/ComfyUI"
DIRECTIONS: Final[dict[str, Literal["novelai", "a1111"]]] = {
    TO_NOVELAI: "novelai",
    TO_A1111: "a1111",
}


def comfy_tokenizer_roots() -> list[Path]:
    """ComfyUI's ``comfy`` package folder(s), where its tokenizer files live; [] outside."""
    try:
        spec = importlib.util.find_spec("comfy")
    except (ImportError, ValueError):
        return []
    locations = getattr(spec, "submodule_search_locations", None) if spec else None
    return [Path(p) for p in locations or ()]


class NovelAIConvertWeights:
    """Rewrites prompt weights between ComfyUI/A1111 and NovelAI syntax."""

    DESCRIPTION = (
        "Converts prompt weights. To NovelAI: '(tag:1.2)' and '((tag))' become '1.2::tag::' "
        "on V4 and later, or {tag} (×1.05 each) on V3; escaped \\( \\) stay literal; "
        "NovelAI syntax ('[tag]', '{tag}', '1.2::tag::') is left alone; '<lora:…>' tags are "
        "removed (NovelAI has no LoRA) and the node says so. Back: NovelAI weights become "
        "'(tag:w)'."
    )
    CATEGORY = t.CATEGORY_PROMPT
    FUNCTION = "convert"
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("text",)
    OUTPUT_TOOLTIPS = ("The converted prompt.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "text": t.text("The prompt to convert."),
                "model": widgets.model(
                    "Target model: V3 uses braces, V4 and later numeric weights."
                ),
                "direction": t.combo(tuple(DIRECTIONS), TO_NOVELAI, "Which way to convert."),
            }
        }

    def convert(self, *, text: str, model: str, direction: str) -> tuple[str]:
        from ..novelai_core.errors import InputError
        from ..novelai_core.prompts.conversion import convert_prompt

        if direction not in DIRECTIONS:
            raise InputError(f"direction: {direction!r} is not offered")
        done = convert_prompt(text, model, to=DIRECTIONS[direction])
        if done.warnings:
            comfy_compat.send_progress_text(
                "\n".join(done.warnings), comfy_compat.executing_node_id()
            )
        return (done.text,)


class NovelAITokenCount:
    """Counts the prompt's tokens against the model's limit, saying whether it is exact."""

    DESCRIPTION = (
        "Counts prompt tokens the way NovelAI limits them: T5 (512) for V4/V4.5, CLIP (225) for "
        "V3, Qwen for V5; base prompt plus every character, weight syntax removed. Exact when "
        "ComfyUI's own tokenizer files can be read; otherwise an ESTIMATE, marked with ≈ and "
        "the reason. Quality tags the Generate node adds are not included."
    )
    CATEGORY = t.CATEGORY_PROMPT
    FUNCTION = "count"
    OUTPUT_NODE = True
    RETURN_TYPES = ("INT", "INT", "BOOLEAN", "STRING")
    RETURN_NAMES = ("tokens", "limit", "exact", "report")
    OUTPUT_TOOLTIPS = (
        "Token count (an estimate when 'exact' is false).",
        "The model's prompt token limit.",
        "True only when a real tokenizer counted.",
        "One line, e.g. '140 / 512 T5 tokens' or '≈140 / 512 T5 tokens (estimate: …)'.",
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "text": t.text("The base prompt (NovelAI or A1111 weights both fine)."),
                "model": widgets.model("The model whose tokenizer and limit apply."),
            },
            "optional": {
                "characters": t.socket(t.CHARACTERS, "Characters: their prompts count too."),
            },
        }

    def count(
        self, *, text: str, model: str, characters: tuple[Character, ...] | None = None
    ) -> dict[str, Any]:
        from ..novelai_core.prompts.tokens import count_prompt_tokens

        texts = [text, *(c.prompt for c in characters or () if getattr(c, "enabled", True))]
        result = count_prompt_tokens(texts, model, roots=comfy_tokenizer_roots())
        comfy_compat.send_progress_text(result.label, comfy_compat.executing_node_id())
        return {
            "ui": {"text": [result.label]},
            "result": (result.count, result.limit, result.exact, result.label),
        }
