"""The vibe encoding store as the nodes see it: one shared store, per-vibe status, a Store node.

Inside ComfyUI the store lives where ComfyUI keeps a pack's own data: newer ComfyUI reserves
"system user" folders for that (``folder_paths.get_system_user_directory``: ``<user>/__<name>``,
never served over HTTP), so the store is ``<user>/__novelai_nodes/novelai-nodes/vibes``; older
ComfyUI has only the user directory (``<user>/novelai-nodes/vibes``). A store found at the old
place is moved once, so no paid encoding is lost. Elsewhere (tests, scripts) it is in
``$NAI_CACHE_DIR/vibes`` or the per-user default.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .runtime import comfy_compat
from .runtime import schema as t

if TYPE_CHECKING:
    from ..novelai_core.models.user import Vibe
    from ..novelai_core.vibes.store import DiskVibeStore

_log = logging.getLogger(__name__)
SYSTEM_USER: Final = "novelai_nodes"  # <user>/__novelai_nodes in newer ComfyUI
LIST: Final = "list"
CLEAR: Final = "clear"
_lock = threading.Lock()
_stores: dict[str, DiskVibeStore] = {}
_by_location: dict[tuple[str | None, ...], DiskVibeStore] = {}


def comfy_user_directory() -> str | None:
    """The folder ComfyUI gives the pack's data (see above), or None outside ComfyUI."""
    try:
        folder_paths = importlib.import_module("folder_paths")
        user = folder_paths.get_user_directory()
    except (ImportError, AttributeError, OSError):
        return None
    system = getattr(folder_paths, "get_system_user_directory", None)
    if not callable(system):
        return str(user) if user else None
    try:
        directory = str(system(SYSTEM_USER))
    except (OSError, ValueError):  # a broken install: the user directory still works
        _log.debug("get_system_user_directory failed", exc_info=True)
        return str(user) if user else None
    if user and not _moved_old_store(Path(user), Path(directory)):
        return str(user)  # the old store could not move: keep using it, its encodings are paid
    return directory


def _moved_old_store(user: Path, data: Path) -> bool:
    """Move ``<user>/novelai-nodes`` (older ComfyUI's place) into the system user folder once;
    False only when an old store is there and could not be moved."""
    from ..novelai_core.vibes.store import APP_DIR

    old, new = user / APP_DIR, data / APP_DIR
    if not old.is_dir() or new.exists():
        return True
    try:
        new.parent.mkdir(parents=True, exist_ok=True)
        old.replace(new)
    except OSError:
        _log.warning("could not move the vibe store from %s to %s", old, new, exc_info=True)
        return False
    return True


def shared_store() -> DiskVibeStore:
    """The ``DiskVibeStore`` for the current location (one object per folder, so its
    in-memory digest cache is shared by every node and the client).

    Every generation asks, so the answer is remembered per ComfyUI user folder and the
    environment variables the location depends on; a change to either finds the new folder.
    """
    from ..novelai_core.vibes.store import LOCATION_ENV, open_store

    user_dir = comfy_user_directory()
    key = (user_dir, *(os.environ.get(name) for name in LOCATION_ENV))
    with _lock:
        known = _by_location.get(key)
    if known is not None:
        return known
    store = open_store(user_dir)
    with _lock:
        store = _stores.setdefault(str(store.root), store)
        _by_location[key] = store
        return store


def forget_stores() -> None:
    """Drop the store objects (what a ComfyUI restart forgets); the files stay."""
    with _lock:
        _stores.clear()
        _by_location.clear()


def encoded_vibe_models() -> tuple[str, ...]:
    """Generation models whose vibes are encoded first (V4, V4.5 today)."""
    from ..novelai_core.contract.capabilities import GENERATION_MODEL_IDS, get_capability

    return tuple(m for m in GENERATION_MODEL_IDS if get_capability(m).vibe_mode == "encoded")


def vibe_status(vibe: Vibe, store: DiskVibeStore) -> str:
    """Which models have this vibe's encoding (free) and which will pay 2 Anlas to encode it."""
    from ..novelai_core.contract.cost import VIBE_ENCODE_COST
    from ..novelai_core.vibes.encoding import vibe_png

    info = vibe.information_extracted
    own = vibe.encoding_model if vibe.encoding is not None else None
    png = vibe_png(vibe.image) if vibe.image is not None else None
    stored: list[str] = []
    missing: list[str] = []
    for model in encoded_vibe_models():
        have = model == own or (png is not None and store.contains(png, model, info))
        (stored if have else missing).append(model)
    parts = [f"vibe (information extracted {info:g}):"]
    if stored:
        parts.append(f"stored for {', '.join(stored)} (free);")
    if missing and png is not None:
        parts.append(
            f"will be encoded for {', '.join(missing)} on first use "
            f"({VIBE_ENCODE_COST} Anlas once per model);"
        )
    elif missing:
        parts.append(f"no image: cannot be used with {', '.join(missing)};")
    parts.append("V3 sends the image itself (no encoding).")
    return " ".join(parts)


class NovelAIVibeStore:
    """Lists or clears the stored vibe encodings."""

    DESCRIPTION = (
        "The vibe encoding store: V4/V4.5 vibe encodings (2 Anlas each) are kept on disk in "
        "ComfyUI's user folder and reused across restarts. 'list' shows what is stored; "
        "'clear' deletes everything (the next use of each vibe pays 2 Anlas again)."
    )
    CATEGORY = t.CATEGORY_REFERENCE
    FUNCTION = "run"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("report",)
    OUTPUT_TOOLTIPS = ("What is stored (or how many entries were cleared).",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "action": t.combo(
                    (LIST, CLEAR), LIST, "list: show the stored encodings; clear: delete them."
                ),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, action: str, **_: Any) -> float:  # noqa: N802 - ComfyUI's name
        # NaN never equals itself: the store changes outside the graph, so always run.
        return float("nan")

    def run(self, *, action: str, unique_id: str | None = None) -> dict[str, Any]:
        from ..novelai_core.errors import InputError

        store = shared_store()
        if action == CLEAR:
            text = f"cleared {store.clear()} stored vibe encoding(s) from {store.root}"
        elif action == LIST:
            text = _listing(store)
        else:
            raise InputError(f"action: {action!r} is not one of {LIST}, {CLEAR}")
        comfy_compat.send_progress_text(text, comfy_compat.node_id(unique_id))
        return {"ui": {"text": [text]}, "result": (text,)}


def _listing(store: DiskVibeStore) -> str:
    entries = store.entries()
    total = sum(e.size for e in entries)
    lines = [
        f"{len(entries)} stored vibe encoding(s), {total / 1024:.0f} KiB of "
        f"{store.max_bytes / 1048576:.0f} MiB, in {store.root}"
    ]
    lines += [
        f"{e.image_sha256[:12]}  {e.model}  information {e.information_extracted:g}  "
        f"{e.size / 1024:.0f} KiB"
        for e in entries
    ]
    return "\n".join(lines)
