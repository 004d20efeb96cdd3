"""One run of the Generate node: local checks, spend guard, vibe encoding, streamed generate.

Kept apart from the node class so the widget schema and the run logic each stay readable.
"""

from __future__ import annotations

from typing import Any

from . import comfy_compat, spend_guard
from .progress import GenerationProgress


def vibes_to_encode(request: Any) -> int:
    """How many vibes still need /ai/encode-vibe (2 Anlas each) for this request's model."""
    from ..novelai_core.validation import effective_capability

    cap = effective_capability(request)
    if cap.vibe_mode != "encoded":
        return 0
    return sum(1 for vibe in request.vibes if not _has_encoding_for(vibe, cap.id))


def _has_encoding_for(vibe: Any, model: str) -> bool:
    return vibe.encoding is not None and vibe.encoding_model in (None, model)


def check_locally(request: Any) -> None:
    """validate_request, with vibes that will be encoded counted as encoded.

    The converter wants V4+ vibes encoded already; encoding costs Anlas, so it must come after
    the spend guard. A stand-in encoding lets every other rule be checked first.
    """
    from ..novelai_core.converter import validate_request
    from ..novelai_core.validation import effective_capability

    cap = effective_capability(request)
    if cap.vibe_mode == "encoded" and request.vibes:
        stand_ins = tuple(
            vibe
            if _has_encoding_for(vibe, cap.id)
            else vibe.model_copy(update={"encoding": b"pending", "encoding_model": cap.id})
            for vibe in request.vibes
        )
        request = request.model_copy(update={"vibes": stand_ins})
    validate_request(request)


def encode_vibes(client: Any, request: Any) -> Any:
    """The request with every V4+ vibe encoded for its model (the client pays 2 Anlas each)."""
    from ..novelai_core.validation import effective_capability

    cap = effective_capability(request)
    if cap.vibe_mode != "encoded" or not request.vibes:
        return request
    encoded = []
    for vibe in request.vibes:
        if _has_encoding_for(vibe, cap.id):
            encoded.append(vibe)
            continue
        data = client.encode_vibe(
            vibe.image, model=cap.id, information_extracted=vibe.information_extracted
        )
        encoded.append(vibe.model_copy(update={"encoding": data, "encoding_model": cap.id}))
    return request.model_copy(update={"vibes": tuple(encoded)})


def run_generation(
    request: Any, *, guard: str, stream: bool, node_id: str | None
) -> tuple[Any, Any, int, str]:
    """Everything after the request is built; returns the node's four outputs."""
    from ..novelai_core.errors import CancelledError
    from .session import get_client

    check_locally(request)
    client = get_client()
    tier = client.subscription().tier
    estimate = client.estimate(request, tier=tier, vibes_to_encode=vibes_to_encode(request))
    spend_guard.check_spend(estimate, guard, tier)

    settings = request.settings
    progress = GenerationProgress(
        steps=settings.steps or 1,
        samples=settings.n_samples,
        node_id=node_id,
        cost_text=spend_guard.describe(int(estimate.total)),
    )
    progress.start()
    try:
        if GenerationProgress.cancelled():
            raise CancelledError("NovelAI: cancelled before sending")
        request = encode_vibes(client, request)
        result = client.generate(
            request,
            stream=stream,
            on_preview=progress.on_preview if stream else None,
            cancel=GenerationProgress.cancelled,
            on_wait=progress.on_wait,
        )
    except CancelledError as exc:
        comfy_compat.raise_interrupted(exc)
    progress.finish()
    return outputs(result, settings.seed)


def outputs(result: Any, seed: int) -> tuple[Any, Any, int, str]:
    """IMAGE, MASK, seed and the first image's Comment JSON from a GenerationResult."""
    from ..novelai_core.errors import DecodeError
    from .tensors import decode_image, images_to_tensors

    if not result.images:
        raise DecodeError("NovelAI returned no images")
    pil_images = [
        img.image if getattr(img, "image", None) is not None else decode_image(img.png)
        for img in result.images
    ]
    batch, mask = images_to_tensors(pil_images)
    return batch, mask, seed, _comment(result.images[0])


def _comment(image: Any) -> str:
    from ..novelai_core.metadata import read_text_chunks

    data = getattr(image, "png", None)
    if not isinstance(data, bytes | bytearray):
        return ""
    return read_text_chunks(bytes(data)).get("Comment", "")
