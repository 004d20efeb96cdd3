"""NovelAI Upscale (2026 /ai/upscale, ×2) and NovelAI Enhance (img2img on a ×1 / ×1.5 copy).

Enhance has no endpoint of its own (contract §9): the web app runs img2img on an upscaled copy
with a new seed. The copy is made HERE, locally (Lanczos, sides rounded to 64 as every canvas
must be), not with the paid upscaler: the img2img pass redraws the detail anyway, and a local
resize costs nothing. Levels 1-5 are the web app's strength/noise pairs (constants.ENHANCE_LEVELS).
The img2img request then goes through the Generate node's run (local checks, spend guard,
streaming progress), so Enhance is priced and guarded exactly like a generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ..novelai_core.contract.constants import ENHANCE_LEVELS
from ..novelai_core.contract.cost import UPSCALE_PRICES
from .runtime import schema as t
from .runtime import widgets
from .runtime.async_node import awaits_novelai
from .runtime.spend_guard import smallest_admitting

if TYPE_CHECKING:
    from collections.abc import Callable

    from torch import Tensor

    from ..novelai_core.client import NovelAIClient
    from ..novelai_core.models.user import Character, Prompt
    from ..novelai_core.results import GenerationResult
    from ..novelai_core.transport.http_transport import WaitCallback

CATEGORY_UPSCALE: Final = "NovelAI/upscale"
MAGNITUDES: Final = {"1x": 1.0, "1.5x": 1.5, "2x": 2.0}
# V5's Enhance "Max": the request keeps the source's size and NovelAI enlarges it (R10).
MAX_MAGNITUDE: Final = "max (V5)"
# Never free (1-4 Anlas by source area): the guard admits the highest price by default.
UPSCALE_GUARD: Final = smallest_admitting(max(price for _, price in UPSCALE_PRICES))


@awaits_novelai(one_at_a_time=True)
class NovelAIUpscale:
    """Doubles the image's size with NovelAI's upscaler."""

    SEARCH_ALIASES = (
        "nai upscale",
        "upscaler",
        "2x",
        "enlarge",
    )

    DESCRIPTION = (
        "NovelAI's 2× upscaler (the 2026 endpoint). Sources up to 1536×2048 (either way round) "
        "are accepted; larger ones are refused before anything is sent. Never free: 1 to 4 "
        "Anlas by source area, so its spend guard starts at 'up to 10 Anlas'."
    )
    CATEGORY = CATEGORY_UPSCALE
    FUNCTION = "upscale"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("image",)
    OUTPUT_TOOLTIPS = ("The image at twice the width and height.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "image": t.socket("IMAGE", t.IMAGE_INPUT_TOOLTIP),
                "spend_guard": widgets.spend_guard(default=UPSCALE_GUARD),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    def upscale(
        self, *, image: Tensor, spend_guard: str, unique_id: str | None = None
    ) -> tuple[Tensor]:
        from ..novelai_core.contract.constants import PATH_UPSCALE
        from ..novelai_core.contract.cost import upscale_cost
        from ..novelai_core.contract.tool_sizes import check_upscale_source
        from ..novelai_core.converter.tool_bodies import build_upscale_request
        from .runtime.comfy_compat import node_id
        from .runtime.tensors import images_to_tensors
        from .runtime.tool_run import ToolJob, first_image, run_paid_tool

        source = first_image(image)

        def send(
            client: NovelAIClient, cancel: Callable[[], bool], on_wait: WaitCallback
        ) -> GenerationResult:
            return client.upscale(source, cancel=cancel, on_wait=on_wait)

        job = ToolJob(
            name="Upscale",
            cost=lambda _tier: upscale_cost(*source.size),  # never free, whatever the tier
            endpoint=PATH_UPSCALE,
            body=lambda: build_upscale_request(source),
            call=send,
            checks=lambda: check_upscale_source(*source.size),  # before anything is sent
        )
        result = run_paid_tool(job, guard=spend_guard, node_id=node_id(unique_id))
        batch, _ = images_to_tensors([result.images[0].image])
        return (batch,)


@awaits_novelai(one_at_a_time=True)
class NovelAIEnhance:
    """The web app's Enhance: img2img on a ×1 or ×1.5 copy at one of five levels."""

    SEARCH_ALIASES = (
        "nai enhance",
        "hires fix",
        "img2img upscale",
    )

    DESCRIPTION = (
        "The web app's Enhance: the image is resized here (×1, ×1.5 or ×2, sides rounded to 64; "
        "V5 also Max, enlarged by NovelAI) and redrawn with img2img at level 1-5 (strength/noise "
        "0.2/0, 0.4/0, 0.5/0, 0.6/0, 0.7/0.1) with a new seed; V4.5/V5 add the web app's "
        "'-2::upscaled, blurry::' to the prompt. Costs like an img2img generation: above 1 MP "
        "(e.g. ×1.5 of 832×1216) Opus is no longer free. Connect the prompt the image was made "
        "with."
    )
    CATEGORY = CATEGORY_UPSCALE
    FUNCTION = "enhance"
    RETURN_TYPES = t.GENERATION_RETURN_TYPES
    RETURN_NAMES = t.GENERATION_RETURN_NAMES
    OUTPUT_TOOLTIPS = t.GENERATION_OUTPUT_TOOLTIPS

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                "image": t.socket("IMAGE", t.IMAGE_INPUT_TOOLTIP),
                "prompt": t.socket(t.PROMPT, "The prompt, from a NovelAI Prompt node."),
                "model": widgets.model("NovelAI model."),
                "magnitude": t.combo(
                    (*MAGNITUDES, MAX_MAGNITUDE),
                    "1.5x",
                    "Size of the redrawn copy: ×1, ×1.5, ×2 (within 3 MP), or V5's Max (NovelAI "
                    "enlarges the image itself, for sources under 2.5 MP).",
                ),
                "level": t.integer(
                    "Enhance level 1-5: how much may be redrawn.",
                    3,
                    min(ENHANCE_LEVELS),
                    max(ENHANCE_LEVELS),
                ),
                "seed": widgets.seed("Seed of the img2img pass (the web app draws a new one)."),
                "steps": widgets.steps("Sampling steps (Opus free up to 28 and 1 MP)."),
                "scale": widgets.guidance("Prompt guidance."),
                "sampler": widgets.sampler("Sampler."),
                "spend_guard": widgets.spend_guard(),
                "stream": t.boolean("Stream: live preview and per-step progress.", True),
            },
            "optional": {
                "characters": t.socket(t.CHARACTERS, "Characters (V4+), from NovelAI Character."),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    def enhance(
        self,
        *,
        image: Tensor,
        prompt: Prompt,
        model: str,
        magnitude: str,
        level: int,
        seed: int,
        steps: int,
        scale: float,
        sampler: str,
        spend_guard: str,
        stream: bool,
        characters: tuple[Character, ...] | None = None,
        unique_id: str | None = None,
    ) -> tuple[Tensor, Tensor, int, str]:
        from ..novelai_core.contract.tool_sizes import enhance_size
        from ..novelai_core.models.user import GenerationSettings, Img2ImgSource
        from .generate import build_model, build_request
        from .runtime.comfy_compat import node_id
        from .runtime.generate_run import run_generation
        from .runtime.tool_run import first_image
        from .source import fit_cover

        maximum = magnitude == MAX_MAGNITUDE
        if (magnitude not in MAGNITUDES and not maximum) or level not in ENHANCE_LEVELS:
            from ..novelai_core.errors import InputError

            raise InputError(f"enhance: magnitude {magnitude!r} / level {level} is not offered")
        source = first_image(image)
        source_w, source_h = source.size
        width, height = enhance_size(source_w, source_h, MAGNITUDES.get(magnitude, 1.0))
        strength, noise = ENHANCE_LEVELS[level]
        settings = build_model(
            GenerationSettings,
            width=width,
            height=height,
            steps=steps,
            scale=scale,
            sampler=sampler,
            seed=seed,
        )
        request = build_request(
            model,
            prompt,
            settings,
            characters=characters,
            source=Img2ImgSource(
                image=fit_cover(source, width, height),
                strength=strength,
                noise=noise,
                enhance=True,
                upscaled_enhance=maximum,
            ),
        )
        return run_generation(request, guard=spend_guard, stream=stream, node_id=node_id(unique_id))
