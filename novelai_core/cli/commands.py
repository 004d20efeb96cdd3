"""CLI commands ``balance`` (the account) and ``demo`` (the in-process simulator)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exits import EXIT_OK

if TYPE_CHECKING:
    from ..models.user import GenerationRequest

DEMO_ROOT = "novelai_demo"
DEMO_TOKEN = "sim-demo-token"  # the in-process simulator's own token, not a NovelAI one


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


def run_demo(args: argparse.Namespace) -> int:
    """Generate txt2img, characters and img2img images with the in-process simulator."""
    out_dir = Path(getattr(args, "out", None) or Path(DEMO_ROOT) / time.strftime("%Y%m%d-%H%M%S"))
    written: list[Path] = []
    with _demo_client() as client:
        ((stem, request),) = _demo_requests(None)
        first = client.generate(request, stream=True)  # the streaming path, previews unused
        written += first.save_all(out_dir, prefix=stem)
        for stem, request in _demo_requests(first.images[0].data):
            written += client.generate(request).save_all(out_dir, prefix=stem)
    sys.stdout.write(
        f"Wrote {len(written)} images to {out_dir} (offline simulator: no account, no Anlas):\n"
    )
    for path in written:
        sys.stdout.write(f"{path}\n")
    return EXIT_OK
