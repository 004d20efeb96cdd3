"""One run of the Generate node: local checks, then the paid-run flow with a GenerationJob.

Kept apart from the node class so the widget schema and the run logic each stay readable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from . import result_store, spend_guard
from .progress import GenerationProgress


def check_locally(request: Any) -> None:
    """validate_request, with vibes the client will encode counted as encoded.

    The converter wants V4+ vibes encoded already; encoding costs Anlas, so the client does it
    only after the spend guard. A stand-in encoding lets every other rule be checked first, so
    a mistake is reported before any network call.
    """
    from ...novelai_core.errors import InputError
    from ...novelai_core.vibes.encoding import validate_with_pending_vibes
    from .wording import reword

    try:
        validate_with_pending_vibes(request)
    except InputError as exc:
        reword(exc)
        raise


def run_generation(
    request: Any, *, guard: str, stream: bool, node_id: str | None
) -> tuple[Any, Any, int, str]:
    """Everything after the request is built; returns the node's four outputs."""
    from .paid_run import run_paid

    result = run_paid(GenerationJob(request, stream), guard=guard, node_id=node_id)
    settings = result.request.settings if result.request is not None else request.settings
    return outputs(result, settings.seed, alpha=bool(settings.transparent_background))


@dataclass(frozen=True)
class GenerationJob:
    """A generate request as the paid-run flow (paid_run.PaidJob) needs it."""

    request: Any
    stream: bool
    what: str = spend_guard.GENERATION

    @property
    def steps(self) -> int:
        return int(self.request.settings.steps or 1)

    @property
    def samples(self) -> int:
        return int(self.request.settings.n_samples)

    @property
    def metered(self) -> bool:
        from ...novelai_core.contract.validation import effective_capability

        return bool(effective_capability(self.request).opus_allowance_metered)

    def check(self) -> None:
        check_locally(self.request)

    def key(self, client: Any) -> bytes | None:
        """The body the client would send: vibes from the store, the stream format it picks.

        None while a vibe still needs a (paid) encoding: such a body was not sent before.
        """
        from ...novelai_core.converter.generation import build_generate_request
        from ...novelai_core.transport.events import choose_stream_format
        from ...novelai_core.vibes.encoding import count_vibes_to_encode, encode_missing_vibes

        if self.request.settings.seed is None or count_vibes_to_encode(
            self.request, client.vibe_store
        ):
            return None
        filled = encode_missing_vibes(self.request, client.vibe_store, _never_encode)
        built = build_generate_request(filled, stream=choose_stream_format(self.stream))
        return result_store.request_key(client.base_url, built.endpoint, built.body)

    def estimate(self, client: Any, tier: int) -> Any:
        # vibes_to_encode is left to the client: it knows which encodings its vibe store holds.
        return client.estimate(self.request, tier=tier)

    def note(self, client: Any) -> str:
        return _encode_note(self.request, client)

    def fit_to_free(self, tier: int) -> tuple[GenerationJob, str] | None:
        """Opus' free image: at most 1024×1024 px (aspect kept, sides on the 64 grid), 28 steps,
        one sample. None off Opus or when nothing would change."""
        from ...novelai_core.contract.constants import OPUS_TIER

        if tier != OPUS_TIER:
            return None
        smaller, reduced = fit_request_to_free(self.request)
        if not reduced:
            return None
        return replace(self, request=smaller), reduced

    def send(self, client: Any, progress: GenerationProgress, max_anlas: int | None) -> Any:
        # The client encodes V4+ vibes (2 Anlas each) and re-checks the limit before paying.
        return client.generate(
            self.request,
            stream=self.stream,
            on_preview=progress.on_preview if self.stream else None,
            cancel=GenerationProgress.cancelled,
            on_wait=progress.on_wait,
            max_anlas=max_anlas,
        )


def fit_request_to_free(request: Any) -> tuple[Any, str]:
    """``request`` within Opus' free rule and what was reduced ("" when it already was)."""
    from ...novelai_core.contract.constants import SIZE_STEP
    from ...novelai_core.contract.cost import OPUS_FREE_PIXELS, OPUS_FREE_STEPS
    from ..source import fit_source

    settings = request.settings
    width, height, steps = settings.width, settings.height, settings.steps
    reduced: list[str] = []
    if width * height > OPUS_FREE_PIXELS:
        scale = math.sqrt(OPUS_FREE_PIXELS / (width * height))
        new_w = max(SIZE_STEP, int(width * scale) // SIZE_STEP * SIZE_STEP)
        new_h = max(SIZE_STEP, int(height * scale) // SIZE_STEP * SIZE_STEP)
        reduced.append(f"{width}×{height} → {new_w}×{new_h}")
        width, height = new_w, new_h
    if steps is not None and steps > OPUS_FREE_STEPS:
        reduced.append(f"steps {steps} → {OPUS_FREE_STEPS}")
        steps = OPUS_FREE_STEPS
    if settings.n_samples > 1:
        reduced.append(f"samples {settings.n_samples} → 1")
    if not reduced:
        return request, ""
    update = {"width": width, "height": height, "steps": steps, "n_samples": 1}
    fields: dict[str, Any] = {"settings": settings.model_copy(update=update)}
    if request.source is not None and (width, height) != (settings.width, settings.height):
        fields["source"] = fit_source(request.source, width, height)
    return request.model_copy(update=fields), ", ".join(reduced)


def _encode_note(request: Any, client: Any) -> str:
    """Cost-text note on V4+ vibes the store lacks: they are encoded now, 2 Anlas each."""
    from ...novelai_core.contract.cost import VIBE_ENCODE_COST
    from ...novelai_core.vibes.encoding import count_vibes_to_encode

    count = count_vibes_to_encode(request, client.vibe_store) if request.vibes else 0
    if not count:
        return ""
    encodings = "1 vibe encoding" if count == 1 else f"{count} vibe encodings"
    return f", incl. {encodings} at {VIBE_ENCODE_COST} Anlas each, stored for next time"


def _never_encode(png: bytes, model: str, information_extracted: float) -> bytes:
    """Encoder for the result-store key: the key is taken only when every vibe is stored."""
    raise AssertionError("a vibe the store lacks has no result-store key")


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
