"""ComfyUI glue: widgets, sockets, tensors <-> PIL, progress and interrupt; the node mappings."""

from __future__ import annotations

from typing import Final

from .account import NovelAIAccount
from .character import NovelAICharacter
from .director import (
    NovelAIColorize,
    NovelAIDeclutter,
    NovelAIEmotion,
    NovelAILineArt,
    NovelAIRemoveBackground,
    NovelAISketch,
)
from .generate import NovelAIGenerate
from .metadata_nodes import NovelAILoadPNG, NovelAISavePNG
from .prompt import NovelAIPrompt
from .prompt_writer import NovelAIPromptWriter
from .reference import NovelAICharacterReference
from .source import NovelAIImg2Img, NovelAIInpaint
from .tags import NovelAISuggestTags
from .text_tools import NovelAIConvertWeights, NovelAITokenCount
from .upscale import NovelAIEnhance, NovelAIUpscale
from .vibe import NovelAIVibe
from .vibe_files import NovelAIExportVibe, NovelAIVibeFile
from .vibe_store_node import NovelAIVibeStore

# One row per node: the id saved in workflows (never change it), the class, the name shown.
NODES: Final[tuple[tuple[str, type, str], ...]] = (
    ("NovelAI_Generate", NovelAIGenerate, "NovelAI Generate"),
    ("NovelAI_Prompt", NovelAIPrompt, "NovelAI Prompt"),
    ("NovelAI_Character", NovelAICharacter, "NovelAI Character"),
    ("NovelAI_CharacterReference", NovelAICharacterReference, "NovelAI Character Reference"),
    ("NovelAI_Vibe", NovelAIVibe, "NovelAI Vibe"),
    ("NovelAI_VibeFile", NovelAIVibeFile, "NovelAI Vibe File"),
    ("NovelAI_ExportVibe", NovelAIExportVibe, "NovelAI Export Vibe"),
    ("NovelAI_VibeStore", NovelAIVibeStore, "NovelAI Vibe Store"),
    ("NovelAI_Img2Img", NovelAIImg2Img, "NovelAI Img2Img"),
    ("NovelAI_Inpaint", NovelAIInpaint, "NovelAI Inpaint"),
    ("NovelAI_Account", NovelAIAccount, "NovelAI Account"),
    ("NovelAI_RemoveBackground", NovelAIRemoveBackground, "NovelAI Remove Background"),
    ("NovelAI_LineArt", NovelAILineArt, "NovelAI Line Art"),
    ("NovelAI_Sketch", NovelAISketch, "NovelAI Sketch"),
    ("NovelAI_Colorize", NovelAIColorize, "NovelAI Colorize"),
    ("NovelAI_Emotion", NovelAIEmotion, "NovelAI Emotion"),
    ("NovelAI_Declutter", NovelAIDeclutter, "NovelAI Declutter"),
    ("NovelAI_Upscale", NovelAIUpscale, "NovelAI Upscale"),
    ("NovelAI_Enhance", NovelAIEnhance, "NovelAI Enhance"),
    ("NovelAI_LoadPNG", NovelAILoadPNG, "Load NovelAI PNG"),
    ("NovelAI_SavePNG", NovelAISavePNG, "Save NovelAI PNG"),
    ("NovelAI_ConvertWeights", NovelAIConvertWeights, "NovelAI Convert Weights"),
    ("NovelAI_TokenCount", NovelAITokenCount, "NovelAI Token Count"),
    ("NovelAI_SuggestTags", NovelAISuggestTags, "NovelAI Suggest Tags"),
    ("NovelAI_PromptWriter", NovelAIPromptWriter, "NovelAI Prompt Writer"),
)

NODE_CLASS_MAPPINGS: dict[str, type] = {node_id: cls for node_id, cls, _ in NODES}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {node_id: name for node_id, _, name in NODES}

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
