"""Which model made an image, from the ``Source`` text NovelAI writes (PNG chunk, EXIF Software).

NovelAI writes a display family and an 8-hex-digit model hash, e.g. ``NovelAI Diffusion V4.5
4BDE2A90``. Full and curated models share the family text, so only the hash tells them apart.
The table lists hashes whose model is known from real files (C1E1DE52, 4BDE2A90) and from
several independent public metadata readers and NovelAI clients that agree on them (LlmKira's
novelai-python for the V3 hashes; image viewers and prompt tools on GitHub for V4/V4.5/V5). A
hash it does not list gives *model unknown* plus the Source text and the family's candidates,
never a guess: public reports disagree on the other V5 hashes (93F4BD30, 70AB5786, DB276663).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_V3: Final = "nai-diffusion-3"
_FURRY_V3: Final = "nai-diffusion-furry-3"
_V4_FULL: Final = "nai-diffusion-4-full"
_V4_CURATED: Final = "nai-diffusion-4-curated-preview"
_V45_FULL: Final = "nai-diffusion-4-5-full"
_V45_CURATED: Final = "nai-diffusion-4-5-curated"
_V5_FULL: Final = "nai-diffusion-5-full"
_V5_CURATED: Final = "nai-diffusion-5-curated"

# Model hash → model id. Inpainting checkpoints map to the generation model they belong to
# (the request type in the Comment says whether it was an infill).
KNOWN_HASHES: Final[dict[str, str]] = {
    # Anime V3 ("Stable Diffusion XL …"); C1E1DE52 checked on real files.
    **dict.fromkeys(("C1E1DE52", "7BCCAA2C", "B0BDF6C1", "8BA2AF87", "1120E6A9"), _V3),
    **dict.fromkeys(("37C2B166", "4BE8C60C", "C8704949", "9CC2F394", "F306816B"), _FURRY_V3),
    **dict.fromkeys(("37442FCA", "4F49EC75", "CA4B7203", "79F47848", "F6302A9D"), _V4_FULL),
    **dict.fromkeys(("7ABFFA2A", "C1CCBA86", "770A9E12"), _V4_CURATED),
    # 4BDE2A90 checked on real files; 1229B44F is reported as V4.5 Full's inpainting model.
    **dict.fromkeys(("4BDE2A90", "B9F340FD", "F3D95188", "1229B44F"), _V45_FULL),
    # Some V4.5 Curated images say "NovelAI Diffusion V4 …": the hash decides, not the text.
    **dict.fromkeys(("C02D4F98", "5AB81C7C", "B5A2A797", "5BB76870"), _V45_CURATED),
    # Reported as V5 Full by several readers, one of them a port of the web app's own table.
    **dict.fromkeys(("657484A5", "0ADF9AB7"), _V5_FULL),
}

# Display family → the models that write it. Longest prefix first ("V4.5" before "V4").
FAMILIES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("NovelAI Diffusion V4.5", (_V45_FULL, _V45_CURATED)),
    ("NovelAI Diffusion V5", (_V5_FULL, _V5_CURATED, "nai-diffusion-5-full-medium")),
    ("NovelAI Diffusion V4", (_V4_FULL, _V4_CURATED)),
    ("Stable Diffusion XL", (_V3, _FURRY_V3)),
)

_HASH: Final = re.compile(r"\b([0-9A-Fa-f]{8})\s*$")


@dataclass(frozen=True)
class SourceModel:
    """What the Source text says: the model id when certain, else the models it may mean."""

    model: str | None
    candidates: tuple[str, ...]  # empty when certain or when the family is unknown too
    model_hash: str | None


def model_from_source(source: str | None) -> SourceModel:
    """The model a Source text names; model None (with candidates) when the hash is unknown."""
    text = (source or "").strip()
    found = _HASH.search(text)
    model_hash = found.group(1).upper() if found else None
    known = KNOWN_HASHES.get(model_hash or "")
    if known is not None:
        return SourceModel(known, (), model_hash)
    for prefix, models in FAMILIES:
        if text.startswith(prefix):
            return SourceModel(None, models, model_hash)
    return SourceModel(None, (), model_hash)


def source_text(model: str) -> str | None:
    """The Source text NovelAI writes for ``model`` (its first listed hash); None if unknown."""
    model_hash = next((h for h, m in KNOWN_HASHES.items() if m == model), None)
    family = next((prefix for prefix, models in FAMILIES if model in models), None)
    return f"{family} {model_hash}" if model_hash and family else None
