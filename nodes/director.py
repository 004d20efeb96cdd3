"""Director tools nodes (/ai/augment-image): background removal, line art, sketch, colorize,
emotion and declutter.

Each node sends the FIRST image of its batch, resized the way the web app does
(``tool_sizes.director_size``: into 1,011,712 … 3,143,728 px, aspect kept), so the cost matches
the website's: a V3 image at 28 steps for that size, free on Opus at ≤ 1 MP, except background
removal (3× + 5, never free). The estimate for the account's tier goes through the shared spend
guard before anything is sent. Outputs come back at the size NovelAI answers with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple, TypedDict

from ..novelai_core.contract.constants import EMOTIONS
from ..novelai_core.contract.cost import augment_cost
from .runtime import schema as t
from .runtime import widgets
from .runtime.async_node import awaits_novelai
from .runtime.spend_guard import FREE_ONLY, smallest_admitting

if TYPE_CHECKING:
    from collections.abc import Callable

    from torch import Tensor
    from typing_extensions import Unpack

    from ..novelai_core.client import NovelAIClient
    from ..novelai_core.results import GenerationResult
    from ..novelai_core.transport.http_transport import WaitCallback

CATEGORY_DIRECTOR: Final = "NovelAI/director tools"
DEFRY_MAX: Final = 5


class ToolOptions(TypedDict, total=False):
    """The options some tools take (``NovelAIClient.augment``'s keywords)."""

    prompt: str
    defry: int
    emotion: str
    emotion_extra: str


class ToolImage(NamedTuple):
    """One image a Director tool sent back: the IMAGE and its transparency as a MASK."""

    image: Tensor
    mask: Tensor


def _defry(tooltip: str) -> t.InputSpec:
    return t.integer(tooltip, 0, 0, DEFRY_MAX)


# The tools as the web app labels them (and as node texts and refusals name them).
TOOL_LABELS: Final = {
    "bg-removal": "Remove Background",
    "lineart": "Line Art",
    "sketch": "Sketch",
    "colorize": "Colorize",
    "emotion": "Emotion",
    "declutter": "Declutter",
    "declutter-keep-bubbles": "Declutter",
}


def augment(
    tool: str, image: Tensor, guard: str, unique_id: str | None, **options: Unpack[ToolOptions]
) -> list[ToolImage]:
    """Send the first image of ``image`` to one Director tool; the images it sent back."""
    from ..novelai_core.contract.constants import PATH_AUGMENT
    from ..novelai_core.contract.tool_sizes import director_size
    from ..novelai_core.converter.tool_bodies import build_augment_request
    from .runtime.comfy_compat import node_id
    from .runtime.tensors import images_to_tensors
    from .runtime.tool_run import ToolJob, first_image, run_paid_tool

    source = first_image(image)
    width, height = director_size(*source.size)
    if source.size != (width, height):
        from PIL import Image

        source = source.resize((width, height), Image.Resampling.LANCZOS)

    def send(
        client: NovelAIClient, cancel: Callable[[], bool], on_wait: WaitCallback
    ) -> GenerationResult:
        return client.augment(tool, source, cancel=cancel, on_wait=on_wait, **options)

    job = ToolJob(
        name=TOOL_LABELS.get(tool, tool),
        cost=lambda tier: augment_cost(tool, width, height, tier=tier),
        endpoint=PATH_AUGMENT,
        body=lambda: build_augment_request(tool, source, **options),
        call=send,
    )
    result = run_paid_tool(job, guard=guard, node_id=node_id(unique_id))
    return [ToolImage(*images_to_tensors([img.image])) for img in result.images]


class _DirectorTool:
    """Shared shape of the one-image tools: image, options and spend guard in, one IMAGE out."""

    TOOL: ClassVar[str]
    GUARD: ClassVar[str] = FREE_ONLY  # the spend guard's default
    CATEGORY = CATEGORY_DIRECTOR
    FUNCTION = "run"
    RETURN_TYPES: tuple[str, ...] = ("IMAGE",)
    RETURN_NAMES: tuple[str, ...] = ("image",)
    OUTPUT_TOOLTIPS: tuple[str, ...] = ("NovelAI's result, at the size NovelAI sent it.",)

    @classmethod
    def _required(cls) -> dict[str, t.InputSpec]:
        return {"image": t.socket("IMAGE", t.IMAGE_INPUT_TOOLTIP)}

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {
                **cls._required(),
                "spend_guard": widgets.spend_guard(default=cls.GUARD),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }


class _ImageOnlyTool(_DirectorTool):
    """A tool with no options of its own (each tool with options defines its own ``run``)."""

    def run(
        self, *, image: Tensor, spend_guard: str, unique_id: str | None = None
    ) -> tuple[Tensor, ...]:
        return (augment(self.TOOL, image, spend_guard, unique_id)[0].image,)


@awaits_novelai(one_at_a_time=True)
class NovelAILineArt(_ImageOnlyTool):
    """Director tool: line art."""

    TOOL = "lineart"
    DESCRIPTION = (
        "NovelAI Director tool 'Line Art': turns the image into clean line art. The image is "
        "sent at the web app's size (about 1 MP or more); free on Opus up to 1 MP."
    )


@awaits_novelai(one_at_a_time=True)
class NovelAISketch(_ImageOnlyTool):
    """Director tool: sketch."""

    TOOL = "sketch"
    DESCRIPTION = (
        "NovelAI Director tool 'Sketch': turns the image into a rough pencil sketch. Sent at "
        "the web app's size (about 1 MP or more); free on Opus up to 1 MP."
    )


@awaits_novelai(one_at_a_time=True)
class NovelAIDeclutter(_DirectorTool):
    """Director tool: declutter (optionally keeping speech bubbles)."""

    TOOL = "declutter"
    DESCRIPTION = (
        "NovelAI Director tool 'Declutter': removes text, speech bubbles and clutter. With "
        "keep_speech_bubbles on, bubbles stay (the 'declutter-keep-bubbles' tool). Free on Opus "
        "up to 1 MP."
    )

    @classmethod
    def _required(cls) -> dict[str, t.InputSpec]:
        return {
            **super()._required(),
            "keep_speech_bubbles": t.boolean(
                "Keep speech bubbles (NovelAI's 'declutter-keep-bubbles' tool).", False
            ),
        }

    def run(
        self,
        *,
        image: Tensor,
        keep_speech_bubbles: bool,
        spend_guard: str,
        unique_id: str | None = None,
    ) -> tuple[Tensor]:
        tool = "declutter-keep-bubbles" if keep_speech_bubbles else "declutter"
        return (augment(tool, image, spend_guard, unique_id)[0].image,)


@awaits_novelai(one_at_a_time=True)
class NovelAIColorize(_DirectorTool):
    """Director tool: colorize, guided by an optional prompt."""

    TOOL = "colorize"
    DESCRIPTION = (
        "NovelAI Director tool 'Colorize': colours a sketch or line art, guided by an optional "
        "prompt (e.g. 'red hair, blue dress'). defry 0 follows the prompt most; 5 least. Free "
        "on Opus up to 1 MP."
    )

    @classmethod
    def _required(cls) -> dict[str, t.InputSpec]:
        return {
            **super()._required(),
            "prompt": t.text("Optional colours and details to aim for, as tags."),
            "defry": _defry("0..5: how strongly the result departs from the source (0 = most)."),
        }

    def run(
        self,
        *,
        image: Tensor,
        prompt: str,
        defry: int,
        spend_guard: str,
        unique_id: str | None = None,
    ) -> tuple[Tensor]:
        outputs = augment(self.TOOL, image, spend_guard, unique_id, prompt=prompt, defry=defry)
        return (outputs[0].image,)


@awaits_novelai(one_at_a_time=True)
class NovelAIEmotion(_DirectorTool):
    """Director tool: change the facial expression."""

    TOOL = "emotion"
    DESCRIPTION = (
        "NovelAI Director tool 'Emotion': changes a character's expression to one of NovelAI's "
        "24 emotions. level is the web app's Emotion Level, sent as 'defry': 0 = strongest "
        "change … 5 = weakest. An optional extra prompt refines it. Free on Opus up to 1 MP."
    )

    @classmethod
    def _required(cls) -> dict[str, t.InputSpec]:
        return {
            **super()._required(),
            "emotion": t.combo(EMOTIONS, "happy", "The expression to give the character."),
            # The web app's six Emotion Levels are the wire's defry 0..5 (0 = strongest).
            "level": _defry("Emotion Level 0..5 (NovelAI's defry): 0 = strongest, 5 = weakest."),
            "extra_prompt": t.text("Optional tags added after the emotion (e.g. 'tears')."),
        }

    def run(
        self,
        *,
        image: Tensor,
        emotion: str,
        level: int,
        extra_prompt: str,
        spend_guard: str,
        unique_id: str | None = None,
    ) -> tuple[Tensor]:
        outputs = augment(
            self.TOOL,
            image,
            spend_guard,
            unique_id,
            emotion=emotion,
            emotion_extra=extra_prompt,
            defry=level,
        )
        return (outputs[0].image,)


@awaits_novelai(one_at_a_time=True)
class NovelAIRemoveBackground(_ImageOnlyTool):
    """Director tool: background removal; three images and the subject's mask."""

    SEARCH_ALIASES = (
        "nai remove background",
        "background removal",
        "bg removal",
        "cutout",
        "transparent",
    )

    TOOL = "bg-removal"
    # Never free: 3× a 1 MP image + 5 Anlas; the guard admits that by default.
    GUARD = smallest_admitting(augment_cost(TOOL, 832, 1216))
    DESCRIPTION = (
        "NovelAI Director tool 'Remove Background'. Outputs: the subject on a removed "
        "background (its transparency as the MASK), the generated background, and the blend. "
        "Never free: about 65 Anlas for a 1 MP image (3× the image + 5), so its spend guard "
        "starts at 'up to 100 Anlas'."
    )
    RETURN_TYPES = ("IMAGE", "IMAGE", "IMAGE", "MASK")
    RETURN_NAMES = ("masked", "generated", "blend", "mask")
    OUTPUT_TOOLTIPS = (
        "The subject (colour); where the background was is given by the mask.",
        "The background NovelAI generated.",
        "The subject blended onto the generated background.",
        "Background mask: 1 = removed background (transparent), 0 = subject; like LoadImage.",
    )

    def run(  # the base's signature; four outputs instead of one
        self, *, image: Tensor, spend_guard: str, unique_id: str | None = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        from ..novelai_core.errors import DecodeError

        outputs = augment(self.TOOL, image, spend_guard, unique_id)
        if len(outputs) != 3:
            raise DecodeError(f"NovelAI Remove Background sent {len(outputs)} images, not 3")
        (masked, mask), (generated, _), (blend, _) = outputs
        return masked, generated, blend, mask
