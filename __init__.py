"""ComfyUI entry point of the NovelAI node pack: ComfyUI reads the mappings below.

Importing it has no side effects (no pip, no network, no file writes) and imports neither torch
nor ComfyUI: both are loaded lazily by the nodes when they run.
"""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
