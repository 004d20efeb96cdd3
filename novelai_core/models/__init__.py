"""Typed models: user-level (``user``) and the exact NovelAI JSON (``wire``)."""

from __future__ import annotations

from .user import (
    Character,
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    ImageInput,
    Img2ImgSource,
    InpaintSource,
    Prompt,
    Vibe,
)

__all__ = [
    "Character",
    "CharacterReference",
    "GenerationRequest",
    "GenerationSettings",
    "ImageInput",
    "Img2ImgSource",
    "InpaintSource",
    "Prompt",
    "Vibe",
]
