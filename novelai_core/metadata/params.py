"""The generation parameters a NovelAI PNG records, normalised for rebuilding the generation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..contract.capabilities import GENERATION_MODELS, MODELS, ModelCapability
from .reader import NovelAIMetadata


@dataclass(frozen=True)
class RecordedCharacter:
    prompt: str
    uc: str
    # None when the generation let the AI place characters (use_coords false) or gave no center.
    center: tuple[float, float] | None


@dataclass(frozen=True)
class GenerationParameters:
    """What the image's metadata says; None where it does not say."""

    prompt: str | None
    negative: str | None
    seed: int | None
    model: str | None  # a model id of the capability table
    width: int | None
    height: int | None
    steps: int | None
    scale: float | None
    sampler: str | None
    characters: tuple[RecordedCharacter, ...]
    origin: str  # "text" (PNG chunks) or "stealth" (alpha channel)
    # When only the Source text named the model and several models share it (full, curated…):
    # all of them, ``model`` being the one assumed. Empty when the model is certain.
    model_candidates: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["characters"] = [
            {"prompt": c.prompt, "uc": c.uc, "center": list(c.center) if c.center else None}
            for c in self.characters
        ]
        return data


def model_id(meta: NovelAIMetadata) -> str | None:
    """The model id: the Comment's ``model`` when it names one, else from the Source chunk.

    Source holds only the display family ("NovelAI Diffusion V4.5 …"), which full and curated
    share; the family's full (non-curated) model is returned then.
    """
    recorded = _recorded_model(meta)
    if recorded is not None:
        return recorded
    family = _source_family(meta)
    if not family:
        return None
    return next((cap.id for cap in family if not cap.curated), family[0].id)


def model_candidates(meta: NovelAIMetadata) -> tuple[str, ...]:
    """Every model the Source text may mean when ``model_id`` had to pick one; else ()."""
    if _recorded_model(meta) is not None:
        return ()
    family = _source_family(meta)
    return tuple(cap.id for cap in family) if len(family) > 1 else ()


def _recorded_model(meta: NovelAIMetadata) -> str | None:
    recorded = meta.comment.get("model")
    if isinstance(recorded, str) and recorded in MODELS:
        cap = MODELS[recorded]
        return cap.base_model or cap.id
    return None


def _source_family(meta: NovelAIMetadata) -> list[ModelCapability]:
    """The generation models whose display name the Source chunk starts with."""
    source = meta.source or ""
    matches = [cap for cap in GENERATION_MODELS if source.startswith(cap.source_name)]
    if not matches:
        return []
    # "NovelAI Diffusion V4" is a prefix of "… V4.5": the longest name is the right family.
    longest = max(len(cap.source_name) for cap in matches)
    return [cap for cap in matches if len(cap.source_name) == longest]


def _characters(meta: NovelAIMetadata) -> tuple[RecordedCharacter, ...]:
    v4 = meta.comment.get("v4_prompt")
    use_coords = isinstance(v4, dict) and bool(v4.get("use_coords"))
    out: list[RecordedCharacter] = []
    for item in meta.characters:
        center = item.get("center")
        xy: tuple[float, float] | None = None
        if use_coords and isinstance(center, dict):
            x, y = center.get("x"), center.get("y")
            if isinstance(x, int | float) and isinstance(y, int | float):
                xy = (float(x), float(y))
        out.append(RecordedCharacter(str(item.get("prompt", "")), str(item.get("uc", "")), xy))
    return tuple(out)


def generation_parameters(meta: NovelAIMetadata) -> GenerationParameters:
    """Normalised parameters from read_metadata's result."""
    return GenerationParameters(
        prompt=meta.prompt,
        negative=meta.negative,
        seed=meta.seed,
        model=model_id(meta),
        width=meta.width,
        height=meta.height,
        steps=meta.steps,
        scale=meta.scale,
        sampler=meta.sampler,
        characters=_characters(meta),
        origin=meta.origin,
        model_candidates=model_candidates(meta),
    )
