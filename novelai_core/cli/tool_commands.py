"""CLI commands for the tools: metadata, augment (Director tools), upscale, prompt convert/tokens.

``add_tool_commands(subparsers)`` adds them to ``python -m novelai_core``. Errors are one line on
stderr with a non-zero exit (2 bad input, 1 NovelAI/network), never a traceback or the token —
the same guard the other client commands use.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

from ..contract.capabilities import DEFAULT_MODEL
from ..contract.constants import AUGMENT_TOOLS, EMOTIONS
from ..errors import InputError, SpendLimitError
from .exits import EXIT_OK, one_line

_BASE_URL_HELP = "image host (default $NAI_IMAGE_BASE_URL or NovelAI)"


def add_tool_commands(subparsers: Any) -> None:
    """Add ``metadata``, ``augment``, ``upscale`` and ``prompt`` (each sets ``handler``)."""
    meta = subparsers.add_parser(
        "metadata", help="print a NovelAI image's metadata as JSON (exit 2 when it has none)"
    )
    meta.add_argument(
        "png", type=Path, help="PNG (text chunks or alpha copy) or NovelAI WebP/JPEG (EXIF)"
    )
    meta.set_defaults(handler=run_metadata)

    augment = subparsers.add_parser("augment", help="run a Director tool on an image")
    augment.add_argument("tool", choices=AUGMENT_TOOLS, help="the Director tool")
    augment.add_argument("image", type=Path, help="source image (sent at the web app's size)")
    augment.add_argument("--prompt", default="", help="colorize: colours; emotion: extra tags")
    augment.add_argument("--defry", type=int, default=0, help="colorize/emotion: 0 (strong)-5")
    augment.add_argument("--emotion", choices=EMOTIONS, default="happy", help="emotion tool")
    _add_paid_options(augment)
    augment.set_defaults(handler=run_augment)

    upscale = subparsers.add_parser("upscale", help="2x upscale (1-4 Anlas, never free)")
    upscale.add_argument("image", type=Path, help="source image, at most 1536x2048")
    _add_paid_options(upscale)
    upscale.set_defaults(handler=run_upscale)

    prompt = subparsers.add_parser("prompt", help="prompt tools (offline)")
    tools = prompt.add_subparsers(dest="prompt_command", required=True, parser_class=type(prompt))
    convert = tools.add_parser("convert", help="convert weight syntax for a model")
    convert.add_argument("text", help="the prompt")
    convert.add_argument("--model", default=DEFAULT_MODEL, help="target model id")
    convert.add_argument("--to", choices=("novelai", "a1111"), default="novelai")
    convert.set_defaults(handler=run_prompt_convert)
    tokens = tools.add_parser("tokens", help="count prompt tokens against the model's limit")
    tokens.add_argument("text", nargs="+", help="base prompt, then character prompts")
    tokens.add_argument("--model", default=DEFAULT_MODEL, help="model id")
    tokens.add_argument(
        "--tokenizer-dir", type=Path, action="append", default=[],
        help="folder holding tokenizer files (e.g. ComfyUI's comfy/); else an estimate",
    )  # fmt: skip
    tokens.set_defaults(handler=run_prompt_tokens)


def _add_paid_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path(), help="folder for the PNGs (default .)")
    parser.add_argument("--base-url", help=_BASE_URL_HELP)
    parser.add_argument(
        "--max-anlas", type=int, help="refuse, before sending, anything estimated above this"
    )


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")


def run_metadata(args: argparse.Namespace) -> int:
    """Print {origin, parameters, comment, chunks} of a NovelAI image; exit 2 without any."""
    from ..errors import DecodeError  # noqa: PLC0415
    from ..metadata.params import generation_parameters  # noqa: PLC0415
    from ..metadata.reader import read_metadata  # noqa: PLC0415 - keep `--help` fast

    data = args.png.read_bytes()
    try:
        meta = read_metadata(data)
        image = _load_image(args.png) if meta is not None else None
    except DecodeError as exc:  # a damaged or foreign file is bad input, not a NovelAI fault
        raise InputError(f"{args.png.name}: {one_line(exc)}") from None
    if meta is None:
        raise InputError(
            f"{args.png.name}: no NovelAI metadata (no text chunks, EXIF or alpha-channel copy)"
        )
    chunks = {k: v for k, v in meta.chunks.items() if k != "Comment"}
    out = {
        "origin": meta.origin,
        "parameters": generation_parameters(meta, image).as_json(),
        "comment": meta.comment,
        "chunks": chunks,
    }
    _print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK


def _load_image(path: Path) -> Any:
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    try:
        image = Image.open(io.BytesIO(path.read_bytes()))
        image.load()
    except (UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path.name}: not an image PIL can read ({exc})") from None
    return image


def _check_budget(client: Any, total_for: Any, limit: int | None) -> None:
    if limit is None:
        return
    total = total_for(client.subscription().tier)
    if total > limit:
        raise SpendLimitError(
            f"this would cost about {total} Anlas, above --max-anlas {limit}; nothing was sent"
        )


def run_augment(args: argparse.Namespace) -> int:
    """Resize as the web app does, check --max-anlas, send, write the PNGs."""
    from PIL import Image  # noqa: PLC0415

    from ..client import NovelAIClient  # noqa: PLC0415
    from ..contract.cost import augment_cost  # noqa: PLC0415
    from ..contract.tool_sizes import director_size  # noqa: PLC0415

    image = _load_image(args.image)
    width, height = director_size(*image.size)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    options: dict[str, Any] = {}
    if args.tool == "colorize":
        options = {"prompt": args.prompt, "defry": args.defry}
    elif args.tool == "emotion":
        options = {"emotion": args.emotion, "emotion_extra": args.prompt, "defry": args.defry}
    with NovelAIClient(base_url=args.base_url) as client:
        _check_budget(
            client, lambda tier: augment_cost(args.tool, width, height, tier=tier), args.max_anlas
        )
        result = client.augment(args.tool, image, **options)
    for path in result.save_all(args.out, prefix=args.tool):
        _print(str(path))
    return EXIT_OK


def run_upscale(args: argparse.Namespace) -> int:
    """Check the source limit, check --max-anlas, send, write the 2x PNG."""
    from ..client import NovelAIClient  # noqa: PLC0415
    from ..contract.cost import upscale_cost  # noqa: PLC0415
    from ..contract.tool_sizes import check_upscale_source  # noqa: PLC0415

    image = _load_image(args.image)
    check_upscale_source(*image.size)
    price = upscale_cost(*image.size)
    with NovelAIClient(base_url=args.base_url) as client:
        _check_budget(client, lambda _tier: price, args.max_anlas)
        result = client.upscale(image)
    for path in result.save_all(args.out, prefix="upscale"):
        _print(str(path))
    return EXIT_OK


def run_prompt_convert(args: argparse.Namespace) -> int:
    from ..prompts.conversion import convert_prompt  # noqa: PLC0415

    done = convert_prompt(args.text, args.model, to=args.to)
    for warning in done.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    _print(done.text)
    return EXIT_OK


def run_prompt_tokens(args: argparse.Namespace) -> int:
    from ..prompts.tokens import count_prompt_tokens  # noqa: PLC0415

    _print(count_prompt_tokens(args.text, args.model, roots=args.tokenizer_dir).label)
    return EXIT_OK
