"""``generate``: its options, the GenerationRequest they make, the dry run, and sending it.

Handlers take the parsed arguments and return the exit code; failures are raised and turned into
one stderr line and an exit code by the one policy in ``exits``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from ..contract.capabilities import DEFAULT_MODEL
from ..contract.constants import REFERENCE_MODES
from ..contract.validation import effective_capability, resolved_steps
from ..converter.generation import (
    build_generate_request,
    estimate_cost,
    resolve_seed,
    validate_request,
)
from ..errors import InputError, SpendLimitError
from ..models.user import (
    Character,
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Position,
    Prompt,
    Vibe,
)
from ..results import Preview, StepCounter
from ..vibes.file_format import load_vibe_file, to_vibe
from .exits import EXIT_OK, one_line

if TYPE_CHECKING:
    from ..client import NovelAIClient

_AI_CHOICE_WORDS = ("ai", "auto", "none")


def parse_position(text: str) -> Position:
    """``A1``..``E5``, ``x,y`` (0..1) or ``ai`` (AI's choice)."""
    value = text.strip()
    if value.lower() in _AI_CHOICE_WORDS:
        return None
    if "," in value:
        try:
            x, y = (float(part) for part in value.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"position {text!r} is not x,y") from None
        return (x, y)
    return value.upper()


class _AmendLastAction(argparse.Action):
    """The start option appends an item to the list ``items``; the other options (``keys``:
    their dest → the item's key) amend the last item."""

    items: ClassVar[str] = ""
    starter: ClassVar[str] = ""  # the option that starts an item, for the error message
    keys: ClassVar[dict[str, str]] = {}

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        items: list[dict[str, Any]] = list(getattr(namespace, self.items, None) or [])
        if self.dest == self.items:
            items.append({self.keys[self.dest]: values})
        elif not items:
            parser.error(f"{option_string} must follow a {self.starter}")
        else:
            items[-1][self.keys[self.dest]] = values
        setattr(namespace, self.items, items)


class _CharacterAction(_AmendLastAction):
    """``--character TEXT`` starts a character; ``--at`` / ``--character-uc`` amend the last."""

    items, starter = "characters", "--character"
    keys: ClassVar[dict[str, str]] = {
        "characters": "prompt",
        "at": "position",
        "character_uc": "uc",
    }


class _ReferenceAction(_AmendLastAction):
    """``--reference IMAGE`` starts a reference; ``--reference-*`` options amend the last."""

    items, starter = "references", "--reference"
    keys: ClassVar[dict[str, str]] = {
        "references": "image",
        "reference_type": "mode",
        **{f"reference_{key}": key for key in ("strength", "fidelity")},
    }


def _split_numbers(spec: str, count: int) -> tuple[str, list[float]]:
    """``FILE:1:2`` → (FILE, [1.0, 2.0]): up to ``count`` trailing numbers; a colon that is not
    followed by a number stays in the file name (``C:\\vibes\\a.png``)."""
    path, numbers = spec, list[float]()
    while len(numbers) < count and ":" in path:
        head, _, tail = path.rpartition(":")
        try:
            value = float(tail)
        except ValueError:
            break
        numbers.insert(0, value)
        path = head
    return path, numbers


def parse_vibe(spec: str, model: str) -> Vibe:
    """A vibe from ``FILE[:strength[:information_extracted]]`` (image or .naiv4vibe file)."""
    path, numbers = _split_numbers(spec, 2)
    strength = numbers[0] if numbers else None
    info = numbers[1] if len(numbers) > 1 else None
    if path.lower().endswith((".naiv4vibe", ".naiv4vibebundle")):
        files = load_vibe_file(path)
        if len(files) != 1:
            raise InputError(f"--vibe {path}: the bundle holds {len(files)} vibes; pass one file")
        return to_vibe(files[0], model=model, information_extracted=info, strength=strength)
    extra: dict[str, float] = {}
    if strength is not None:
        extra["strength"] = strength
    if info is not None:
        extra["information_extracted"] = info
    return Vibe(image=Path(path).read_bytes(), **extra)


def _references(args: argparse.Namespace) -> tuple[CharacterReference, ...]:
    refs = getattr(args, "references", None) or []
    return tuple(
        CharacterReference(image=ref.pop("image").read_bytes(), **ref) for ref in map(dict, refs)
    )


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``generate``: prompt, settings, characters, img2img/inpaint sources."""
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--prompt", help="the prompt (NovelAI syntax); required without --from")
    parser.add_argument(
        "--from", dest="from_image", type=Path, metavar="IMAGE",
        help="rebuild the generation a NovelAI PNG/WebP/JPEG records (its seed included); "
        "give again what metadata cannot hold: --image/--mask, one --vibe or --reference per "
        "recorded one (their recorded settings apply); other options are ignored",
    )  # fmt: skip
    parser.add_argument("--negative", default="", help="undesired content, added to the UC preset")
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=1216)
    parser.add_argument("--steps", type=int, help="default: the model's")
    parser.add_argument("--scale", type=float, help="prompt guidance; default: the model's")
    parser.add_argument("--cfg-rescale", type=float, default=0.0)
    parser.add_argument("--sampler", help="default: the model's")
    parser.add_argument("--noise-schedule", help="default: the model's")
    parser.add_argument("--seed", type=int, help="default: random")
    parser.add_argument("--samples", type=int, default=1, help="images per request")
    chars = parser.add_argument_group("characters (V4+; repeat --character, then its options)")
    chars.add_argument("--character", dest="characters", action=_CharacterAction, metavar="TEXT")
    chars.add_argument(
        "--at",
        action=_CharacterAction,
        type=parse_position,
        metavar="POS",
        help="A1..E5, x,y or ai",
    )
    chars.add_argument("--character-uc", action=_CharacterAction, metavar="TEXT")
    parser.add_argument("--no-quality", action="store_true", help="leave out the quality tags")
    parser.add_argument("--quality-preset", help="quality preset name (V5: standard, light)")
    parser.add_argument(
        "--uc-preset",
        default="heavy",
        help="heavy, light, humanFocus, furryFocus, none (old names human, furry accepted)",
    )
    parser.add_argument(
        "--transparent-background",
        action="store_true",
        help="V5: transparent background (the prompt tag the web app adds, plus its flags)",
    )
    parser.add_argument("--variety", action="store_true", help="Variety+")
    parser.add_argument("--smea", action="store_true", help="SMEA (V3)")
    parser.add_argument("--smea-dyn", action="store_true", help="SMEA DYN (V3, with --smea)")
    parser.add_argument("--decrisper", action="store_true", help="Decrisper (V3)")
    parser.add_argument("--format", dest="image_format", choices=("png", "webp"), default="png")
    source = parser.add_argument_group("img2img / inpaint")
    source.add_argument("--image", type=Path, help="source image: img2img, or inpaint with --mask")
    source.add_argument("--mask", type=Path, help="inpaint mask (white = repaint)")
    source.add_argument("--strength", type=float, help="img2img/inpaint strength (default 0.7)")
    source.add_argument("--noise", type=float, help="img2img/inpaint noise (default 0)")
    refs = parser.add_argument_group("vibes and character reference")
    refs.add_argument(
        "--vibe",
        dest="vibes",
        action="append",
        default=[],
        metavar="FILE[:STRENGTH[:INFO]]",
        help="vibe transfer: an image or a .naiv4vibe(bundle); strength (default 0.6, or the "
        "file's) and information extracted (default 1, or the file's). V4+ images are encoded "
        "when sending (2 Anlas each, stored)",
    )
    refs.add_argument(
        "--reference",
        dest="references",
        action=_ReferenceAction,
        type=Path,
        metavar="IMAGE",
        help="character reference (V4.5): the image; amend with the options below",
    )
    refs.add_argument(
        "--reference-type",
        dest="reference_type",
        action=_ReferenceAction,
        choices=REFERENCE_MODES,
        help="what the last --reference carries (default character&style)",
    )
    refs.add_argument(
        "--reference-strength", dest="reference_strength", action=_ReferenceAction, type=float
    )
    refs.add_argument(
        "--reference-fidelity",
        dest="reference_fidelity",
        action=_ReferenceAction,
        type=float,
        help="fidelity 0-1 of the last --reference (default 1)",
    )
    parser.add_argument("--tier", type=int, choices=(0, 1, 2, 3), help="estimate for this tier")
    parser.add_argument("--dry-run", action="store_true", help="print the request, send nothing")


def _source(args: argparse.Namespace) -> Img2ImgSource | InpaintSource | None:
    if args.mask is not None and args.image is None:
        raise InputError("--mask needs --image")
    if args.image is None:
        return None
    extra: dict[str, float] = {}
    if args.strength is not None:
        extra["strength"] = args.strength
    if args.noise is not None:
        extra["noise"] = args.noise
    image = args.image.read_bytes()
    if args.mask is not None:
        return InpaintSource(image=image, mask=args.mask.read_bytes(), **extra)
    return Img2ImgSource(image=image, **extra)


def _request_from_image(args: argparse.Namespace) -> GenerationRequest:
    """The request a NovelAI image's metadata records (the Load NovelAI PNG node's rebuild)."""
    from PIL import Image  # noqa: PLC0415

    from ..errors import DecodeError  # noqa: PLC0415
    from ..metadata.params import generation_parameters  # noqa: PLC0415
    from ..metadata.reader import read_metadata  # noqa: PLC0415
    from ..metadata.rebuild import rebuild_request  # noqa: PLC0415

    path: Path = args.from_image
    data = path.read_bytes()
    try:
        meta = read_metadata(data)
        if meta is None:
            raise InputError(f"--from {path.name}: no NovelAI metadata to rebuild from")
        params = generation_parameters(meta, Image.open(io.BytesIO(data)))
    except (DecodeError, OSError) as exc:
        raise InputError(f"--from {path.name}: {one_line(exc)}") from None
    if params.not_recorded:
        sys.stderr.write(f"note: not in the metadata: {'; '.join(params.not_recorded)}\n")
    model = params.model or args.model
    return rebuild_request(
        params,
        image=args.image.read_bytes() if args.image is not None else None,
        mask=args.mask.read_bytes() if args.mask is not None else None,
        vibes=[parse_vibe(spec, model) for spec in getattr(args, "vibes", None) or ()],
        reference_images=[ref.image for ref in _references(args)],
    )


def build_request_from_args(args: argparse.Namespace) -> GenerationRequest:
    """A GenerationRequest from parsed ``generate`` arguments (seed left None unless given).

    Raises pydantic's ValidationError or OSError for bad values/files; ``main`` reports both.
    """
    if getattr(args, "from_image", None) is not None:
        return _request_from_image(args)
    if args.prompt is None:
        raise InputError("--prompt is required (or --from IMAGE to rebuild a NovelAI image)")
    prompt = Prompt(
        text=args.prompt,
        negative=args.negative,
        quality=not args.no_quality,
        quality_preset=args.quality_preset,
        uc_preset=args.uc_preset,
    )
    settings = GenerationSettings(
        width=args.width,
        height=args.height,
        steps=args.steps,
        scale=args.scale,
        sampler=args.sampler,
        noise_schedule=args.noise_schedule,
        cfg_rescale=args.cfg_rescale,
        seed=args.seed,
        n_samples=args.samples,
        smea=args.smea,
        smea_dyn=args.smea_dyn,
        decrisper=args.decrisper,
        variety=args.variety,
        transparent_background=args.transparent_background or None,
        image_format=args.image_format,
    )
    characters = tuple(Character(**c) for c in (getattr(args, "characters", None) or []))
    return GenerationRequest(
        model=args.model,
        prompt=prompt,
        settings=settings,
        characters=characters,
        source=_source(args),
        vibes=tuple(parse_vibe(spec, args.model) for spec in args.vibes),
        character_references=_references(args),
    )


def dry_run_output(request: GenerationRequest, *, tier: int | None = None) -> dict[str, Any]:
    """The dry-run JSON: endpoint, exact body (images inline in base64), Anlas estimate."""
    built = build_generate_request(request)
    estimate = estimate_cost(request, tier=tier)
    out: dict[str, Any] = {
        "endpoint": built.endpoint,
        "request": built.body,
        "anlas": {"estimate": estimate.total, "free_for_opus": estimate.free_for_opus},
    }
    if estimate.note:  # e.g. Opus' V5 allowance is unknown without the account
        out["anlas"]["note"] = estimate.note
    return out


def run_generate_or_dry_run(args: argparse.Namespace) -> int:
    if not args.dry_run:
        return run_generate(args)
    request = resolve_seed(build_request_from_args(args))
    print(json.dumps(dry_run_output(request, tier=args.tier), ensure_ascii=False))
    return 0


def add_generate_options(parser: argparse.ArgumentParser) -> None:
    """Options ``generate`` needs to send: output folder, host override, streaming."""
    parser.add_argument("--out", type=Path, default=Path(), help="folder for the PNGs (default .)")
    parser.add_argument("--base-url", help="image host (default $NAI_IMAGE_BASE_URL or NovelAI)")
    parser.add_argument(
        "--stream", action="store_true", help="stream: show step progress on stderr"
    )
    parser.add_argument(
        "--max-anlas",
        type=int,
        metavar="N",
        help="refuse, before sending, when the estimate for the account's tier is above N "
        "(default: no limit; the estimate is always printed on stderr first)",
    )


class _Progress:
    """Step progress on stderr: a redrawn line on a terminal, else a line per quarter."""

    def __init__(self, counter: StepCounter, out: TextIO) -> None:
        self.counter = counter
        self.out = out
        self.live = out.isatty()
        self.quarter = 0

    def preview(self, event: Preview) -> None:
        done, total = self.counter.see(event.sample, event.step), self.counter.total
        if self.live:
            self.out.write(f"\rNovelAI: step {done}/{total}")
            self.out.flush()
        elif done * 4 // total > self.quarter:
            self.quarter = done * 4 // total
            self.out.write(f"NovelAI: step {done}/{total}\n")

    def wait(self, attempt: int, delay: float, reason: str) -> None:
        self.out.write(f"\rNovelAI: waiting ({reason}); retry {attempt} in {delay:.0f} s\n")

    def end(self) -> None:
        if self.live and self.counter.done:
            self.out.write("\n")


def run_generate(args: argparse.Namespace) -> int:
    """Send the request built from the ``generate`` options; print one path per image."""
    from ..client import NovelAIClient  # noqa: PLC0415 - keep `--help` fast

    request = build_request_from_args(args)
    validate_request(request)  # bad input fails before the account lookup
    steps = resolved_steps(request, effective_capability(request))
    progress = _Progress(StepCounter(steps, request.settings.n_samples), sys.stderr)
    max_anlas: int | None = getattr(args, "max_anlas", None)
    with NovelAIClient(base_url=getattr(args, "base_url", None)) as client:
        _check_estimate(client, request, max_anlas)
        result = client.generate(
            request,
            stream=bool(getattr(args, "stream", False)),
            on_preview=progress.preview,
            on_wait=progress.wait,
            max_anlas=max_anlas,
        )
    progress.end()
    for path in result.save_all(Path(getattr(args, "out", None) or ".")):
        sys.stdout.write(f"{path}\n")
    return EXIT_OK


def _check_estimate(client: NovelAIClient, request: GenerationRequest, limit: int | None) -> None:
    """Print the estimate for the account's tier; SpendLimitError (nothing sent) above ``limit``."""
    account = client.subscription()  # tier and V5 allowance; the estimate reuses them
    estimate = client.estimate(request)
    note = f"; {estimate.note}" if estimate.note else ""
    sys.stderr.write(
        f"NovelAI: estimated cost {estimate.total} Anlas ({account.tier_name}){note}\n"
    )
    if limit is not None and estimate.total > limit:
        raise SpendLimitError(
            f"NovelAI: the estimate of {estimate.total} Anlas is above --max-anlas {limit}; "
            "nothing was sent."
        )
