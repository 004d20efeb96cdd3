"""Prompt text the web app builds on the client: quality suffix, UC preset, the "nsfw" UC rule."""

from __future__ import annotations

import re
from typing import Final

from ..contract.capabilities import ModelCapability

# A `text:` clause (V4+ in-image text) starts at the beginning or after a comma/space.
_TEXT_CLAUSE: Final = re.compile(r"(?:^|(?<=[,\s]))text:", re.IGNORECASE)
_UC_NONE: Final = "none"


def with_quality(cap: ModelCapability, prompt: str, suffix: str) -> str:
    """``prompt`` with ``", " + suffix`` where the web app puts it (contract §5).

    V3 appends to the whole prompt. V4+ appends to the first ``|`` segment, before any ``text:``
    clause, so the quality tags describe the image and not the rendered text or later segments.
    """
    if not suffix:
        return prompt
    if not cap.is_v4_plus:
        return _join(prompt, suffix)
    head_end = prompt.find("|")
    head = prompt if head_end < 0 else prompt[:head_end]
    text_match = _TEXT_CLAUSE.search(head)
    if text_match is not None:
        cut = text_match.start()
        return _join(prompt[:cut], suffix) + ", " + prompt[cut:]
    if head_end < 0:
        return _join(prompt, suffix)
    return _join(prompt[:head_end], suffix) + " " + prompt[head_end:]


def _join(text: str, suffix: str) -> str:
    stripped = text.rstrip().rstrip(",").rstrip()
    return f"{stripped}, {suffix}" if stripped else suffix


def negative_text(cap: ModelCapability, prompt: str, uc: str, preset: str) -> str:
    """Final UC: ``preset + ", " + uc``, with the web app's ``nsfw, `` on non-curated models.

    ``preset`` must be one of ``cap.uc_preset_names``; "none" contributes the row's "none" text
    (V3: "lowres", others nothing).
    """
    parts = [cap.uc_preset_text(preset), uc.strip()]
    text = ", ".join(p for p in parts if p)
    # The web app adds "nsfw" to the UC unless the user asked for it or the model is curated.
    if preset != _UC_NONE and not cap.curated and "nsfw" not in prompt.lower():
        text = f"nsfw, {text}" if text else "nsfw"
    return text
