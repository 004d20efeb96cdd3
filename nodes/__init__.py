"""ComfyUI glue: widgets, sockets, tensors <-> PIL, progress and interrupt; the node mappings."""

from __future__ import annotations

from .account import NovelAIAccount
from .character import NovelAICharacter
from .generate import NovelAIGenerate
from .prompt import NovelAIPrompt
from .reference import NovelAICharacterReference
from .source import NovelAIImg2Img, NovelAIInpaint
from .vibe import NovelAIVibe

NODE_CLASS_MAPPINGS: dict[str, type] = {
    "NovelAI_Generate": NovelAIGenerate,
    "NovelAI_Prompt": NovelAIPrompt,
    "NovelAI_Character": NovelAICharacter,
    "NovelAI_CharacterReference": NovelAICharacterReference,
    "NovelAI_Vibe": NovelAIVibe,
    "NovelAI_Img2Img": NovelAIImg2Img,
    "NovelAI_Inpaint": NovelAIInpaint,
    "NovelAI_Account": NovelAIAccount,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {
    "NovelAI_Generate": "NovelAI Generate",
    "NovelAI_Prompt": "NovelAI Prompt",
    "NovelAI_Character": "NovelAI Character",
    "NovelAI_CharacterReference": "NovelAI Character Reference",
    "NovelAI_Vibe": "NovelAI Vibe",
    "NovelAI_Img2Img": "NovelAI Img2Img",
    "NovelAI_Inpaint": "NovelAI Inpaint",
    "NovelAI_Account": "NovelAI Account",
}

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
