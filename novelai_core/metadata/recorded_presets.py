"""Which quality preset, UC preset and V5 transparency a recorded prompt was built with.

NovelAI records the final texts: the prompt with the quality tags (and V5's "transparent
background" tag) already in it, the UC with the preset in front. To rebuild the generation with
the same switches, each plausible split of the recorded text is checked against the current
converter: a split counts only when the converter turns it back into exactly the recorded text.
So the answer follows the converter's rules instead of repeating them, and when no split
matches the texts are kept whole with the presets off (which still reproduces them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from ..contract.capabilities import MODELS, ModelCapability
from ..errors import InputError

_TRANSPARENT: Final = "transparent background"
_PROBE_SIZE: Final = 512


@dataclass(frozen=True)
class RecordedPresets:
    """The prompt and UC as the user typed them, and the switches that completed them."""

    prompt: str
    negative: str
    quality: bool
    quality_preset: str | None  # None with quality off
    uc_preset: str
    transparent_background: bool


def _body(cap: ModelCapability, prompt: Any, transparent: bool) -> dict[str, Any] | None:
    from ..converter.generation import build_generate_request  # noqa: PLC0415 - no cycle
    from ..models.user import GenerationRequest, GenerationSettings  # noqa: PLC0415

    try:
        settings = GenerationSettings(
            width=_PROBE_SIZE,
            height=_PROBE_SIZE,
            seed=1,
            transparent_background=transparent if cap.transparency else None,
        )
        request = GenerationRequest(model=cap.id, prompt=prompt, settings=settings)
        return build_generate_request(request).body
    except (InputError, ValueError):
        return None


def _without(text: str, tag: str) -> Iterator[str]:
    """``text`` with ``tag`` (and the comma joining it) taken out once, then everywhere; as
    left (a typed trailing ", " survives) and stripped."""
    for joined in (", " + tag, tag + ", ", tag):
        if joined in text:
            for rest in (text.replace(joined, "", 1), text.replace(joined, "")):
                yield rest
                yield rest.strip()


def _quality_splits(cap: ModelCapability, text: str) -> Iterator[tuple[str, str | None, bool]]:
    """(prompt, quality preset or None, transparent) candidates, most specific first."""
    transparencies = (True, False) if cap.transparency and _TRANSPARENT in text else (False,)
    for transparent in transparencies:
        bases = list(_without(text, _TRANSPARENT)) if transparent else [text]
        for base in bases:
            for name, suffix in cap.quality_presets:
                if suffix:
                    for candidate in _without(base, suffix):
                        yield candidate, name, transparent
            yield base, None, transparent


def _uc_splits(cap: ModelCapability, text: str) -> Iterator[tuple[str, str]]:
    """(user UC, UC preset) candidates: each preset's text taken off the front."""
    stripped = [text]
    if text.startswith("nsfw"):
        stripped.append(text[len("nsfw") :].lstrip(", "))
    for name, preset in cap.uc_presets:
        for rest in stripped:
            if preset and rest.startswith(preset):
                yield rest[len(preset) :].lstrip(", ").strip(), name
            elif not preset:
                yield rest, name


def infer_presets(model: str | None, prompt: str, negative: str) -> RecordedPresets | None:
    """The split the converter reproduces exactly; None for a model it does not know."""
    from ..models.user import Prompt  # noqa: PLC0415

    cap = MODELS.get(model or "")
    if cap is None:
        return None
    found_prompt: tuple[str, str | None, bool] = (prompt, None, False)
    for text, preset, transparent in _quality_splits(cap, prompt):
        probe = Prompt(text=text, quality=preset is not None, quality_preset=preset)
        body = _body(cap, probe.model_copy(update={"uc_preset": "none"}), transparent)
        if body is not None and body["input"] == prompt:
            found_prompt = (text, preset, transparent)
            break
    text, preset, transparent = found_prompt
    found_uc: tuple[str, str] = (negative, "none")
    for user_uc, uc_preset in _uc_splits(cap, negative):
        probe = Prompt(
            text=text, negative=user_uc, quality=preset is not None, quality_preset=preset,
            uc_preset=uc_preset,
        )  # fmt: skip
        body = _body(cap, probe, transparent)
        if body is not None and body["parameters"].get("negative_prompt") == negative:
            found_uc = (user_uc, uc_preset)
            break
    return RecordedPresets(text, found_uc[0], preset is not None, preset, found_uc[1], transparent)
