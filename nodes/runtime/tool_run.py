"""One paid tool call (Director tools, upscale): tier → cost → spend guard → send, with progress.

The same order as the Generate node's run: the estimate for the account's tier is checked by the
shared spend guard before anything is sent, the cost is shown under the node, ComfyUI's Cancel
stops the wait, and a 429 wait is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import comfy_compat, spend_guard
from .progress import GenerationProgress

# (client, cancel, on_wait) -> the client's GenerationResult
Send = Callable[[Any, Callable[[], bool], Any], Any]


def run_paid_tool(
    *, what: str, cost: Callable[[int], int], guard: str, node_id: str | None, send: Send
) -> Any:
    """Check the spend guard for ``cost(tier)``, then ``send``; returns the client's result."""
    from ...novelai_core.contract.cost import CostEstimate
    from ...novelai_core.errors import CancelledError, DecodeError
    from .session import get_client

    client = get_client()
    tier = client.subscription(cancel=GenerationProgress.cancelled).tier
    total = cost(tier)
    estimate = CostEstimate(
        total=total, per_image=total, billable_samples=1, extras=0, free_for_opus=total == 0
    )
    spend_guard.check_spend(estimate, guard, tier, what=spend_guard.tool_run(what))
    progress = GenerationProgress(
        steps=1, samples=1, node_id=node_id, cost_text=spend_guard.describe(total)
    )
    progress.text(f"NovelAI {what}: estimated cost {spend_guard.describe(total)}")
    try:
        if GenerationProgress.cancelled():
            raise CancelledError(f"NovelAI {what}: cancelled before sending")
        result = send(client, GenerationProgress.cancelled, progress.on_wait)
    except CancelledError as exc:
        comfy_compat.raise_interrupted(exc)
    progress.finish()
    if not result.images:
        raise DecodeError(f"NovelAI {what}: the answer held no image")
    from . import originals

    originals.remember(result.images)
    return result


def first_image(image: Any) -> Any:
    """The first image of an IMAGE batch as PIL (tools take one image, as the web app does)."""
    from .tensors import tensor_to_pil

    return tensor_to_pil(image, 0)
