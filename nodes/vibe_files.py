"""NovelAI Vibe File (import .naiv4vibe / .naiv4vibebundle from the input folder) and
NovelAI Export Vibe (write a .naiv4vibe the web app can import to the output folder)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .metadata_nodes import folder_paths
from .runtime import comfy_compat, spend_guard, widgets
from .runtime import schema as t
from .runtime.async_node import awaits_novelai
from .vibe_store_node import encoded_vibe_models, shared_store, vibe_status

if TYPE_CHECKING:
    from ..novelai_core.models.user import Vibe
    from ..novelai_core.vibes.store import DiskVibeStore

NO_FILES: Final = "(no .naiv4vibe file in ComfyUI's input folder)"
EXPORT_GUARD: Final = "up to 10 Anlas"  # encodings cost 2 Anlas each, also on Opus


def _input_vibe_files() -> list[str]:
    """Vibe files in ComfyUI's input folder and its subfolders, as relative paths."""
    from ..novelai_core.vibes.file_format import VIBE_FILE_SUFFIXES

    try:
        folder = Path(folder_paths().get_input_directory())
    except Exception:  # outside ComfyUI: an empty list, the node says so when run
        return []
    if not folder.is_dir():
        return []
    found = (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIBE_FILE_SUFFIXES)
    return sorted(p.relative_to(folder).as_posix() for p in found)


def _input_path(file: str) -> Path:
    from ..novelai_core.errors import InputError

    if file == NO_FILES:
        raise InputError(
            "NovelAI Vibe File: put a .naiv4vibe or .naiv4vibebundle file (exported from the "
            "NovelAI web app) into ComfyUI's input folder, then reload the node list"
        )
    folder = Path(folder_paths().get_input_directory()).resolve()
    path = (folder / file).resolve()
    if folder not in path.parents:
        raise InputError(f"NovelAI Vibe File: {file!r} is outside ComfyUI's input folder")
    return path


