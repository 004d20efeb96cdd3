"""Load NovelAI PNG (image + the recorded parameters) and Save NovelAI PNG (original bytes).

Loading reads the tEXt ``Comment`` or, when an editor stripped the text chunks, the stealth
payload in the alpha channel. Saving writes the PNG exactly as NovelAI sent it (found through
``originals`` by pixel content) plus ComfyUI's own ``prompt`` and ``workflow`` text chunks, so
the file opens both in NovelAI and in ComfyUI. An image with no NovelAI original (edited, or
from another node) is saved as a plain PNG with ComfyUI's chunks, and the node says so.

``folder_paths`` exists only inside ComfyUI: it is imported lazily and its absence is an error
that names the reason.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from .runtime import schema as t
from .runtime import widgets

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from ..novelai_core.metadata.params import GenerationParameters, RecordedCharacter
    from ..novelai_core.models.user import Character, Prompt

    # novelai_prompt, noise_schedule, cfg_rescale, variety, smea, decrisper,
    # transparent_background, strength, noise, not_in_metadata: the appended outputs.
    RebuildOutputs = tuple[Prompt, str, float, bool, str, bool, bool, float, float, str]
    # image, mask, prompt, negative, seed, model, width, height, steps, scale, sampler,
    # characters, metadata, then RebuildOutputs: RETURN_TYPES of NovelAILoadPNG.
    LoadedPNG = tuple[
        Tensor, Tensor, str, str, int, str, int, int, int, float, str, tuple[Character, ...], str,
        Prompt, str, float, bool, str, bool, bool, float, float, str,
    ]  # fmt: skip

CATEGORY_IMAGE: Final = "NovelAI/image"
NO_FILES: Final = "(no PNG, WebP or JPEG in ComfyUI's input folder)"
# NovelAI saves PNG; its WebP/JPEG outputs keep the metadata in EXIF.
IMAGE_SUFFIXES: Final = (".png", ".webp", ".jpg", ".jpeg")


def folder_paths() -> ModuleType:
    """ComfyUI's ``folder_paths`` module; InputError outside ComfyUI."""
    try:
        return importlib.import_module("folder_paths")
    except ImportError:
        from ..novelai_core.errors import InputError

        raise InputError("ComfyUI's folder_paths is not available (run inside ComfyUI)") from None


def _input_pngs() -> list[str]:
    try:
        folder = Path(importlib.import_module("folder_paths").get_input_directory())
    except (ImportError, AttributeError, OSError):
        return []
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _read_input(image: str) -> bytes:
    from ..novelai_core.errors import InputError

    if image == NO_FILES:
        raise InputError("Load NovelAI PNG: put a NovelAI image in ComfyUI's input folder first")
    path = Path(folder_paths().get_annotated_filepath(image))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"Load NovelAI PNG: cannot read {path.name}: {exc.strerror}") from None


def _rebuild_outputs(params: GenerationParameters) -> RebuildOutputs:
    """The appended outputs: the settings NovelAI Generate needs to send the same request."""
    from ..novelai_core.metadata.rebuild import rebuilt_prompt
    from .generate import SMEA_OFF, SMEA_OPTIONS

    smea = SMEA_OFF
    if params.smea:
        smea = SMEA_OPTIONS[2] if params.smea_dyn else SMEA_OPTIONS[1]
    return (
        rebuilt_prompt(params),
        params.noise_schedule or "karras",
        params.cfg_rescale or 0.0,
        params.variety,
        smea,
        params.decrisper,
        bool(params.transparent_background),
        params.strength if params.strength is not None else 0.7,
        params.noise or 0.0,
        "\n".join(params.not_recorded),
    )


def _characters(recorded: tuple[RecordedCharacter, ...]) -> tuple[Character, ...]:
    from ..novelai_core.models.user import Character

    return tuple(Character(prompt=c.prompt, uc=c.uc, position=c.center) for c in recorded)


