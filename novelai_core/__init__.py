"""A typed SDK (sync and asyncio) for NovelAI image generation, with an offline simulator.

The public API is importable from here (``from novelai_core import NovelAIClient, Prompt``); each
name is loaded on first use, so ``import novelai_core`` stays fast and imports neither pydantic,
Pillow, requests, torch nor ComfyUI. Everything else lives in the subpackages: ``contract``
(capabilities, cost, validation), ``converter`` (user models → request bodies), ``transport``
(HTTP), ``vibes``, ``metadata``, ``prompts``, ``text`` (text generation), ``cli`` and
``simulator``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → the module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("NovelAIClient", "PreviewCallback"), ".client"),
    **dict.fromkeys(("AsyncNovelAIClient", "AsyncTextClient"), ".async_client"),
    "TextClient": ".text.chat_client",
    **dict.fromkeys(("TextModel", "TextResult"), ".text.text_models"),
    **dict.fromkeys(("CancelCheck", "RetryPolicy", "WaitCallback"), ".transport.http_transport"),
    **dict.fromkeys(
        (
            "Character",
            "CharacterReference",
            "GenerationRequest",
            "GenerationSettings",
            "Img2ImgSource",
            "InpaintSource",
            "Position",
            "Prompt",
            "Vibe",
        ),
        ".models.user",
    ),
    **dict.fromkeys(
        (
            "FinalImage",
            "GeneratedImage",
            "GenerationResult",
            "Preview",
            "StreamEvent",
            "Subscription",
            "TagSuggestion",
        ),
        ".results",
    ),
    **dict.fromkeys(
        (
            "AuthenticationError",
            "CancelledError",
            "DecodeError",
            "InputError",
            "InsufficientAnlasError",
            "InvalidRequestError",
            "MissingTokenError",
            "ModelNotAllowedError",
            "NovelAIConnectionError",
            "NovelAIError",
            "NovelAITimeoutError",
            "RateLimitError",
            "ServerError",
            "SpendLimitError",
            "StreamError",
        ),
        ".errors",
    ),
    "CostEstimate": ".contract.cost",
    **dict.fromkeys(("build_generate_request", "estimate_cost"), ".converter.generation"),
    **dict.fromkeys(("NovelAIMetadata", "read_metadata"), ".metadata.reader"),
    **dict.fromkeys(("GenerationParameters", "generation_parameters"), ".metadata.params"),
    **dict.fromkeys(("MemoryVibeStore", "VibeStore"), ".vibes.encoding"),
    "DiskVibeStore": ".vibes.store",
    **dict.fromkeys(("VibeFile", "load_vibe_file"), ".vibes.file_format"),
    **dict.fromkeys(("Simulator", "run_simulator"), ".simulator"),
}

__all__ = [
    "AsyncNovelAIClient",
    "AsyncTextClient",
    "AuthenticationError",
    "CancelCheck",
    "CancelledError",
    "Character",
    "CharacterReference",
    "CostEstimate",
    "DecodeError",
    "DiskVibeStore",
    "FinalImage",
    "GeneratedImage",
    "GenerationParameters",
    "GenerationRequest",
    "GenerationResult",
    "GenerationSettings",
    "Img2ImgSource",
    "InpaintSource",
    "InputError",
    "InsufficientAnlasError",
    "InvalidRequestError",
    "MemoryVibeStore",
    "MissingTokenError",
    "ModelNotAllowedError",
    "NovelAIClient",
    "NovelAIConnectionError",
    "NovelAIError",
    "NovelAIMetadata",
    "NovelAITimeoutError",
    "Position",
    "Preview",
    "PreviewCallback",
    "Prompt",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "Simulator",
    "SpendLimitError",
    "StreamError",
    "StreamEvent",
    "Subscription",
    "TagSuggestion",
    "TextClient",
    "TextModel",
    "TextResult",
    "Vibe",
    "VibeFile",
    "VibeStore",
    "WaitCallback",
    "__version__",
    "build_generate_request",
    "estimate_cost",
    "generation_parameters",
    "load_vibe_file",
    "read_metadata",
    "run_simulator",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and editors see; nothing is imported at run time
    from .async_client import AsyncNovelAIClient, AsyncTextClient
    from .client import NovelAIClient, PreviewCallback
    from .contract.cost import CostEstimate
    from .converter.generation import build_generate_request, estimate_cost
    from .errors import (
        AuthenticationError,
        CancelledError,
        DecodeError,
        InputError,
        InsufficientAnlasError,
        InvalidRequestError,
        MissingTokenError,
        ModelNotAllowedError,
        NovelAIConnectionError,
        NovelAIError,
        NovelAITimeoutError,
        RateLimitError,
        ServerError,
        SpendLimitError,
        StreamError,
    )
    from .metadata.params import GenerationParameters, generation_parameters
    from .metadata.reader import NovelAIMetadata, read_metadata
    from .models.user import (
        Character,
        CharacterReference,
        GenerationRequest,
        GenerationSettings,
        Img2ImgSource,
        InpaintSource,
        Position,
        Prompt,
        Vibe,
    )
    from .results import (
        FinalImage,
        GeneratedImage,
        GenerationResult,
        Preview,
        StreamEvent,
        Subscription,
        TagSuggestion,
    )
    from .simulator import Simulator, run_simulator
    from .text.chat_client import TextClient
    from .text.text_models import TextModel, TextResult
    from .transport.http_transport import CancelCheck, RetryPolicy, WaitCallback
    from .vibes.encoding import MemoryVibeStore, VibeStore
    from .vibes.file_format import VibeFile, load_vibe_file
    from .vibes.store import DiskVibeStore
