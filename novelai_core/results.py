"""What the client returns: images (original bytes, lazy PIL/metadata), stream events, account."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .contract.constants import TIER_NAMES
from .contract.cost import CostEstimate

if TYPE_CHECKING:  # PIL and the metadata reader are imported on first use: import time matters
    from PIL import Image

    from .metadata.reader import NovelAIMetadata
    from .models.user import GenerationRequest
    from .models.wire import SubscriptionResponse


@dataclass(frozen=True)
class GeneratedImage:
    """One image as NovelAI sent it. ``data`` holds the original bytes (PNG, or WebP when asked
    for), metadata intact.

    ``image`` (PIL) and ``metadata`` are decoded on first access and then kept.
    """

    index: int
    data: bytes = field(repr=False)
    seed: int | None = None
    name: str = ""

    @property
    def png(self) -> bytes:
        """The original bytes: the earlier name of ``data`` (which may hold WebP)."""
        return self.data

    @property
    def format(self) -> Literal["png", "webp", "jpeg", "unknown"]:
        head = self.data[:12]
        if head.startswith(b"\x89PNG"):
            return "png"
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return "webp"
        if head.startswith(b"\xff\xd8"):
            return "jpeg"
        return "unknown"

    @cached_property
    def image(self) -> Image.Image:
        """The decoded image (RGBA stays RGBA; ``load()`` done so the bytes are not re-read)."""
        from PIL import Image  # noqa: PLC0415

        from .errors import DecodeError  # noqa: PLC0415

        try:
            decoded = Image.open(io.BytesIO(self.data))
            decoded.load()
        except (OSError, ValueError, SyntaxError) as exc:
            raise DecodeError(f"NovelAI sent image {self.index} in a form PIL cannot read") from exc
        return decoded

    @cached_property
    def metadata(self) -> NovelAIMetadata | None:
        """NovelAI's parameters from the PNG text chunks (or stealth alpha); None if absent."""
        from .metadata.reader import read_metadata  # noqa: PLC0415

        return read_metadata(self.data)

    def save(self, path: str) -> None:
        """Write the original bytes (not a re-encode, so the metadata survives)."""
        with open(path, "wb") as out:  # noqa: PTH123 - str or PathLike both welcome
            out.write(self.data)


@dataclass(frozen=True, kw_only=True)
class GenerationResult:
    """The images of one generate call, in sample order (image i used seed + i)."""

    images: tuple[GeneratedImage, ...]
    seed: int | None
    request: GenerationRequest | None = field(default=None, repr=False)
    estimate: CostEstimate | None = None
    correlation_id: str | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def pngs(self) -> tuple[bytes, ...]:
        return tuple(image.data for image in self.images)

    def save_all(self, folder: Path, prefix: str | None = None) -> list[Path]:
        """Write each image's original bytes (metadata intact) as ``<prefix>_<seed>_<i>.<ext>``
        in ``folder`` (made if missing), never overwriting a file; the prefix defaults to a
        timestamp. Returns the paths written."""
        folder.mkdir(parents=True, exist_ok=True)
        prefix = prefix or time.strftime("%Y%m%d-%H%M%S")
        paths = []
        for image in self.images:
            ext = image.format if image.format in ("png", "webp", "jpeg") else "png"
            seed = image.seed if image.seed is not None else "noseed"
            path = _free_path(folder / f"{prefix}_{seed}_{image.index}.{ext}")
            path.write_bytes(image.data)
            paths.append(path)
        return paths


def _free_path(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``… when it exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


@dataclass(frozen=True)
class Preview:
    """An intermediate step of one sample (a small JPEG)."""

    sample: int
    step: int
    sigma: float | None
    jpeg: bytes = field(repr=False)
    gen_id: str | None = None


@dataclass(frozen=True)
class FinalImage:
    """A finished sample from a stream (the image NovelAI would put in the ZIP)."""

    sample: int
    data: bytes = field(repr=False)
    seed: int | None = None
    gen_id: str | None = None

    @property
    def png(self) -> bytes:
        """The image's bytes: the earlier name of ``data`` (which may hold WebP)."""
        return self.data

    def as_generated(self) -> GeneratedImage:
        return GeneratedImage(self.sample, self.data, self.seed, f"image_{self.sample}.png")


StreamEvent = Preview | FinalImage


class StepCounter:
    """Steps done in a streamed generation, for progress displays (the CLI's, the nodes').

    Samples stream interleaved and a step may repeat or arrive late, so the count is the sum over
    samples of the highest step seen, each capped at ``steps``, the whole at ``total``.
    """

    def __init__(self, steps: int, samples: int) -> None:
        self.steps = max(0, steps)
        self.total = max(1, self.steps * samples)
        self._highest: dict[int, int] = {}

    def see(self, sample: int, step: int) -> int:
        """Count a preview of ``step`` (0-based) of ``sample``; returns the steps done."""
        done = min(step + 1, self.steps)
        self._highest[sample] = max(self._highest.get(sample, 0), done)
        return self.done

    @property
    def done(self) -> int:
        return min(self.total, sum(self._highest.values()))


@dataclass(frozen=True)
class Subscription:
    """The account as /user/subscription reports it. Anlas = fixed + purchased."""

    tier: int
    active: bool
    anlas: int
    fixed_anlas: int
    purchased_anlas: int
    v5_usage_percent: float | None = None
    usage_is_negative: bool | None = None
    expires_at: int | None = None

    @property
    def tier_name(self) -> str:
        return TIER_NAMES.get(self.tier, f"tier {self.tier}")

    @classmethod
    def from_wire(cls, wire: SubscriptionResponse) -> Subscription:
        steps = wire.training_steps_left
        usage = wire.usage
        return cls(
            tier=wire.tier,
            active=wire.active,
            anlas=wire.anlas,
            fixed_anlas=steps.fixed_training_steps_left,
            purchased_anlas=steps.purchased_training_steps,
            v5_usage_percent=usage.percent if usage is not None else None,
            usage_is_negative=usage.is_negative if usage is not None else None,
            expires_at=wire.expires_at,
        )


@dataclass(frozen=True)
class TagSuggestion:
    """One suggest-tags entry."""

    tag: str
    count: int
    confidence: float
