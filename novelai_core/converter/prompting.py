"""Prompt text the web app builds on the client: quality tags, transparency, UC presets, Enhance.

Rules and sources: ``shared/novelai-api-2026.md`` §2 (R2 transparency, R6 V3 ``|`` mixing, R7 V3
"none" UC, R10 Enhance) and ``shared/novelai-api.md`` §5.
"""

from __future__ import annotations

import re
from typing import Final

from ..contract.capabilities import ModelCapability

# A `text:` clause (V4+ in-image text) starts at the beginning or after a comma/space;
# `text::` is a weight, not a clause (R4's regex).
_TEXT_CLAUSE: Final = re.compile(r"(?:^|(?<=[,\s]))text:(?!:)", re.IGNORECASE)
# A V3 segment's trailing prompt-mixing weight, e.g. the ":0.5" of "cat:0.5|dog" (R6).
_TRAILING_WEIGHT: Final = re.compile(r":[\d.]+$")
_UC_NONE: Final = "none"
_MAX_SECTIONS: Final = 6
TRANSPARENT_TAG: Final = "transparent background"
# R10: V4.5/V5 Enhance adds this raw text (its trailing comma included) unless already there.
ENHANCE_ADDITION: Final = ", -2::upscaled, blurry::,"
_ENHANCE_MARKER: Final = "upscaled, blurry"


def split_sections(prompt: str) -> list[str]:
    """The ``|`` sections of a V4+ prompt: ``||…||`` is escaped text, at most six sections
    (extra ones stay in the last). ``"|".join`` of the result gives ``prompt`` back."""
    sections: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(prompt):
        if prompt.startswith("||", i):
            end = prompt.find("||", i + 2)
            stop = len(prompt) if end < 0 else end + 2
            current.append(prompt[i:stop])
            i = stop
        elif prompt[i] == "|":
            sections.append("".join(current))
            current = []
            i += 1
        else:
            current.append(prompt[i])
            i += 1
    sections.append("".join(current))
    if len(sections) > _MAX_SECTIONS:
        sections[_MAX_SECTIONS - 1 :] = ["|".join(sections[_MAX_SECTIONS - 1 :])]
    return sections


def trim_tail(text: str) -> str:
    """``text`` without trailing whitespace and commas."""
    while text != (shorter := text.rstrip().rstrip(",")):
        text = shorter
    return text


def _join(text: str, suffix: str) -> str:
    stripped = trim_tail(text)
    return f"{stripped}, {suffix}" if stripped else suffix


def with_tags(cap: ModelCapability, prompt: str, tags: list[str]) -> str:
    """``prompt`` with the web app's added tags (``transparent background``, quality) in place.

    V3 (R6): the quality text goes onto every ``|`` segment, before a trailing ``:weight``.
    V4+ (contract §5, R2): onto the first ``|`` section, before any ``text:`` clause.
    """
    suffix = ", ".join(tag for tag in tags if tag)
    if not suffix:
        return prompt
    if not cap.is_v4_plus:
        return "|".join(_v3_segment(segment, suffix) for segment in prompt.split("|"))
    sections = split_sections(prompt)
    head = sections[0]
    text_match = _TEXT_CLAUSE.search(head)
    if text_match is not None:
        cut = text_match.start()
        return _join(prompt[:cut], suffix) + ", " + prompt[cut:]
    if len(sections) == 1:
        # Appended as typed, a trailing ", " included: real V4.5 files read "dancing, , very
        # aesthetic, …" (the web app's tag completion leaves ", " after the last tag).
        return f"{prompt}, {suffix}" if prompt.strip() else suffix
    return _join(head, suffix) + " |" + "|".join(sections[1:])


def _v3_segment(segment: str, suffix: str) -> str:
    weight = _TRAILING_WEIGHT.search(segment)
    if weight is None:
        return _join(segment, suffix)
    return _join(segment[: weight.start()], suffix) + weight.group()


def with_enhance_addition(prompt: str) -> str:
    """R10: ``, -2::upscaled, blurry::,`` before the first ``text:`` clause (taking the separator
    in front of it along), or at the end; unchanged when the prompt already has it."""
    if _ENHANCE_MARKER in prompt:
        return prompt
    match = _TEXT_CLAUSE.search(prompt)
    if match is None:
        return prompt + ENHANCE_ADDITION
    cut = match.start()
    while cut > 0 and (prompt[cut - 1].isspace() or prompt[cut - 1] == ","):
        cut -= 1
    return prompt[:cut] + ENHANCE_ADDITION + prompt[cut:]


def negative_text(cap: ModelCapability, prompt: str, uc: str, preset: str) -> str:
    """Final UC: ``preset + ", " + uc``, with the web app's ``nsfw, `` on non-curated models.

    ``preset`` must be one of ``cap.uc_preset_names``. The user's UC goes in as typed (the web
    app sends ``"monochrome, "`` verbatim, capture C). With "none" (R7) the row's "none" text
    (V3: ``lowres``) stands in only for an empty user UC, and no ``nsfw`` is added.
    """
    user = uc if uc.strip() else ""
    preset_text = cap.uc_preset_text(preset)
    if preset == _UC_NONE:
        return user or preset_text
    text = ", ".join(part for part in (preset_text, user) if part)
    # The web app adds "nsfw" to the UC unless the user asked for it or the model is curated.
    if not cap.curated and "nsfw" not in prompt.lower():
        text = f"nsfw, {text}" if text else "nsfw"
    return text
