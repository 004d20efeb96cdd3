"""ComfyUI entry point of the NovelAI node pack: ComfyUI reads the mappings below.

Importing it has no side effects outside ComfyUI (no pip, no network, no file writes) and imports
neither torch nor ComfyUI: both are loaded lazily by the nodes when they run. Inside a running
ComfyUI it adds the frontend's routes (``/novelai/...``) to its server; ``WEB_DIRECTORY`` is the
frontend extension (plain ES modules).
"""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
from .nodes.frontend.routes import register as _register_routes

WEB_DIRECTORY = "./web"
_register_routes()

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
