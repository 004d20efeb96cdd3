"""NovelAI Vibe node (vibe transfer), appended to a chain; shows whether its encoding is stored.

ComfyUI shows a node's text only when the node runs, and this node runs before NovelAI Generate
in the same queue: its status (stored, or will be encoded for 2 Anlas) appears under the node as
progress text before anything is paid. The output stays the plain chain tuple (no ``ui`` dict)
so the node keeps the classic contract every consumer relies on. It has no IS_CHANGED
on purpose: a changed upstream signature would make Generate run (and pay) again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .runtime import comfy_compat
from .runtime import schema as t
from .runtime.tensors import tensor_to_pil

if TYPE_CHECKING:
    from torch import Tensor

    from ..novelai_core.models.user import Vibe


class NovelAIVibe:
    """Appends one vibe to an (optional) incoming chain."""

    SEARCH_ALIASES = (
        "nai vibe",
        "vibe transfer",
        "style reference",
        "reference image",
    )

    DESCRIPTION = (
        "Vibe transfer: borrow the feel of an image. V3 sends the image itself; V4 and V4.5 "
        "need it encoded first, which NovelAI Generate does for you (2 Anlas per encoding, "
        "counted by the spend guard). More than 4 vibes cost 2 Anlas each per image. "
        "V5 and inpainting take no vibes. Encodings are stored on disk and reused across "
        "restarts; the node shows which models already have this vibe stored."
    )
    CATEGORY = t.CATEGORY_REFERENCE
    FUNCTION = "append"
    RETURN_TYPES = (t.VIBES,)
    RETURN_NAMES = ("vibes",)
    OUTPUT_TOOLTIPS = ("The incoming vibes plus this one.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        from ..novelai_core.models.user import Vibe

        return {
            "required": {
                "image": t.socket("IMAGE", t.IMAGE_INPUT_TOOLTIP),
                "information_extracted": t.field_widget(
                    Vibe,
                    "information_extracted",
                    tooltip="How much of the image is taken: low = mood and colours, high = "
                    "details. On V4+ a new value means a new encoding.",
                ),
                "strength": t.field_widget(
                    Vibe, "strength", tooltip="How strongly the vibe steers the image."
                ),
            },
            "optional": {
                "vibes": t.socket(t.VIBES, "Vibes before this one (optional)."),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    def append(
        self,
        *,
        image: Tensor,
        information_extracted: float,
        strength: float,
        vibes: tuple[Vibe, ...] | None = None,
        unique_id: str | None = None,
    ) -> tuple[tuple[Vibe, ...]]:
        from ..novelai_core.converter.images import png_bytes
        from ..novelai_core.models.user import Vibe
        from .vibe_store_node import shared_store, vibe_status

        vibe = Vibe(
            # PNG bytes, encoded once here: the vibe store is keyed by them, and every later
            # step (status, estimate, encoding, the request) then reuses them as they are.
            image=png_bytes(tensor_to_pil(image)),
            information_extracted=information_extracted,
            strength=strength,
        )
        status = vibe_status(vibe, shared_store())
        comfy_compat.send_progress_text(status, comfy_compat.node_id(unique_id))
        return ((*(vibes or ()), vibe),)
