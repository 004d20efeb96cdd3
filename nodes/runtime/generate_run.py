"""One run of the Generate node: local checks, spend guard, vibe encoding, streamed generate.

Kept apart from the node class so the widget schema and the run logic each stay readable.
"""

from __future__ import annotations

from typing import Any

from . import comfy_compat, spend_guard
from .progress import GenerationProgress


def check_locally(request: Any) -> None:
    """validate_request, with vibes the client will encode counted as encoded.

    The converter wants V4+ vibes encoded already; encoding costs Anlas, so the client does it
    only after the spend guard. A stand-in encoding lets every other rule be checked first, so
    a mistake is reported before any network call.
    """
    from ...novelai_core.vibes.encoding import validate_with_pending_vibes

    validate_with_pending_vibes(request)


def run_generation(
    request: Any, *, guard: str, stream: bool, node_id: str | None
) -> tuple[Any, Any, int, str]:
    """Everything after the request is built; returns the node's four outputs."""
    from ...novelai_core.errors import CancelledError, NovelAIError
    from .partial_images import save_partial

    check_locally(request)
    settings = request.settings
    try:
        result = _send(request, guard=guard, stream=stream, node_id=node_id)
    except NovelAIError as exc:
        save_partial(exc)  # images that arrived before the failure (maybe paid): never dropped
        if isinstance(exc, CancelledError):
            comfy_compat.raise_interrupted(exc)
        raise
    return outputs(result, settings.seed, alpha=bool(settings.transparent_background))


def _send(request: Any, *, guard: str, stream: bool, node_id: str | None) -> Any:
    """Tier → estimate → spend guard → generate, every wait cancellable by ComfyUI's Cancel."""
    from ...novelai_core.contract.validation import effective_capability
    from ...novelai_core.errors import CancelledError
    from .session import account_tier, get_client

    cancelled = GenerationProgress.cancelled
    client = get_client()
    metered = effective_capability(request).opus_allowance_metered
    tier = account_tier(client, cancelled, metered=metered)
    # vibes_to_encode is left to the client: it knows which encodings its vibe store holds.
    estimate = client.estimate(request, tier=tier)
    spend_guard.check_spend(estimate, guard, tier)
    progress = GenerationProgress(
        steps=request.settings.steps or 1,
        samples=request.settings.n_samples,
        node_id=node_id,
        cost_text=spend_guard.describe(int(estimate.total)) + _encode_note(request, client),
    )
    progress.start()
    if cancelled():
        raise CancelledError("NovelAI: cancelled before sending")
    # The client encodes V4+ vibes (2 Anlas each) and re-checks the limit before paying.
    result = client.generate(
        request,
        stream=stream,
        on_preview=progress.on_preview if stream else None,
        cancel=cancelled,
        on_wait=progress.on_wait,
        max_anlas=spend_guard.LIMITS[guard],
    )
    progress.finish()
    return result


def _encode_note(request: Any, client: Any) -> str:
    """Progress-text note on V4+ vibes the store lacks: they are encoded now, 2 Anlas each."""
    from ...novelai_core.contract.cost import VIBE_ENCODE_COST
    from ...novelai_core.vibes.encoding import count_vibes_to_encode

    count = count_vibes_to_encode(request, client.vibe_store) if request.vibes else 0
    if not count:
        return ""
    return f", incl. {count} vibe encoding(s) at {VIBE_ENCODE_COST} Anlas, stored for next time"


def outputs(result: Any, seed: int, *, alpha: bool = True) -> tuple[Any, Any, int, str]:
    """IMAGE, MASK, seed and the first image's Comment JSON from a GenerationResult.

    ``alpha=False`` (an opaque generation) gives a zero MASK without reading the alpha: in an
    opaque NovelAI image it holds only the stealth metadata (alpha 254/255 in a few columns),
    which is not transparency.
    """
    from ...novelai_core.errors import DecodeError
    from . import originals
    from .tensors import pngs_to_tensors

    if not result.images:
        raise DecodeError("NovelAI returned no images")
    batch, mask = pngs_to_tensors([img.data for img in result.images], alpha=alpha)
    originals.remember(result.images)  # so Save NovelAI PNG can write the original bytes
    return batch, mask, seed, _comment(result.images[0])


def _comment(image: Any) -> str:
    from ...novelai_core.metadata.reader import read_text_chunks

    data = getattr(image, "data", None)
    if not isinstance(data, bytes | bytearray):
        return ""
    return read_text_chunks(bytes(data)).get("Comment", "")
