"""A typed, synchronous SDK for NovelAI image generation, with an offline simulator.

Importing this package imports neither torch nor ComfyUI.
"""

from __future__ import annotations

__version__ = "0.1.0"
