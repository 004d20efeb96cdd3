"""A paid tool call (Director tools, Upscale) as a job of the shared paid-run flow (paid_run).

The tier comes from the same cache as Generate's, the estimate goes through the same spend guard,
the cost and every wait are shown under the node, and an identical request (same image, same
options) is answered from the recent-results store instead of being paid again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from . import result_store, spend_guard
from .progress import GenerationProgress

# (client, cancel, on_wait) -> the client's GenerationResult
Send = Callable[[Any, Callable[[], bool], Any], Any]


@dataclass(frozen=True)
class ToolJob:
    """One tool request: its name as the node shows it, price per tier, wire body and call."""

    name: str
    cost: Callable[[int], int]
    endpoint: str
    body: Callable[[], Mapping[str, Any]]  # the wire body, built after the local checks
    call: Send
    checks: Callable[[], None] | None = None  # local checks (InputError), before any call
    steps: int = 1
    samples: int = 1
    metered: bool = False

    @property
    def what(self) -> str:
        return spend_guard.tool_run(self.name)

    def check(self) -> None:
        if self.checks is not None:
            self.checks()

    def key(self, client: Any) -> bytes:
        return result_store.request_key(client.base_url, self.endpoint, self._body)

    @cached_property
    def _body(self) -> Mapping[str, Any]:
        return self.body()

    def estimate(self, client: Any, tier: int) -> Any:
        from ...novelai_core.contract.cost import CostEstimate

        total = self.cost(tier)
        return CostEstimate(
            total=total, per_image=total, billable_samples=1, extras=0, free_for_opus=total == 0
        )

    def note(self, client: Any) -> str:
        return ""

    def fit_to_free(self, tier: int) -> None:
        """A tool's size is the web app's: nothing to reduce ('fit to free' acts as 'free only')."""
        return None

    def send(self, client: Any, progress: GenerationProgress, max_anlas: int | None) -> Any:
        return self.call(client, GenerationProgress.cancelled, progress.on_wait)


def run_paid_tool(job: ToolJob, *, guard: str, node_id: str | None) -> Any:
    """Run ``job`` through the paid-run flow; the client's result, with at least one image."""
    from ...novelai_core.errors import DecodeError
    from . import originals
    from .paid_run import run_paid

    result = run_paid(job, guard=guard, node_id=node_id)
    if not result.images:
        raise DecodeError(f"NovelAI {job.name}: the answer held no image")
    originals.remember(result.images)
    return result


def first_image(image: Any) -> Any:
    """The first image of an IMAGE batch as PIL (tools take one image, as the web app does)."""
    from .tensors import tensor_to_pil

    return tensor_to_pil(image, 0)
