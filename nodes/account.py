"""NovelAI Account node: the token's source (masked), tier, Anlas and the Opus V5 allowance."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .runtime import schema as t
from .runtime.async_node import awaits_novelai

if TYPE_CHECKING:
    from ..novelai_core.client import NovelAIClient
    from ..novelai_core.transport.http_transport import WaitCallback


def account_text(client: NovelAIClient, on_wait: WaitCallback | None = None) -> str:
    """One readable block; the token only ever appears masked ("pst-…abcd")."""
    from ..novelai_core.contract.constants import TIER_NAMES
    from .runtime.progress import GenerationProgress

    info = client.subscription(cancel=GenerationProgress.cancelled, on_wait=on_wait)
    tier = getattr(info, "tier", None)
    tier_name = TIER_NAMES.get(tier, "unknown") if isinstance(tier, int) else "unknown"
    return "\n".join(
        (
            f"Token: {client.masked_token} (from {client.token_source})",
            f"Tier: {tier_name} ({tier})",
            f"Anlas: {getattr(info, 'anlas', 'unknown')}",
            v5_allowance_text(tier, getattr(info, "v5_usage_percent", None)),
        )
    )


def v5_allowance_text(tier: int | None, percent: float | None) -> str:
    """The Opus V5 allowance (usage.percent): V5 is free on Opus only until it reaches 100 %."""
    from ..novelai_core.contract.constants import OPUS_TIER

    if percent is None:
        return "V5 allowance: not reported"
    used = f"{percent:g}% used"
    if tier != OPUS_TIER:
        return f"V5 allowance: {used} (only Opus has free V5 images)"
    if percent >= 100:
        return f"V5 allowance: {used}; V5 images cost Anlas until the allowance renews"
    return f"V5 allowance: {used}; V5 images are free on Opus until 100%"


@awaits_novelai(one_at_a_time=False)
class NovelAIAccount:
    """Shows the account the nodes use. Costs nothing: it reads /user/subscription."""

    SEARCH_ALIASES = (
        "nai account",
        "anlas",
        "balance",
        "subscription",
        "opus",
    )

    DESCRIPTION = (
        "Shows which NovelAI token the nodes use (masked, and where it came from: environment "
        "variable or token file), the subscription tier, the Anlas balance and how much of "
        "Opus' monthly V5 allowance is used (V5 costs Anlas once it reaches 100%). Runs again on "
        "every queue so the numbers are current. The token is never a widget: set "
        "NAI_ACCESS_TOKEN or the token file."
    )
    CATEGORY = t.CATEGORY_ACCOUNT
    FUNCTION = "show"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("account",)
    OUTPUT_TOOLTIPS = ("Token source (masked), tier, Anlas and V5 allowance as text.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {"required": {}}

    @classmethod
    def IS_CHANGED(cls) -> float:  # noqa: N802 - ComfyUI's name
        # The balance changes outside the graph; this node is free, so always re-read it.
        # (The Generate node has no IS_CHANGED: it must stay cacheable.)
        return time.time()

    def show(self) -> dict[str, Any]:
        from .runtime.comfy_compat import executing_node_id, send_progress_text
        from .runtime.progress import failed_text
        from .runtime.session import get_client

        node = executing_node_id()  # no UNIQUE_ID input: a hidden one would change the schema

        def on_wait(attempt: int, delay: float, reason: str) -> None:
            send_progress_text(f"Waiting: {reason}; trying again in {delay:.0f} s.", node)

        try:
            text = account_text(get_client(), on_wait)
        except Exception as exc:
            send_progress_text(failed_text(str(exc)), node)
            raise
        # Also as progress text: every frontend shows it, even without the pack's extension.
        send_progress_text(text, node)
        return {"ui": {"text": [text]}, "result": (text,)}
