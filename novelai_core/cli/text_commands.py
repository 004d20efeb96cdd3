"""CLI commands ``text chat "…"`` and ``text models`` (NovelAI's text host; text costs no Anlas)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..text.text_models import DEFAULT_TEXT_MODEL
from .exits import EXIT_OK

_HOST_HELP = "text host (default $NAI_TEXT_BASE_URL or https://text.novelai.net)"


def add_text_commands(subparsers: Any) -> None:
    """Add ``text chat`` and ``text models`` to the CLI's subparsers (each sets ``handler``)."""
    text = subparsers.add_parser("text", help="text generation (no Anlas)")
    commands = text.add_subparsers(dest="text_command", required=True)
    chat = commands.add_parser("chat", help="ask the text model; prints its answer")
    chat.add_argument("message", help="what to ask")
    chat.add_argument("--system", help="an instruction that comes before the message")
    chat.add_argument("--model", default=DEFAULT_TEXT_MODEL, help="default %(default)s")
    chat.add_argument("--max-tokens", type=int, default=400, help="default %(default)s")
    chat.add_argument("--temperature", type=float)
    chat.add_argument("--seed", type=int)
    chat.add_argument("--thinking", action="store_true", help="let the model reason first")
    chat.add_argument("--base-url", help=_HOST_HELP)
    chat.set_defaults(handler=run_chat)
    models = commands.add_parser("models", help="list the text models this token may use")
    models.add_argument("--base-url", help=_HOST_HELP)
    models.set_defaults(handler=run_models)


def run_chat(args: argparse.Namespace) -> int:
    """Print the answer (any <think> text removed)."""
    from ..text.chat_client import TextClient  # noqa: PLC0415  (requests loads on use)

    with TextClient(base_url=args.base_url) as client:
        result = client.chat(
            args.message,
            system=args.system,
            model=args.model,
            max_tokens=args.max_tokens,
            enable_thinking=args.thinking,
            temperature=args.temperature,
            seed=args.seed,
        )
    sys.stdout.write(result.text + "\n")
    return EXIT_OK


def run_models(args: argparse.Namespace) -> int:
    """One model id per line."""
    from ..text.chat_client import TextClient  # noqa: PLC0415

    with TextClient(base_url=args.base_url) as client:
        for model in client.models():
            sys.stdout.write(model.id + "\n")
    return EXIT_OK
