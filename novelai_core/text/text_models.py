"""What the SDK knows about NovelAI's text API: paths, models and their limits, result types.

Sources (shared/novelai-text-api.md): paths and fields from the official schema; model ids,
tiers and contexts from NovelAI's web app (2026-02); ``GET /oa/v1/models`` is the live truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

PATH_CHAT: Final = "/oa/v1/chat/completions"
PATH_COMPLETIONS: Final = "/oa/v1/completions"
PATH_MODELS: Final = "/oa/v1/models"
PATH_TOKEN_COUNT: Final = "/oa/v1/internal/token-count"
DEFAULT_TEXT_MODEL: Final = "glm-4-6"
# Between stream chunks a minute is plenty; NovelAI's web app gives up on headers after 20 s.
TEXT_TIMEOUT: Final = (10.0, 60.0)
ROLES: Final = ("system", "user", "assistant")


@dataclass(frozen=True)
class TextModelInfo:
    """One model of the text host: tier gate, output cap and context per tier."""

    id: str
    opus_only: bool
    max_output: int | None  # None: not known; the server decides
    context: tuple[int, int, int] | None  # Tablet, Scroll, Opus


TEXT_MODELS: Final[dict[str, TextModelInfo]] = {
    # GLM-4.6: every paid tier; the web app caps output at 1024 tokens.
    "glm-4-6": TextModelInfo("glm-4-6", False, 1024, (8192, 12288, 28672)),
    # Xialong: a fiction fine-tune of GLM-4.6, Opus only; weak at following instructions.
    "xialong-v1": TextModelInfo("xialong-v1", True, 1024, None),
}


def opus_only(model: str) -> bool:
    """Whether ``model`` is known to need Opus (unknown models: False; the server decides)."""
    info = TEXT_MODELS.get(model)
    return info is not None and info.opus_only


@dataclass(frozen=True)
class TextModel:
    """One entry of GET /oa/v1/models."""

    id: str
    owned_by: str = ""


@dataclass(frozen=True)
class TextResult:
    """Generated text. ``text`` has any ``<think>`` block removed; ``raw`` is as received."""

    text: str
    model: str
    finish_reason: str | None = None
    correlation_id: str | None = None
    raw: str = field(default="", repr=False)
    # Text generation costs no Anlas (NovelAI: "Unlimited Text Generations").
    anlas: int = 0