class NovelAILoadPNG:
    """Loads a NovelAI PNG and outputs its image and the parameters it was made with."""

    SEARCH_ALIASES = (
        "nai metadata",
        "png info",
        "read metadata",
        "regenerate",
    )

    DESCRIPTION = (
        "Loads an image made by NovelAI (PNG, or its WebP/JPEG) from ComfyUI's input folder and "
        "outputs the image plus what NovelAI recorded: prompt, negative, seed, model, size, "
        "steps, scale, sampler, characters, noise schedule, guidance rescale, Variety+, SMEA, "
        "Decrisper and transparency — enough to rebuild the generation. Reads the PNG text "
        "chunks, EXIF, or the hidden alpha-channel copy when the text was stripped. Connect "
        "'novelai_prompt' to NovelAI Generate to resend the prompt with the quality and UC "
        "presets it was made with. What the metadata cannot hold (source image, mask, vibe "
        "and reference pictures) is listed in 'not_in_metadata'."
    )
    CATEGORY = CATEGORY_IMAGE
    FUNCTION = "load"
    # model and sampler carry the combos' types, so they link into NovelAI Generate's widgets.
    RETURN_TYPES = (
        "IMAGE", "MASK", "STRING", "STRING", "INT", widgets.MODEL_COMBO, "INT", "INT", "INT",
        "FLOAT", widgets.SAMPLER_COMBO, t.CHARACTERS, "STRING",
        t.PROMPT, "STRING", "FLOAT", "BOOLEAN", "STRING", "BOOLEAN", "BOOLEAN", "FLOAT", "FLOAT",
        "STRING",
    )  # fmt: skip
    RETURN_NAMES = (
        "image", "mask", "prompt", "negative", "seed", "model", "width", "height", "steps",
        "scale", "sampler", "characters", "metadata",
        "novelai_prompt", "noise_schedule", "cfg_rescale", "variety", "smea", "decrisper",
        "transparent_background", "strength", "noise", "not_in_metadata",
    )  # fmt: skip
    OUTPUT_TOOLTIPS = (
        "The image, [1,H,W,3].",
        "Transparency: 1 = transparent (zeros for an opaque image).",
        "The prompt NovelAI received (quality tags included).",
        "The Undesired Content NovelAI received (UC preset included).",
        "The seed.",
        "The model id, from the Source text's model hash; empty when the hash is not a known "
        "one (the node then says which models it may be: set the model by hand).",
        "Width in px.",
        "Height in px.",
        "Sampling steps.",
        "Prompt guidance.",
        "Sampler.",
        "The characters (V4+), as a chain for NovelAI Generate; empty when there were none.",
        "NovelAI's Comment JSON as recorded.",
        "The prompt as typed, with the quality and UC presets it was made with: connect it to "
        "NovelAI Generate to regenerate the same request.",
        "Noise schedule.",
        "Prompt guidance rescale.",
        "Variety+ was on.",
        "SMEA: off, SMEA or SMEA+DYN (V3).",
        "Decrisper was on (V3).",
        "Transparent background was on (V5).",
        "img2img/inpaint strength (0.7 when the image was not made from a source).",
        "img2img/inpaint noise.",
        "What the metadata does not hold and a rebuild must be given (one per line).",
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        files = _input_pngs() or [NO_FILES]
        return {
            "required": {
                "image": (
                    files,
                    {
                        "image_upload": True,
                        "tooltip": "An image from NovelAI: PNG, WebP or JPEG (web app, this "
                        "pack or the API).",
                    },
                )
            }
        }

    @classmethod
    def IS_CHANGED(cls, image: str) -> str:  # noqa: N802 - ComfyUI's name
        """The file's digest: re-run when the file changes, not on every queue."""
        try:
            return hashlib.sha256(_read_input(image)).hexdigest()
        except Exception:  # let load() report the problem with its own message
            return ""

    def load(self, *, image: str) -> LoadedPNG:
        from ..novelai_core.errors import InputError
        from ..novelai_core.metadata.params import generation_parameters
        from ..novelai_core.metadata.reader import read_metadata
        from .runtime import comfy_compat, originals
        from .runtime.tensors import decode_image, images_to_tensors

        data = _read_input(image)
        meta = read_metadata(data)
        if meta is None:
            raise InputError(
                f"Load NovelAI PNG: {image} carries no NovelAI metadata (no text chunks, EXIF "
                "or alpha-channel copy); use ComfyUI's Load Image for other pictures"
            )
        pil = decode_image(data)
        params = generation_parameters(meta, pil)
        if params.model is None:
            comfy_compat.send_progress_text(
                unknown_model_text(params.model_candidates, meta.source),
                comfy_compat.executing_node_id(),
            )
        if data.startswith(b"\x89PNG"):
            originals.remember_png(data)
        batch, mask = images_to_tensors([pil])
        return (
            batch,
            mask,
            params.prompt or "",
            params.negative or "",
            params.seed or 0,
            params.model or "",
            params.width or pil.width,
            params.height or pil.height,
            params.steps or 0,
            params.scale if params.scale is not None else 0.0,
            params.sampler or "",
            _characters(params.characters),
            json.dumps(meta.comment, ensure_ascii=False),
            *_rebuild_outputs(params),
        )


def unknown_model_text(candidates: tuple[str, ...], source: str | None) -> str:
    """Progress text when the metadata does not say which model made the image."""
    maybe = f"; it is one of {', '.join(candidates)}" if candidates else ""
    return (
        f"model unknown: the image's Source text ({source!r}) names no model this pack knows"
        f"{maybe}. Set the model by hand before regenerating."
    )


def comfy_chunks(prompt: object, extra_pnginfo: object) -> dict[str, str]:
    """ComfyUI's own PNG text: ``prompt`` (the API graph) and each extra_pnginfo key
    (``workflow``: the UI graph), as its SaveImage writes them; none with --disable-metadata."""
    if _metadata_disabled():
        return {}
    chunks: dict[str, str] = {}
    if prompt is not None:
        chunks["prompt"] = json.dumps(prompt)
    if isinstance(extra_pnginfo, dict):
        chunks.update({str(key): json.dumps(value) for key, value in extra_pnginfo.items()})
    return chunks


def _metadata_disabled() -> bool:
    """ComfyUI's --disable-metadata flag (False outside ComfyUI)."""
    try:
        cli_args = importlib.import_module("comfy.cli_args")
    except ImportError:
        return False
    return bool(getattr(getattr(cli_args, "args", None), "disable_metadata", False))


class NovelAISavePNG:
    """Saves NovelAI's original PNGs (metadata intact) with ComfyUI's workflow added."""

    SEARCH_ALIASES = (
        "nai save",
        "save image",
        "keep metadata",
    )

    DESCRIPTION = (
        "Saves images to ComfyUI's output folder as the ORIGINAL PNG NovelAI sent, so its "
        "metadata (prompt, seed, settings, the alpha-channel copy) stays intact, and adds "
        "ComfyUI's workflow so the file also loads in ComfyUI. Images that are not an unchanged "
        "NovelAI result are saved as plain PNGs (the node says how many)."
    )
    CATEGORY = CATEGORY_IMAGE
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    RETURN_NAMES = ()
    OUTPUT_TOOLTIPS = ()

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "images": t.socket("IMAGE", "Images from NovelAI Generate or a NovelAI tool."),
                "filename_prefix": t.text(
                    "File name prefix; may contain a subfolder, e.g. 'novelai/img'.",
                    "NovelAI",
                    multiline=False,  # one line, as in ComfyUI's Save Image
                ),
            },
            "hidden": {
                "prompt": "PROMPT",
                "extra_pnginfo": "EXTRA_PNGINFO",
                "unique_id": "UNIQUE_ID",
            },
        }

    def save(
        self,
        *,
        images: Tensor,
        filename_prefix: str,
        prompt: dict[str, Any] | None = None,
        extra_pnginfo: dict[str, Any] | None = None,
        unique_id: str | None = None,
    ) -> dict[str, Any]:
        from ..novelai_core.metadata.reader import add_text_chunks
        from .runtime import comfy_compat, originals
        from .runtime.tensors import tensor_to_pil

        paths = folder_paths()
        height, width = int(images.shape[1]), int(images.shape[2])
        folder, name, counter, subfolder, _ = paths.get_save_image_path(
            filename_prefix.strip() or "NovelAI", paths.get_output_directory(), width, height
        )
        chunks = comfy_chunks(prompt, extra_pnginfo)
        saved: list[dict[str, str]] = []
        plain = 0
        for index in range(int(images.shape[0])):
            pil = tensor_to_pil(images, index)
            original = originals.lookup(pil)
            if original is None:
                plain += 1
                original = _plain_png(pil)
            data = add_text_chunks(original, chunks) if chunks else original
            filename = f"{name}_{counter + index:05}_.png"
            (Path(folder) / filename).write_bytes(data)
            saved.append({"filename": filename, "subfolder": subfolder, "type": "output"})
        kept = len(saved) - plain
        comfy_compat.send_progress_text(
            f"NovelAI: saved {kept} original PNG(s) with metadata"
            + (f", {plain} plain PNG(s) without NovelAI metadata" if plain else ""),
            comfy_compat.node_id(unique_id),
        )
        return {"ui": {"images": saved}, "result": ()}


def _plain_png(image: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=4)
    return buf.getvalue()
