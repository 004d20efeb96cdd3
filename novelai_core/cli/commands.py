"""CLI commands that talk to NovelAI (or the simulator): generate, balance, demo.

``cli.py`` wires them: ``add_generate_options(generate_parser)`` adds --out/--base-url/--stream,
``add_client_commands(subparsers)`` adds ``balance`` and ``demo``; each handler takes the parsed
arguments and returns the exit code (0 ok, 1 NovelAI/network failure, 2 bad input), printing one
readable line on stderr on failure, never a traceback or the token.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from ..contract.validation import effective_capability, resolved_steps
from ..converter.generation import validate_request
from ..errors import InputError, NovelAIError, SpendLimitError
from ..results import GenerationResult, Preview, StepCounter

if TYPE_CHECKING:
    from ..client import NovelAIClient
    from ..models.user import GenerationRequest

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130
DEMO_ROOT = "novelai_demo"
DEMO_TOKEN = "sim-demo-token"  # the in-process simulator's own token, not a NovelAI one


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


def add_client_commands(subparsers: Any) -> None:
    """Add ``balance`` and ``demo`` to the CLI's subparsers (each sets ``handler``)."""
    balance = subparsers.add_parser("balance", help="print the account's tier and Anlas")
    balance.add_argument("--base-url", help="image host (default $NAI_IMAGE_BASE_URL or NovelAI)")
    balance.set_defaults(handler=run_balance)
    demo = subparsers.add_parser(
        "demo", help="generate sample images with the offline simulator (no account needed)"
    )
    demo.add_argument("--out", type=Path, help=f"folder (default ./{DEMO_ROOT}/<timestamp>)")
    demo.set_defaults(handler=run_demo)


def one_line(exc: BaseException) -> str:
    """An exception as one readable line (pydantic errors: field and message)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return " ".join(str(exc).split())


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Exit codes and one-line errors instead of tracebacks (NovelAI texts carry no token)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (InputError, ValidationError) as exc:
            return _fail(f"error: {one_line(exc)}", EXIT_INPUT)
        except NovelAIError as exc:
            return _fail(f"error: {one_line(exc)}", EXIT_FAILURE)
        except OSError as exc:  # reading a source image, writing the output folder
            return _fail(f"error: {one_line(exc)}", EXIT_INPUT)
        except ImportError as exc:  # an optional dependency (numpy, msgpack...) is missing
            return _fail(f"error: {one_line(exc)}", EXIT_FAILURE)
        except KeyboardInterrupt:
            return _fail("cancelled", EXIT_INTERRUPTED)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _fail(line: str, code: int) -> int:
    sys.stderr.write(line + "\n")
    return code


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
        self.out.write(f"\rNovelAI: {reason}; retry {attempt} in {delay:.0f} s\n")

    def end(self) -> None:
        if self.live and self.counter.done:
            self.out.write("\n")


def _free_path(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``… when it exists: never overwrite an image."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def write_images(result: GenerationResult, out_dir: Path, prefix: str | None = None) -> list[Path]:
    """Write each image's original bytes (metadata intact) as <prefix>_<seed>_<i>.<ext>;
    the prefix defaults to a timestamp."""
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = prefix or time.strftime("%Y%m%d-%H%M%S")
    paths = []
    for image in result.images:
        ext = image.format if image.format in ("png", "webp", "jpeg") else "png"
        seed = image.seed if image.seed is not None else "noseed"
        path = _free_path(out_dir / f"{prefix}_{seed}_{image.index}.{ext}")
        path.write_bytes(image.png)
        paths.append(path)
    return paths


@_guarded
def run_generate(args: argparse.Namespace) -> int:
    """Send the request built from the ``generate`` options; print one path per image."""
    from ..client import NovelAIClient  # noqa: PLC0415 - keep `--help` fast
    from .parser import build_request_from_args  # noqa: PLC0415 - cli imports this module

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
    for path in write_images(result, Path(getattr(args, "out", None) or ".")):
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


@_guarded
def run_balance(args: argparse.Namespace) -> int:
    """Print the tier and the Anlas balance (and which token was used, masked)."""
    from ..client import NovelAIClient  # noqa: PLC0415

    with NovelAIClient(base_url=getattr(args, "base_url", None)) as client:
        info = client.subscription()
        sys.stdout.write(
            f"tier: {info.tier_name}{'' if info.active else ' (inactive)'}\n"
            f"anlas: {info.anlas} ({info.fixed_anlas} subscription + {info.purchased_anlas} "
            "purchased)\n"
            f"token: {client.masked_token} ({client.token_source})\n"
        )
    return EXIT_OK


@contextmanager
def _demo_client() -> Iterator[Any]:
    from ..client import NovelAIClient  # noqa: PLC0415
    from ..simulator import run_simulator  # noqa: PLC0415

    with (
        run_simulator(token=DEMO_TOKEN, anlas=10_000, tier=3) as sim,
        NovelAIClient(DEMO_TOKEN, base_url=sim.url) as client,
    ):
        yield client


def _demo_requests(source: bytes | None) -> list[tuple[str, GenerationRequest]]:
    """The demo's requests; ``source`` (the first image) feeds the img2img ones."""
    from ..models.user import (  # noqa: PLC0415
        Character,
        GenerationRequest,
        GenerationSettings,
        Img2ImgSource,
        Prompt,
    )

    portrait = GenerationSettings(width=832, height=1216, steps=23, seed=42)
    if source is None:
        return [
            (
                "01_txt2img_v4.5",
                GenerationRequest(
                    model="nai-diffusion-4-5-full",
                    prompt=Prompt(text="1girl, silver hair, night city, neon lights"),
                    settings=portrait,
                ),
            )
        ]
    img2img = Img2ImgSource(image=source, strength=0.6)
    return [
        (
            "02_characters_v4.5",
            GenerationRequest(
                model="nai-diffusion-4-5-full",
                prompt=Prompt(text="2girls, cafe, afternoon"),
                settings=GenerationSettings(width=1216, height=832, steps=23, seed=7),
                characters=(
                    Character(prompt="girl, red hair, smile", position="B3"),
                    Character(prompt="girl, blue hair, reading a book", position="D3"),
                ),
            ),
        ),
        (
            "03_img2img_v4.5",
            GenerationRequest(
                model="nai-diffusion-4-5-full",
                prompt=Prompt(text="1girl, silver hair, night city, rain"),
                settings=portrait.model_copy(update={"seed": 43}),
                source=img2img,
            ),
        ),
        (
            "04_img2img_v5",  # V5 img2img goes as multipart/form-data
            GenerationRequest(
                model="nai-diffusion-5-full",
                prompt=Prompt(text="1girl, silver hair, night city, snow"),
                settings=portrait.model_copy(update={"seed": 44}),
                source=img2img,
            ),
        ),
    ]


@_guarded
def run_demo(args: argparse.Namespace) -> int:
    """Generate txt2img, characters and img2img images with the in-process simulator."""
    out_dir = Path(getattr(args, "out", None) or Path(DEMO_ROOT) / time.strftime("%Y%m%d-%H%M%S"))
    written: list[Path] = []
    with _demo_client() as client:
        ((stem, request),) = _demo_requests(None)
        first = client.generate(request, stream=True)  # the streaming path, previews unused
        written += write_images(first, out_dir, prefix=stem)
        for stem, request in _demo_requests(first.images[0].png):
            written += write_images(client.generate(request), out_dir, prefix=stem)
    sys.stdout.write(
        f"Wrote {len(written)} images to {out_dir} (offline simulator: no account, no Anlas):\n"
    )
    for path in written:
        sys.stdout.write(f"{path}\n")
    return EXIT_OK
