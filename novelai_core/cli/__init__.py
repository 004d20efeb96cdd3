"""The command line, ``python -m novelai_core``: the parser, which imports the command modules
(never the reverse), and ``main``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from .commands import add_client_commands
from .exits import EXIT_INPUT, Handler, run_handler
from .generate_command import add_generate_arguments, add_generate_options, run_generate_or_dry_run
from .text_commands import add_text_commands
from .tool_commands import add_tool_commands
from .vibe_commands import add_vibe_commands


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single stderr line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser; each subcommand sets ``handler``."""
    parser = _Parser(prog="python -m novelai_core", description="NovelAI image SDK")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    generate = commands.add_parser("generate", help="build (and with the client, send) a request")
    add_generate_arguments(generate)
    add_generate_options(generate)
    generate.set_defaults(handler=run_generate_or_dry_run)
    add_client_commands(commands)
    add_vibe_commands(commands)
    add_tool_commands(commands)
    add_text_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for invalid input)."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return run_handler(handler, args)
