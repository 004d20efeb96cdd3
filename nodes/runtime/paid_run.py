"""The one paid-run flow of every node that spends Anlas (Generate, Enhance, Director tools,
Upscale): recent-results store → tier (one cache) → estimate → fit to free → spend guard →
progress → send → a final state under the node.

What differs per node is a ``PaidJob``: how its request is keyed, priced, shrunk to free and sent.
``PaidJob.send`` is the run's one paid network call; the tier lookup (free, cached) is the other.
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

from . import comfy_compat, result_store, spend_guard
from .progress import GenerationProgress, cost_text
from .wording import reword


class PaidJob(Protocol):
    """One node's paid request, as the flow needs it."""

    @property
    def what(self) -> str:
        """How a refusal names the run: spend_guard.GENERATION or spend_guard.tool_run(name)."""

    @property
    def steps(self) -> int: ...

    @property
    def samples(self) -> int: ...

    @property
    def metered(self) -> bool:
        """Priced by Opus' V5 allowance: the tier is then looked up afresh (session)."""

    def check(self) -> None:
        """Local checks: InputError for anything NovelAI would refuse, before any call."""

    def key(self, client: Any) -> bytes | None:
        """The exact request as sent (result_store.request_key); None when not known yet."""

    def estimate(self, client: Any, tier: int) -> Any:
        """The CostEstimate for the account's tier."""

    def note(self, client: Any) -> str:
        """Extra words for the cost text ("" if none)."""

    def fit_to_free(self, tier: int) -> tuple[PaidJob, str] | None:
        """A cheaper job and what was reduced ("832×1216 → …"), or None if nothing can shrink."""

    def send(self, client: Any, progress: GenerationProgress, max_anlas: int | None) -> Any:
        """Send the request (the one paid call); the client's GenerationResult."""


def run_paid(job: PaidJob, *, guard: str, node_id: str | None) -> Any:
    """Run ``job`` under ``guard``; the client's result. Ends with a final state on the node.

    Nothing is sent when the store holds the same request, or the estimate is above the guard.
    Images that arrived before a failure or Cancel are saved (partial_images).
    """
    from ...novelai_core.errors import CancelledError, NovelAIError
    from .partial_images import save_partial
    from .session import account_tier, get_client

    cancel = GenerationProgress.cancelled
    state = _progress(job, node_id, "")
    sent = False
    try:
        job.check()
        client = get_client()
        key = job.key(client)  # builds the request: once per job, not per lookup
        stored = result_store.get(key)
        if stored is not None:
            state.stored()
            return stored
        tier = account_tier(client, cancel, metered=job.metered, on_wait=state.on_wait)
        job, estimate, reduced = _fitted(job, client, tier, guard)
        key = job.key(client) if reduced else key
        stored = result_store.get(key) if reduced else None
        if stored is not None:
            state.stored()
            return stored
        spend_guard.check_spend(estimate, guard, tier, what=job.what)
        state = _progress(job, node_id, cost_text(int(estimate.total)) + job.note(client))
        state.start()
        if cancel():
            raise CancelledError("NovelAI: cancelled before sending")
        sent = True
        result = job.send(client, state, spend_guard.LIMITS[guard])
    except CancelledError as exc:
        _cancelled(state, exc, sent=sent)
    except NovelAIError as exc:
        save_partial(exc)
        reword(exc)
        state.failed(exc.message)
        raise
    except Exception as exc:
        if comfy_compat.is_interrupt(exc):
            state.was_cancelled(sent=sent)
        else:
            state.failed(str(exc) or "unexpected error; see ComfyUI's log")
        raise
    result_store.put(key, result)  # paid for: kept before anything else can fail
    try:
        state.finish(reduced)  # ComfyUI's progress hook raises here if Cancel came just now
    except Exception as exc:
        if not comfy_compat.is_interrupt(exc):
            raise
        late = CancelledError("NovelAI: cancelled after the images arrived")
        late.partial = tuple(result.images)
        _cancelled(state, late, sent=True)
    return result


def _cancelled(state: GenerationProgress, exc: Any, *, sent: bool) -> NoReturn:
    """Save what arrived (maybe paid), say so under the node, raise ComfyUI's interrupt."""
    from .partial_images import save_partial

    save_partial(exc)
    state.was_cancelled(sent=sent, saved=" ".join(getattr(exc, "partial_notes", ())))
    comfy_compat.raise_interrupted(exc)


def _fitted(job: PaidJob, client: Any, tier: int, guard: str) -> tuple[PaidJob, Any, str]:
    """The job (shrunk under 'fit to free' when it would cost), its estimate, what was reduced."""
    estimate = job.estimate(client, tier)
    if guard != spend_guard.FIT_TO_FREE or int(estimate.total) == 0:
        return job, estimate, ""
    fitted = job.fit_to_free(tier)
    if fitted is None:
        return job, estimate, ""
    smaller, reduced = fitted
    return smaller, smaller.estimate(client, tier), reduced


def _progress(job: PaidJob, node_id: str | None, cost: str) -> GenerationProgress:
    return GenerationProgress(
        steps=job.steps or 1, samples=job.samples or 1, node_id=node_id, cost_text=cost
    )
