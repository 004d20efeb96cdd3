"""Anlas cost (contract §11), shared by the estimator, the spend guard and the simulator."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from .capabilities import ModelCapability
from .constants import FREE_VIBES, OPUS_TIER

_A: Final = 2.951823174884865e-6
_B: Final = 5.753298233447344e-7
MAX_PER_IMAGE: Final = 140
OPUS_FREE_PIXELS: Final = 1_048_576
OPUS_FREE_STEPS: Final = 28
VIBE_ENCODE_COST: Final = 2
EXTRA_VIBE_COST: Final = 2
CHARACTER_REFERENCE_COST: Final = 5
UPSCALE_PRICES: Final = ((1_048_576, 1), (1_747_627, 2), (2_446_678, 3), (3_145_728, 4))


@dataclass(frozen=True)
class CostEstimate:
    """What a request will cost: total Anlas and whether Opus makes it free."""

    total: int
    per_image: int
    billable_samples: int
    extras: int
    # Free on Opus; for allowance-metered models (V5) only while the allowance is known to last.
    free_for_opus: bool
    # The per-image price before the model's multiplier (V5 ×1.5): what MAX_PER_IMAGE limits.
    base_per_image: int = 0
    # Why the bill may differ from ``total`` (e.g. the Opus V5 allowance is unknown); "" if none.
    note: str = ""

    @property
    def over_per_image_limit(self) -> bool:
        """NovelAI refuses images above MAX_PER_IMAGE Anlas (checked before V5's ×1.5)."""
        return self.base_per_image > MAX_PER_IMAGE


def base_cost(width: int, height: int, steps: int) -> int:
    """ceil(a·px + b·px·steps): the price of one image before multipliers."""
    px = width * height
    return math.ceil(_A * px + _B * px * steps)


def per_image_cost(
    width: int,
    height: int,
    steps: int,
    *,
    smea: bool = False,
    smea_dyn: bool = False,
    strength: float = 1.0,
    multiplier: float = 1.0,
) -> int:
    """Anlas for one image (§11): max(2, ceil(base × smea × multiplier × strength))."""
    factor = 1.0
    if smea:
        factor = 1.4 if smea_dyn else 1.2
    return max(2, math.ceil(base_cost(width, height, steps) * factor * multiplier * strength))


def opus_free_eligible(width: int, height: int, steps: int) -> bool:
    """Opus rule: ≤ 1 MiP and ≤ 28 steps makes one sample per request free."""
    return width * height <= OPUS_FREE_PIXELS and steps <= OPUS_FREE_STEPS


def _allowance_note(cap: ModelCapability, tier: int | None, allowance_left: bool | None) -> str:
    if not cap.opus_allowance_metered or allowance_left is True or tier != OPUS_TIER:
        return ""
    if allowance_left is None:
        return (
            "Opus' free V5 images come from a monthly allowance that is unknown here, so this "
            "estimate counts them as paid"
        )
    return "the Opus V5 allowance is used up: V5 images cost Anlas until it renews"


def generation_cost(
    cap: ModelCapability,
    *,
    width: int,
    height: int,
    steps: int,
    n_samples: int = 1,
    smea: bool = False,
    smea_dyn: bool = False,
    strength: float = 1.0,
    vibes: int = 0,
    vibes_to_encode: int = 0,
    character_references: int = 0,
    tier: int | None = None,
    v5_allowance_left: bool | None = None,
) -> CostEstimate:
    """Estimate for one generate request; ``tier`` (3 = Opus) applies the free rule if given.

    ``free_for_opus`` says whether the whole request is free on Opus, whatever ``tier`` is.
    For allowance-metered models (V5) the free rule applies only when ``v5_allowance_left`` is
    True (usage.percent below 100); None means unknown and counts as paid, so a "free only"
    guard never lets a charged V5 request through. ``note`` says so.
    Extras (contract §8): each vibe beyond 4 costs +2 once per request ("per generation"),
    each character reference +5 per image, each uncached vibe encode +2 once.
    """

    def price(multiplier: float) -> int:
        return per_image_cost(
            width, height, steps, smea=smea, smea_dyn=smea_dyn, strength=strength,
            multiplier=multiplier,
        )  # fmt: skip

    per_image = price(cap.cost_multiplier)
    # Contract §11 states the 140 limit for V3-V4.5 only; whether V5 checks it before or after
    # its ×1.5 is disputed. Before: V5 at 3 MiP and 50 steps (150 Anlas) is then allowed.
    base_per_image = price(1.0)
    extras = character_references * CHARACTER_REFERENCE_COST * n_samples
    extras += max(0, vibes - FREE_VIBES) * EXTRA_VIBE_COST + vibes_to_encode * VIBE_ENCODE_COST
    eligible = opus_free_eligible(width, height, steps)
    if cap.opus_allowance_metered and v5_allowance_left is not True:
        eligible = False
    opus_billable = n_samples - 1 if eligible else n_samples
    billable = opus_billable if tier == OPUS_TIER else n_samples
    return CostEstimate(
        total=per_image * billable + extras,
        per_image=per_image,
        billable_samples=billable,
        extras=extras,
        free_for_opus=per_image * opus_billable + extras == 0,
        base_per_image=base_per_image,
        note=_allowance_note(cap, tier, v5_allowance_left),
    )


def augment_cost(tool: str, width: int, height: int, *, tier: int | None = None) -> int:
    """Director tools: a V3 image at 28 steps; free on Opus at ≤ 1 MP except bg-removal (3× + 5)."""
    base = per_image_cost(width, height, 28)
    if tool == "bg-removal":
        return 3 * base + 5
    if tier == OPUS_TIER and width * height <= OPUS_FREE_PIXELS:
        return 0
    return base


def upscale_cost(width: int, height: int) -> int:
    """2026 upscale price by source area; never free. Raises ValueError above 3 MiP."""
    px = width * height
    for limit, price in UPSCALE_PRICES:
        if px <= limit:
            return price
    raise ValueError(f"upscale source {width}x{height} is larger than {UPSCALE_PRICES[-1][0]} px")
