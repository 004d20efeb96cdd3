"""NovelAI Suggest Tags node: tag completions for the prompt's last tag (free endpoint)."""

from __future__ import annotations

from typing import Any, Final

from .runtime import comfy_compat, widgets
from .runtime import schema as t
from .runtime.async_node import awaits_novelai

LANGUAGES: Final = ("en", "jp")


@awaits_novelai(one_at_a_time=False)
class NovelAISuggestTags:
    """Asks NovelAI which tags complete the last tag of a prompt."""

    DESCRIPTION = (
        "Tag suggestions from NovelAI for the last tag of the prompt (after the last comma), "
        "as the web app shows while typing. Free. Outputs the tags as a comma-separated list "
        "and a report with each tag's post count and confidence."
    )
    CATEGORY = t.CATEGORY_PROMPT
    FUNCTION = "suggest"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING", "STRING")
    RETURN_NAMES = ("tags", "report")
    OUTPUT_TOOLTIPS = (
        "Suggested tags, best first, comma-separated.",
        "One line per tag: tag, post count, confidence.",
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "prompt": t.text("The prompt; suggestions complete its last tag."),
                "model": widgets.model("Model the tags are for."),
                "language": t.combo(LANGUAGES, "en", "Language of the typed tag."),
            }
        }

    def suggest(self, *, prompt: str, model: str, language: str) -> dict[str, Any]:
        from .runtime.progress import GenerationProgress, failed_text
        from .runtime.session import get_client

        node = comfy_compat.executing_node_id()
        try:
            tags = get_client().suggest_tags(
                prompt, model=model, lang=language, cancel=GenerationProgress.cancelled
            )
        except Exception as exc:  # the node's last word is the failure, not a stale list
            comfy_compat.send_progress_text(failed_text(str(exc)), node)
            raise
        names = ", ".join(tag.tag for tag in tags)
        report = "\n".join(f"{tag.tag}  ({tag.count} posts, {tag.confidence:.2f})" for tag in tags)
        shown = report or "no suggestions"
        comfy_compat.send_progress_text(shown, node)
        return {"ui": {"text": [shown]}, "result": (names, report)}
