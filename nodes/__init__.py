"""ComfyUI glue: widgets, sockets, tensors <-> PIL, progress and interrupt; the node mappings."""

from __future__ import annotations

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
from .reference import NovelAICharacterReference
from .source import NovelAIImg2Img, NovelAIInpaint
from .tags import NovelAISuggestTags
from .text_tools import NovelAIConvertWeights, NovelAITokenCount
from .upscale import NovelAIEnhance, NovelAIUpscale
from .vibe import NovelAIVibe
from .vibe_files import NovelAIExportVibe, NovelAIVibeFile
from .vibe_store_node import NovelAIVibeStore

NODE_CLASS_MAPPINGS: dict[str, type] = {
    "NovelAI_Generate": NovelAIGenerate,
    "NovelAI_Prompt": NovelAIPrompt,
    "NovelAI_Character": NovelAICharacter,
    "NovelAI_CharacterReference": NovelAICharacterReference,
    "NovelAI_Vibe": NovelAIVibe,
    "NovelAI_VibeFile": NovelAIVibeFile,
    "NovelAI_ExportVibe": NovelAIExportVibe,
    "NovelAI_VibeStore": NovelAIVibeStore,
    "NovelAI_Img2Img": NovelAIImg2Img,
    "NovelAI_Inpaint": NovelAIInpaint,
    "NovelAI_Account": NovelAIAccount,
    "NovelAI_RemoveBackground": NovelAIRemoveBackground,
    "NovelAI_LineArt": NovelAILineArt,
    "NovelAI_Sketch": NovelAISketch,
    "NovelAI_Colorize": NovelAIColorize,
    "NovelAI_Emotion": NovelAIEmotion,
    "NovelAI_Declutter": NovelAIDeclutter,
    "NovelAI_Upscale": NovelAIUpscale,
    "NovelAI_Enhance": NovelAIEnhance,
    "NovelAI_LoadPNG": NovelAILoadPNG,
    "NovelAI_SavePNG": NovelAISavePNG,
    "NovelAI_ConvertWeights": NovelAIConvertWeights,
    "NovelAI_TokenCount": NovelAITokenCount,
    "NovelAI_SuggestTags": NovelAISuggestTags,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {
    "NovelAI_Generate": "NovelAI Generate",
    "NovelAI_Prompt": "NovelAI Prompt",
    "NovelAI_Character": "NovelAI Character",
    "NovelAI_CharacterReference": "NovelAI Character Reference",
    "NovelAI_Vibe": "NovelAI Vibe",
    "NovelAI_VibeFile": "NovelAI Vibe File",
    "NovelAI_ExportVibe": "NovelAI Export Vibe",
    "NovelAI_VibeStore": "NovelAI Vibe Store",
    "NovelAI_Img2Img": "NovelAI Img2Img",
    "NovelAI_Inpaint": "NovelAI Inpaint",
    "NovelAI_Account": "NovelAI Account",
    "NovelAI_RemoveBackground": "NovelAI Remove Background",
    "NovelAI_LineArt": "NovelAI Line Art",
    "NovelAI_Sketch": "NovelAI Sketch",
    "NovelAI_Colorize": "NovelAI Colorize",
    "NovelAI_Emotion": "NovelAI Emotion",
    "NovelAI_Declutter": "NovelAI Declutter",
    "NovelAI_Upscale": "NovelAI Upscale",
    "NovelAI_Enhance": "NovelAI Enhance",
    "NovelAI_LoadPNG": "Load NovelAI PNG",
    "NovelAI_SavePNG": "Save NovelAI PNG",
    "NovelAI_ConvertWeights": "NovelAI Convert Weights",
    "NovelAI_TokenCount": "NovelAI Token Count",
    "NovelAI_SuggestTags": "NovelAI Suggest Tags",
}

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
