"""NovelAI Prompt Writer node: an idea in plain words (any language) → a NovelAI image prompt,
written by NovelAI's text model (glm-4-6 by default). Text generation costs no Anlas."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from .runtime import schema as t
from .runtime import widgets
from .runtime.async_node import awaits_novelai

TEXT_MODELS: Final = ("glm-4-6", "xialong-v1")
CHARACTER_OUTPUTS: Final = 4
RETRY_TEMPERATURE: Final = 0.2
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)

_COMMON_RULES = """\
You turn a user's idea into an image prompt for NovelAI's anime image model {model}.
The idea may be in any language; the prompt is always in English.

Write tags the way NovelAI expects them:
- Danbooru-style tags, lowercase, separated by ", ", with spaces instead of underscores
  (e.g. "long hair, looking at viewer, cherry blossoms").
- Start with the count tags (1girl, 2girls, 1boy, no humans, ...), then subject, pose,
  clothing, expression, setting, lighting, composition, art style.
- To stress a tag you may write 1.2::tag:: (above 1 = more, below 1 = less); use it rarely.
- Do not add quality tags (masterpiece, best quality, very aesthetic, ...) and do not add a
  generic negative list: the image node adds NovelAI's own presets.
- Keep it short: at most about {budget} words in total.
"""
_NATURAL = "- After the tags you may add one short plain-English sentence describing the scene.\n"
_CHARACTERS = """\
- If the idea has several people, put the count tags, the setting and the style in
  "positive", and write one entry per person in "characters": that person's gender tag,
  appearance, clothing, expression and action (for interactions use source#, target#
  or mutual# before the action tag, e.g. "source#hug"). At most {count} characters.
  With a single person, "characters" may stay empty.
"""
_ANSWER = """\
Answer with one JSON object and nothing else, no explanation and no code fence:
{{"positive": "...", "negative": "...", "characters": [...]}}
"negative" lists only things this particular image must avoid (may be "").
"""


def instruction(image_model: str) -> str:
    """Our instruction for the text model, tuned to the image model's prompt syntax."""
    from ..novelai_core.contract.capabilities import get_capability

    cap = get_capability(image_model)
    budget = 60 if cap.family in ("v3", "v4") else 120
    parts = [_COMMON_RULES.format(model=cap.display_name, budget=budget)]
    if cap.family in ("v4.5", "v5"):
        parts.append(_NATURAL)
    if cap.max_characters:
        parts.append(_CHARACTERS.format(count=min(cap.max_characters, CHARACTER_OUTPUTS)))
    else:
        parts.append('- This model has no character prompts: leave "characters" empty.\n')
    parts.append(_ANSWER)
    return "".join(parts)


class MalformedAnswerError(ValueError):
    """The text model's answer held no usable prompt object."""


def parse_answer(text: str) -> tuple[str, str, list[str]]:
    """(positive, negative, characters) from an answer whose <think> text is already removed;
    prose or a code fence around the JSON object is ignored."""
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        raise MalformedAnswerError("no JSON object in the answer")
    try:
        data = json.loads(body[start : end + 1])
    except ValueError as exc:
        raise MalformedAnswerError(f"the answer's JSON does not parse ({exc})") from exc
    positive = data.get("positive") if isinstance(data, dict) else None
    if not isinstance(positive, str) or not positive.strip():
        raise MalformedAnswerError('the answer has no "positive" prompt')
    negative = data.get("negative")
    characters = data.get("characters")
    chars = [c.strip() for c in characters if isinstance(c, str) and c.strip()] if (
        isinstance(characters, list)
    ) else []  # fmt: skip
    return positive.strip(), negative.strip() if isinstance(negative, str) else "", chars


@awaits_novelai(one_at_a_time=False)
class NovelAIPromptWriter:
    """Asks NovelAI's text model to write a prompt from an idea."""

    DESCRIPTION = (
        "Writes a NovelAI image prompt from an idea in plain words, in any language, using "
        "NovelAI's text model (glm-4-6 by default). Text generation costs no Anlas. Outputs "
        "the prompt's tags, a negative prompt and up to four character prompts (V4 and later) as "
        "text: connect them to NovelAI Prompt and NovelAI Character. Cached like any node: the "
        "same idea, settings and seed do not ask again; change the seed for another version."
    )
    CATEGORY = t.CATEGORY_PROMPT
    FUNCTION = "write"
    RETURN_TYPES = ("STRING", "STRING", *("STRING",) * CHARACTER_OUTPUTS, "STRING")
    RETURN_NAMES = (
        "positive",
        "negative",
        *(f"character_{i}" for i in range(1, CHARACTER_OUTPUTS + 1)),
        "answer",
    )
    OUTPUT_TOOLTIPS = (
        "The prompt's tags; connect to NovelAI Prompt's prompt.",
        "What to avoid in this image; connect to NovelAI Prompt's negative.",
        *(
            f"Character {i}'s prompt ('' if none); connect to a NovelAI Character's prompt."
            for i in range(1, CHARACTER_OUTPUTS + 1)
        ),
        "The model's whole answer, <think> text removed (to see what it wrote).",
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "idea": t.text("What the image should show, in your own words (any language)."),
                "image_model": widgets.model(
                    "The image model the prompt is for (its syntax and character prompts)."
                ),
                "text_model": t.combo(
                    TEXT_MODELS,
                    TEXT_MODELS[0],
                    "glm-4-6 works on every subscription. xialong-v1 is Opus-only and tuned "
                    "for fiction, so it follows these instructions less well.",
                ),
                "notes": t.text("Optional: style, mood or characters to keep (any language)."),
                "temperature": t.unit_float(
                    "Lower is more literal, higher more inventive.", 0.6, high=1.5
                ),
                "max_length": t.integer(
                    "Longest answer, in tokens (text model units).", 400, 64, 1024
                ),
                "seed": t.integer(
                    "Same seed and inputs → ComfyUI reuses the last answer.", 0, 0, 2**31 - 1
                ),
            }
        }

    def write(
        self,
        *,
        idea: str,
        image_model: str,
        text_model: str,
        notes: str,
        temperature: float,
        max_length: int,
        seed: int,
    ) -> dict[str, Any]:
        from ..novelai_core.errors import CancelledError, InputError, NovelAIError
        from .runtime import comfy_compat
        from .runtime.progress import GenerationProgress
        from .runtime.session import get_client

        if not idea.strip():
            raise InputError("NovelAI Prompt Writer: the idea is empty")
        message = idea.strip() + (f"\n\nNotes: {notes.strip()}" if notes.strip() else "")
        text = get_client().text
        system = instruction(image_model)
        answer = ""
        problem: Exception | None = None
        try:
            for attempt_temperature in (temperature, min(temperature, RETRY_TEMPERATURE)):
                answer = text.chat(
                    message,
                    system=system,
                    model=text_model,
                    max_tokens=max_length,
                    seed=seed,
                    cancel=GenerationProgress.cancelled,
                    temperature=attempt_temperature,
                ).text
                try:
                    positive, negative, characters = parse_answer(answer)
                    break
                except MalformedAnswerError as exc:
                    problem = exc
            else:
                raise NovelAIError(
                    f"NovelAI Prompt Writer: the text model's answer was not a prompt twice "
                    f"({problem}); try again with another seed. It wrote: {answer[:120]!r}"
                )
        except CancelledError as exc:
            comfy_compat.raise_interrupted(exc)
        chars = (characters + [""] * CHARACTER_OUTPUTS)[:CHARACTER_OUTPUTS]
        dropped = len(characters) - CHARACTER_OUTPUTS
        report = f"{positive}\n\nnegative: {negative or '(none)'}" + "".join(
            f"\ncharacter {i}: {c}" for i, c in enumerate(characters[:CHARACTER_OUTPUTS], 1)
        )
        report += f"\n({dropped} more characters not output)" if dropped > 0 else ""
        report += "\n\nText generation costs no Anlas."
        return {"ui": {"text": [report]}, "result": (positive, negative, *chars, answer)}
