"""Guarded, lazy access to ComfyUI's runtime (progress bar, interrupt, progress text).

``comfy``, ``server`` and ``folder_paths`` exist only inside ComfyUI. Nothing here imports them at
module import time, and every helper degrades to a no-op when they are missing, so the pack
imports and its tests run without ComfyUI.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any, NoReturn

_log = logging.getLogger(__name__)

# ComfyUI's default --preview-size; used when comfy.cli_args is not available.
DEFAULT_PREVIEW_SIZE = 512


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def node_id(unique_id: object) -> str | None:
    """ComfyUI's hidden UNIQUE_ID as the str its progress APIs take (None outside a prompt)."""
    return None if unique_id is None else str(unique_id)


def executing_node_id() -> str | None:
    """The node ComfyUI is running now, for nodes without a UNIQUE_ID input (None elsewhere).

    Adding a hidden input would change a node's schema; newer ComfyUI (the versions that show
    progress text at all) publishes the running node through comfy_execution.utils instead.
    """
    utils = _module("comfy_execution.utils")
    get_context = getattr(utils, "get_executing_context", None)
    context = get_context() if callable(get_context) else None
    return node_id(getattr(context, "node_id", None))


def progress_bar(total: int, node_id: str | None = None) -> Any | None:
    """A ``comfy.utils.ProgressBar`` for ``total`` steps, or None outside ComfyUI.

    ``Any``: ComfyUI ships no type information, and the pack must not import it to check.
    """
    utils = _module("comfy.utils")
    bar_class = getattr(utils, "ProgressBar", None)
    if bar_class is None:
        return None
    try:
        return bar_class(total, node_id=node_id)
    except TypeError:  # older ComfyUI: ProgressBar(total) only
        return bar_class(total)


def preview_size() -> int:
    """The largest side ComfyUI wants for live previews (its --preview-size)."""
    cli_args = _module("comfy.cli_args")
    args = getattr(cli_args, "args", None)
    size = getattr(args, "preview_size", None)
    return size if isinstance(size, int) and size > 0 else DEFAULT_PREVIEW_SIZE


def processing_interrupted() -> bool:
    """True once the user pressed Cancel in ComfyUI (always False outside ComfyUI)."""
    management = _module("comfy.model_management")
    check = getattr(management, "processing_interrupted", None)
    return bool(check()) if callable(check) else False


def raise_interrupted(fallback: BaseException) -> NoReturn:
    """Raise ComfyUI's InterruptProcessingException (so the UI shows "cancelled", not an error).

    ``throw_exception_if_processing_interrupted`` also clears ComfyUI's interrupt flag; outside
    ComfyUI the SDK's own error (``fallback``) is raised instead.
    """
    management = _module("comfy.model_management")
    if management is not None:
        throw = getattr(management, "throw_exception_if_processing_interrupted", None)
        if callable(throw):
            throw()
        exception_class = getattr(management, "InterruptProcessingException", None)
        if isinstance(exception_class, type) and issubclass(exception_class, BaseException):
            raise exception_class() from fallback
    raise fallback


def output_directory() -> str | None:
    """ComfyUI's output folder (folder_paths.get_output_directory), or None outside ComfyUI."""
    folder_paths = _module("folder_paths")
    get = getattr(folder_paths, "get_output_directory", None)
    if not callable(get):
        return None
    try:
        folder = get()
    except Exception:  # a broken install must not hide the error the caller is reporting
        _log.debug("folder_paths.get_output_directory failed", exc_info=True)
        return None
    return str(folder) if folder else None


def send_progress_text(text: str, node_id: str | None) -> None:
    """Show ``text`` under the node (newer ComfyUI); silently skipped where unsupported."""
    if node_id is None:
        return
    server = _module("server")
    prompt_server = getattr(server, "PromptServer", None)
    instance = getattr(prompt_server, "instance", None)
    send = getattr(instance, "send_progress_text", None)
    if not callable(send):
        return
    try:
        send(text, node_id)
    except Exception:  # a UI nicety must never fail a paid generation
        _log.debug("send_progress_text failed", exc_info=True)


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is ComfyUI's InterruptProcessingException (raised by its progress hook)."""
    management = _module("comfy.model_management")
    exception_class = getattr(management, "InterruptProcessingException", None)
    return isinstance(exception_class, type) and isinstance(exc, exception_class)
