"""The spend guard: a paid node refuses, before sending, anything above the user's limit.

'fit to free' (Generate and Enhance) shrinks size, steps and samples to Opus' free image instead
of refusing, and says what it reduced; where nothing can be reduced it acts as 'free only'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ...novelai_core.contract.cost import CostEstimate

FREE_ONLY: Final = "free only"
FIT_TO_FREE: Final = "fit to free"
NO_LIMIT: Final = "no limit"
# Label → most Anlas one run may spend (None = no limit). Order is the widget's.
LIMITS: Final[dict[str, int | None]] = {
    FREE_ONLY: 0,
    FIT_TO_FREE: 0,  # after fitting; a new option: saved workflows store the label, not a position
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
    "generates for free. 'fit to free' (Generate, Enhance): lowers size, steps and samples to "
    "what Opus generates for free instead of refusing, and says what it lowered."
)


def smallest_admitting(total: int) -> str:
    """The lowest guard whose limit admits ``total`` Anlas (a paid tool's default)."""
    return next(label for label, value in LIMITS.items() if value is None or value >= total)


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
    raise SpendLimitError(
        f"NovelAI: {what} is estimated at {total} Anlas on your {tier_name} subscription{why}, "
        f"above the spend guard '{guard}'. Nothing was sent. To allow it, set spend guard to "
        f"'{smallest_admitting(total)}'{_cheaper_hint(what, tier, note)}."
    )


def tool_run(name: str) -> str:
    """How a refusal names a paid tool's run ("Upscale", "Remove Background")."""
    return f"this {name} run"


def _cheaper_hint(what: str, tier: int | None, note: str) -> str:
    """How a generation gets cheaper; Opus' free image only where it applies (no note)."""
    from ...novelai_core.contract.constants import OPUS_TIER

    if what != GENERATION:
        return ""
    if tier == OPUS_TIER and not note:
        return (
            ", or 'fit to free', or lower size, steps or samples: on Opus one image of at most "
            "1024×1024 px and 28 steps is free"
        )
    return ", or lower size, steps or samples"
