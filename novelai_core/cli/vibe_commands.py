"""``python -m novelai_core vibe …``: encode once (stored), export/import .naiv4vibe, list, clear.

Every command prints one JSON object on stdout. The store folder is ``--store-dir``, else
``$NAI_CACHE_DIR/vibes``, else the per-user default (see ``vibe_store``). Only ``encode`` and
``export`` may talk to NovelAI, and only when the store has no encoding yet (2 Anlas).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..contract.capabilities import DEFAULT_MODEL
from ..contract.cost import VIBE_ENCODE_COST
from ..vibes.store import DiskVibeStore, open_store
from .exits import EXIT_OK

_BASE_URL_HELP = "image host (default $NAI_IMAGE_BASE_URL or NovelAI)"


def add_vibe_commands(subparsers: Any) -> None:
    """Add ``vibe encode|export|import|list|clear`` to the CLI's subparsers."""
    vibe = subparsers.add_parser(
        "vibe", help="vibe encodings: encode once, reuse from the store, .naiv4vibe files"
    )
    actions = vibe.add_subparsers(dest="vibe_command", required=True)

    encode = actions.add_parser("encode", help="encode an image for a model (stored; 2 Anlas)")
    _encoding_options(encode)
    encode.set_defaults(handler=run_encode)

    export = actions.add_parser("export", help="write a .naiv4vibe the web app can import")
    _encoding_options(export)
    export.add_argument("--out", type=Path, required=True, help="the .naiv4vibe file to write")
    export.add_argument("--strength", type=float, default=0.6, help="strength the web app uses")
    export.add_argument("--name", help="the vibe's name (default: the image's file name)")
    export.set_defaults(handler=run_export)

    load = actions.add_parser("import", help="summarise a .naiv4vibe(bundle); store its encodings")
    load.add_argument("file", type=Path)
    load.add_argument("--no-store", action="store_true", help="only summarise")
    _store_option(load)
    load.set_defaults(handler=run_import)

    listing = actions.add_parser("list", help="the stored encodings, most recently used first")
    _store_option(listing)
    listing.set_defaults(handler=run_list)

    clear = actions.add_parser("clear", help="delete every stored encoding")
    _store_option(clear)
    clear.set_defaults(handler=run_clear)


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store-dir", type=Path, help="store folder (default $NAI_CACHE_DIR/vibes)"
    )


def _encoding_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="the vibe image (PNG, JPEG, WebP)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}")
    parser.add_argument("--information-extracted", type=float, default=1.0, help="0-1 (1)")
    parser.add_argument("--base-url", help=_BASE_URL_HELP)
    _store_option(parser)


def _store(args: argparse.Namespace) -> DiskVibeStore:
    store = open_store()
    if getattr(args, "store_dir", None) is not None:
        return DiskVibeStore(args.store_dir, max_bytes=store.max_bytes)
    return store


def _print(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


class _LazyEncoder:
    """Opens a client (and needs a token) only if the store misses."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self.calls = 0

    def __call__(self, png: bytes, model: str, information_extracted: float) -> bytes:
        from ..client import NovelAIClient  # noqa: PLC0415 - cached runs need no HTTP stack

        self.calls += 1
        with NovelAIClient(base_url=self.base_url) as client:
            return client.encode_vibe(png, model=model, information_extracted=information_extracted)


def run_encode(args: argparse.Namespace) -> int:
    """Encode IMAGE for --model (from the store when it has it); print what happened."""
    from ..vibes.export import ensure_encoding  # noqa: PLC0415

    image = _validated_image(args)
    store = _store(args)
    encoder = _LazyEncoder(args.base_url)
    data, cached = ensure_encoding(store, image, args.model, args.information_extracted, encoder)
    _print(
        {
            "image": str(args.image),
            "model": args.model,
            "information_extracted": args.information_extracted,
            "cached": cached,
            "anlas_spent": encoder.calls * VIBE_ENCODE_COST,
            "bytes": len(data),
            "image_sha256": store.digest(image),
            "store": str(store.root),
        }
    )
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    """Write a .naiv4vibe of IMAGE with the encoding for --model (+ other stored ones)."""
    from ..vibes.export import export_vibe  # noqa: PLC0415

    image = _validated_image(args)
    store = _store(args)
    encoder = _LazyEncoder(args.base_url)
    doc, cached = export_vibe(
        store,
        image,
        model=args.model,
        information_extracted=args.information_extracted,
        encode=encoder,
        name=args.name or args.image.stem,
        strength=args.strength,
    )
    _write_json(args.out, doc)
    encodings = [
        {"model_key": key, "information_extracted": entry["params"]["information_extracted"]}
        for key, inner in doc["encodings"].items()
        for entry in inner.values()
    ]
    _print(
        {
            "out": str(args.out),
            "id": doc["id"],
            "cached": cached,
            "anlas_spent": encoder.calls * VIBE_ENCODE_COST,
            "encodings": encodings,
        }
    )
    return EXIT_OK


def _validated_image(args: argparse.Namespace) -> bytes:
    """The image's bytes once the encode request they make is valid (model, range, image)."""
    from ..converter.tool_bodies import build_encode_vibe_request  # noqa: PLC0415
    from ..errors import InputError  # noqa: PLC0415

    image: bytes = args.image.read_bytes()
    build_encode_vibe_request(
        image, model=args.model, information_extracted=args.information_extracted
    )
    if not 0.0 <= getattr(args, "strength", 0.0) <= 1.0:
        raise InputError(f"--strength: {args.strength} is outside 0-1")
    return image


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def run_import(args: argparse.Namespace) -> int:
    """Summarise FILE (models and information extracted per vibe); store its encodings."""
    from ..vibes.file_format import BUNDLE_IDENTIFIER, load_vibe_file, seed_store  # noqa: PLC0415

    vibes = load_vibe_file(args.file)
    stored = 0
    store = None if args.no_store else _store(args)
    if store is not None:
        stored = sum(seed_store(vibe, store) for vibe in vibes)
    head = json.loads(args.file.read_bytes())  # load_vibe_file has checked it is JSON
    is_bundle = isinstance(head, dict) and head.get("identifier") == BUNDLE_IDENTIFIER
    _print(
        {
            "file": str(args.file),
            "kind": "bundle" if is_bundle else "vibe",
            "vibes": [vibe.summary() for vibe in vibes],
            "stored": stored,
            "store": None if store is None else str(store.root),
        }
    )
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    """Print the stored encodings, most recently used first."""
    store = _store(args)
    entries = store.entries()
    _print(
        {
            "store": str(store.root),
            "count": len(entries),
            "total_bytes": sum(e.size for e in entries),
            "max_bytes": store.max_bytes,
            "entries": [e.as_json() for e in entries],
        }
    )
    return EXIT_OK


def run_clear(args: argparse.Namespace) -> int:
    """Delete every stored encoding."""
    store = _store(args)
    _print({"store": str(store.root), "removed": store.clear()})
    return EXIT_OK