class NovelAIVibeFile:
    """Appends the vibes of a .naiv4vibe / .naiv4vibebundle file to an (optional) chain."""

    DESCRIPTION = (
        "Imports vibes exported by the NovelAI web app (.naiv4vibe, or .naiv4vibebundle with "
        "several) from ComfyUI's input folder. A file's stored encoding is used when it matches "
        "the generation model and information extracted (free); otherwise its image is "
        "encoded once (2 Anlas) and kept in the vibe store."
    )
    CATEGORY = t.CATEGORY_REFERENCE
    FUNCTION = "load"
    RETURN_TYPES = (t.VIBES,)
    RETURN_NAMES = ("vibes",)
    OUTPUT_TOOLTIPS = ("The incoming vibes plus the file's.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        from ..novelai_core.models.user import Vibe

        files = _input_vibe_files() or [NO_FILES]
        return {
            "required": {
                "file": t.combo(files, files[0], "A vibe file in ComfyUI's input folder."),
                "use_file_settings": t.boolean(
                    "On: each vibe keeps the information extracted and strength saved in the "
                    "file. Off: the two values below apply to every vibe of the file.",
                    True,
                ),
                "information_extracted": t.field_widget(
                    Vibe,
                    "information_extracted",
                    tooltip="Used when 'use file settings' is off. A value the file has no "
                    "encoding for means a new encoding (2 Anlas) on V4+.",
                ),
                "strength": t.field_widget(
                    Vibe, "strength", tooltip="Used when 'use file settings' is off."
                ),
            },
            "optional": {"vibes": t.socket(t.VIBES, "Vibes before these (optional).")},
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, file: str, **_: Any) -> str:  # noqa: N802 - ComfyUI's name
        """The file's digest: re-import when the file changes, not on every queue."""
        try:
            return hashlib.sha256(_input_path(file).read_bytes()).hexdigest()
        except Exception:  # load() reports the problem with its own message
            return ""

    def load(
        self,
        *,
        file: str,
        use_file_settings: bool,
        information_extracted: float,
        strength: float,
        vibes: tuple[Vibe, ...] | None = None,
        unique_id: str | None = None,
    ) -> tuple[tuple[Vibe, ...]]:
        from ..novelai_core.vibes.file_format import load_vibe_file, seed_store, to_vibe

        store = shared_store()
        loaded = []
        for vibe_file in load_vibe_file(_input_path(file)):
            seed_store(vibe_file, store)
            loaded.append(
                to_vibe(
                    vibe_file,
                    information_extracted=None if use_file_settings else information_extracted,
                    strength=None if use_file_settings else strength,
                )
            )
        lines = [f"{file}: {len(loaded)} vibe(s)"] + [vibe_status(v, store) for v in loaded]
        comfy_compat.send_progress_text("\n".join(lines), comfy_compat.node_id(unique_id))
        return ((*(vibes or ()), *loaded),)


@awaits_novelai(one_at_a_time=True)
class NovelAIExportVibe:
    """Writes the incoming vibes, with their encodings, as a .naiv4vibe (bundle if several)."""

    DESCRIPTION = (
        "Exports vibes as a .naiv4vibe file (a .naiv4vibebundle for several) in ComfyUI's "
        "output folder, with the image and every encoding the vibe store holds for it, so the "
        "NovelAI web app imports it without paying to encode again. The encoding for the chosen "
        "model is made first if it is not stored yet (2 Anlas per vibe, checked by the spend "
        "guard)."
    )
    CATEGORY = t.CATEGORY_REFERENCE
    FUNCTION = "export"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("path",)
    OUTPUT_TOOLTIPS = ("The file written.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        from ..novelai_core.contract.capabilities import DEFAULT_MODEL

        models = encoded_vibe_models()
        default = DEFAULT_MODEL if DEFAULT_MODEL in models else models[0]
        return {
            "required": {
                "vibes": t.socket(t.VIBES, "The vibes to export, from NovelAI Vibe."),
                "model": t.combo(models, default, "The model the file's encoding is made for."),
                "filename_prefix": t.text(
                    "File name prefix; may contain a subfolder, e.g. 'vibes/mine'.",
                    "NovelAI_vibe",
                    multiline=False,  # one line, as in ComfyUI's Save Image
                ),
                "spend_guard": widgets.spend_guard(
                    "The most Anlas this node may spend on encodings "
                    "(2 for each vibe not stored yet).",
                    # encodings are never free: admit a few by default
                    default=EXPORT_GUARD,
                ),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    def export(
        self,
        *,
        vibes: tuple[Vibe, ...],
        model: str,
        filename_prefix: str,
        spend_guard: str,
        unique_id: str | None = None,
    ) -> dict[str, Any]:
        from ..novelai_core.contract.cost import VIBE_ENCODE_COST
        from ..novelai_core.errors import CancelledError
        from .runtime.progress import failed_text

        node = comfy_compat.node_id(unique_id)
        store = shared_store()
        try:
            _check_exportable(vibes, model, store, spend_guard)
            docs, encoded = _documents(vibes, model, store)
            path = _write(docs, filename_prefix)
        except CancelledError as exc:
            comfy_compat.send_progress_text("Cancelled: no file written.", node)
            comfy_compat.raise_interrupted(exc)
        except Exception as exc:  # the node's last word is the failure
            comfy_compat.send_progress_text(failed_text(str(exc)), node)
            raise
        spent = VIBE_ENCODE_COST * encoded
        text = (
            f"Done: wrote {path.name} ({len(docs)} vibe(s); {encoded} encoded now, {spent} Anlas)"
        )
        comfy_compat.send_progress_text(text, node)
        return {"ui": {"text": [text]}, "result": (str(path),)}


def _to_encode(vibe: Vibe, model: str, store: DiskVibeStore) -> bool:
    from ..novelai_core.vibes.encoding import vibe_png

    if vibe.encoding is not None and vibe.encoding_model == model:
        return False
    if vibe.image is None:  # nothing to encode (_check_exportable refuses such a vibe)
        return False
    return not store.contains(vibe_png(vibe.image), model, vibe.information_extracted)


def _check_exportable(
    vibes: tuple[Vibe, ...], model: str, store: DiskVibeStore, guard: str
) -> None:
    from ..novelai_core.contract.cost import VIBE_ENCODE_COST
    from ..novelai_core.errors import InputError, SpendLimitError

    if not vibes:
        raise InputError("NovelAI Export Vibe: no vibes to export")
    for index, vibe in enumerate(vibes):
        if vibe.image is None:
            raise InputError(f"vibes[{index}]: has no image; the web app's files need one")
    cost = VIBE_ENCODE_COST * sum(_to_encode(v, model, store) for v in vibes)
    limit = spend_guard.LIMITS.get(guard, 0)
    if limit is not None and cost > limit:
        raise SpendLimitError(
            f"NovelAI: exporting needs {cost} Anlas of vibe encodings for {model}, above the "
            f"spend guard '{guard}'. Nothing was sent. Raise the spend guard to allow it."
        )


def _documents(
    vibes: tuple[Vibe, ...], model: str, store: DiskVibeStore
) -> tuple[list[dict[str, Any]], int]:
    from ..novelai_core.vibes.encoding import vibe_png
    from ..novelai_core.vibes.export import export_vibe
    from .runtime.session import get_client

    client = get_client()
    encoded = 0

    def encode(png: bytes, for_model: str, info: float) -> bytes:
        nonlocal encoded
        encoded += 1
        data: bytes = client.encode_vibe(
            png,
            model=for_model,
            information_extracted=info,
            cancel=comfy_compat.processing_interrupted,
        )
        return data

    docs = []
    for index, vibe in enumerate(vibes):
        assert vibe.image is not None, "refused by _check_exportable"
        png = vibe_png(vibe.image)
        if vibe.encoding is not None and vibe.encoding_model == model:
            store.put(png, model, vibe.information_extracted, vibe.encoding)
        doc, _ = export_vibe(
            store,
            vibe.image,  # the file keeps the picture's own bytes (a JPEG stays a JPEG)
            model=model,
            information_extracted=vibe.information_extracted,
            encode=encode,
            name=f"vibe {index + 1}",
            strength=vibe.strength,
        )
        docs.append(doc)
    return docs, encoded


def _write(docs: list[dict[str, Any]], filename_prefix: str) -> Path:
    from ..novelai_core.vibes.export import build_bundle
    from ..novelai_core.vibes.file_format import BUNDLE_SUFFIX, VIBE_SUFFIX

    paths = folder_paths()
    folder, name, counter, _subfolder, _ = paths.get_save_image_path(
        filename_prefix.strip() or "NovelAI_vibe", paths.get_output_directory()
    )
    single = len(docs) == 1
    suffix = VIBE_SUFFIX if single else BUNDLE_SUFFIX
    path = Path(folder) / f"{name}_{counter:05}_{suffix}"
    while path.exists():  # never overwrite an earlier export
        counter += 1
        path = Path(folder) / f"{name}_{counter:05}_{suffix}"
    payload = docs[0] if single else build_bundle(docs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path
