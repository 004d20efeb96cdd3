"""Images that arrived before a generation failed: saved where the user finds them, never lost.

NovelAI may have charged for them (a stream cut after some finals, a ZIP short of images). The
client hands them over on the error (``NovelAIError.partial``); ComfyUI shows only the error, so
they are written as NovelAI sent them and the error's message says where.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Final

from . import comfy_compat

if TYPE_CHECKING:
    from ...novelai_core.errors import NovelAIError
    from ...novelai_core.results import GeneratedImage

_log = logging.getLogger(__name__)

PREFIX: Final = "NovelAI_partial"  # files are NovelAI_partial_<seed>_<index>.png
TEMP_FOLDER: Final = "novelai_partial"  # under the system temp folder, outside ComfyUI


def save_partial(exc: NovelAIError) -> None:
    """Write ``exc.partial`` to ComfyUI's output folder (else a temp folder); the error's text
    then says where.

    Does nothing when no image arrived. A folder that cannot be written falls back to the temp
    folder; if that fails too the message says so (the images stay on ``exc.partial``).
    """
    images = tuple(getattr(exc, "partial", ()) or ())
    if not images:
        return
    failures: list[str] = []
    for folder in _folders():
        try:
            paths = _write(images, folder)
        except OSError as error:
            failures.append(f"{folder}: {error}")
            continue
        names = ", ".join(path.name for path in paths)
        # Also logged: a cancelled run shows ComfyUI's "interrupted", not this message.
        _log.warning("NovelAI: images that arrived before a failure: %s in %s", names, folder)
        _extend(exc, f"They were saved to {folder}: {names}.")
        return
    _log.warning("could not save %d NovelAI image(s): %s", len(images), "; ".join(failures))
    _extend(exc, f"They could not be saved ({'; '.join(failures)}).")


def _folders() -> list[Path]:
    output = comfy_compat.output_directory()
    temp = Path(tempfile.gettempdir()) / TEMP_FOLDER
    return [Path(output), temp] if output is not None else [temp]


def _write(images: tuple[GeneratedImage, ...], folder: Path) -> list[Path]:
    from ...novelai_core.results import GenerationResult

    # The original bytes, so NovelAI's metadata (prompt, seed) survives in each file.
    paths: list[Path] = GenerationResult(images=images, seed=None).save_all(folder, prefix=PREFIX)
    return paths


def _extend(exc: NovelAIError, sentence: str) -> None:
    """Say in the error's text (its str) where the images went; its message stays as built."""
    exc.partial_notes = (*exc.partial_notes, sentence)
