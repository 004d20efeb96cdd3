"""The spend guard: the Generate node refuses, before sending, anything above the user's limit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ...novelai_core.contract.cost import CostEstimate

FREE_ONLY: Final = "free only"
NO_LIMIT: Final = "no limit"
# Label → most Anlas one run may spend (None = no limit). Order is the widget's.
LIMITS: Final[dict[str, int | None]] = {
    FREE_ONLY: 0,
    "up to 10 Anlas": 10,
    "up to 50 Anlas": 50,
    "up to 100 Anlas": 100,
    "up to 500 Anlas": 500,
    NO_LIMIT: None,
}
OPTIONS: Final = tuple(LIMITS)
GENERATION: Final = "this generation"  # check_spend's default ``what``
TOOLTIP: Final = (
    "The most Anlas this node may spend each run. The cost is estimated for your subscription "
    "before anything is sent; above this limit nothing is sent. 'free only': only what Opus "
    "generates for free."
)


def describe(total: int) -> str:
    """The estimate as progress text shows it."""
    return "0 Anlas (free)" if total == 0 else f"{total} Anlas"


def check_spend(
    estimate: CostEstimate, guard: str, tier: int | None, *, what: str = GENERATION
) -> None:
    """Raise SpendLimitError (nothing sent) when ``estimate.total`` is above the guard's limit.

    ``what`` names the caller's run (GENERATION, or ``tool_run(name)``) in the message.
    """
    from ...novelai_core.contract.constants import TIER_NAMES
    from ...novelai_core.errors import SpendLimitError

    if guard not in LIMITS:
        raise SpendLimitError(f"spend guard {guard!r} is not one of: {', '.join(OPTIONS)}")
    limit = LIMITS[guard]
    total = int(estimate.total)
    if limit is None or total <= limit:
        return
    tier_name = TIER_NAMES.get(tier, "unknown") if tier is not None else "unknown"
    note = str(getattr(estimate, "note", "") or "")
    why = f" ({note})" if note else ""
    allow = next(label for label, value in LIMITS.items() if value is None or value >= total)
    raise SpendLimitError(
        f"NovelAI: {what} is estimated at {total} Anlas on your {tier_name} subscription{why}, "
        f"above the spend guard '{guard}'. Nothing was sent. To allow it, set spend_guard to "
        f"'{allow}'{_cheaper_hint(what, tier, note)}."
    )


def tool_run(name: str) -> str:
    """How a refusal names a paid tool's run (upscale, a Director tool)."""
    return f"this tool run ({name})"


def _cheaper_hint(what: str, tier: int | None, note: str) -> str:
    """How a generation gets cheaper; Opus' free image only where it applies (no note)."""
    from ...novelai_core.contract.constants import OPUS_TIER

    if what != GENERATION:
        return ""
    if tier == OPUS_TIER and not note:
        return (
            " (or lower size, steps or samples; on Opus, one image of at most 1024x1024 px and "
            "28 steps is free)"
        )
    return " (or lower size, steps or samples)"
