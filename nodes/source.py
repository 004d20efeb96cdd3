"""NovelAI Img2Img and Inpaint nodes → NAI_SOURCE, and fitting a source to the canvas.

Fitting: an image whose size differs from the generation size is scaled to COVER the canvas,
keeping its aspect ratio, and centre-cropped. As best known this is the web app's behaviour
(its crop tool opens centred at the canvas' aspect ratio); it never distorts the image, unlike a
stretch. The mask gets the exact same transform so it stays aligned with the image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .runtime import schema as t
from .runtime.tensors import mask_to_pil, tensor_to_pil

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from ..novelai_core.converter.images import ImageInput
    from ..novelai_core.models.user import Img2ImgSource, InpaintSource

    Source = Img2ImgSource | InpaintSource


def fit_cover(image: Image.Image, width: int, height: int, *, smooth: bool = True) -> Image.Image:
    """``image`` scaled to cover width×height, centre-cropped to exactly that size."""
    from PIL import Image

    if image.size == (width, height):
        return image
    scale = max(width / image.width, height / image.height)
    scaled = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    resample = Image.Resampling.LANCZOS if smooth else Image.Resampling.NEAREST
    resized = image.resize(scaled, resample)
    left = (scaled[0] - width) // 2
    top = (scaled[1] - height) // 2
    return resized.crop((left, top, left + width, top + height))


def fit_source(source: Source, width: int, height: int) -> Source:
    """A copy of ``source`` with its image (and mask) fitted to the canvas; input untouched."""
    from ..novelai_core.converter.images import exact_png
    from ..novelai_core.models.user import InpaintSource

    # Encoded here, once per run: the request is built more than once (its key for the
    # recent-results store, then to send), and a fitted PNG is sent as it is.
    fitted = fit_cover(_pil(source.image), width, height)
    update: dict[str, Any] = {"image": exact_png(fitted, width, height)}
    if isinstance(source, InpaintSource):
        # Smooth resize; the converter then snaps the mask to NovelAI's 8-px blocks.
        update["mask"] = fit_cover(_pil(source.mask), width, height)
    return source.model_copy(update=update)


def _pil(image: ImageInput) -> Image.Image:
    from ..novelai_core.converter.images import to_pil

    return to_pil(image)


class NovelAIImg2Img:
    """Starts the generation from an image."""

    SEARCH_ALIASES = (
        "nai img2img",
        "image to image",
        "init image",
        "variation",
    )

    DESCRIPTION = (
        "Image to image: NovelAI Generate starts from this image instead of noise. An image of "
        "another size is scaled to cover the generation size and centre-cropped."
    )
    CATEGORY = t.CATEGORY_SOURCE
    FUNCTION = "build"
    RETURN_TYPES = (t.SOURCE,)
    RETURN_NAMES = ("source",)
    OUTPUT_TOOLTIPS = ("The img2img source; connect it to NovelAI Generate.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        from ..novelai_core.models.user import Img2ImgSource

        return {
            "required": {
                "image": t.socket("IMAGE", t.IMAGE_INPUT_TOOLTIP),
                "strength": t.field_widget(
                    Img2ImgSource,
                    "strength",
                    tooltip="How much may change: low keeps the image, high repaints it freely.",
                ),
                "noise": t.field_widget(
                    Img2ImgSource,
                    "noise",
                    tooltip="Extra noise added to the image first: more new detail.",
                ),
                "color_correct": t.boolean("Keep the source image's colours.", False),
            }
        }

    def build(
        self, *, image: Tensor, strength: float, noise: float, color_correct: bool
    ) -> tuple[Img2ImgSource]:
        from ..novelai_core.models.user import Img2ImgSource

        source = Img2ImgSource(
            image=tensor_to_pil(image), strength=strength, noise=noise, color_correct=color_correct
        )
        return (source,)


class NovelAIInpaint:
    """Repaints the masked part of an image with the model's inpainting variant."""

    SEARCH_ALIASES = (
        "nai inpaint",
        "inpainting",
        "mask",
        "infill",
    )

    DESCRIPTION = (
        "Inpainting: repaint where the mask is white (1.0) and keep the rest. NovelAI Generate "
        "switches to the model's inpainting version (V5 Curated uses V4.5 Curated's, as the "
        "web app does). Image and mask of another size are scaled to cover the generation size "
        "and centre-cropped; the mask is snapped to NovelAI's 8-pixel blocks. No vibes."
    )
    CATEGORY = t.CATEGORY_SOURCE
    FUNCTION = "build"
    RETURN_TYPES = (t.SOURCE,)
    RETURN_NAMES = ("source",)
    OUTPUT_TOOLTIPS = ("The inpainting source; connect it to NovelAI Generate.",)

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        from ..novelai_core.models.user import InpaintSource

        return {
            "required": {
                "image": t.socket("IMAGE", t.IMAGE_INPUT_TOOLTIP),
                "mask": t.socket(
                    "MASK", "Where to repaint: 1 (white) = repaint, 0 = keep. First of a batch."
                ),
                # The web app's inpaint slider is the model's img2img_strength.
                "strength": t.field_widget(
                    InpaintSource,
                    "img2img_strength",
                    tooltip="The web app's inpaint strength: 1 repaints the masked area freely, "
                    "lower values keep more of what is there.",
                ),
                "noise": t.field_widget(
                    InpaintSource, "noise", tooltip="Extra noise added first: more new detail."
                ),
                "add_original_image": t.boolean(
                    "Paste the original back outside the mask (hard seams, exact pixels).", False
                ),
            }
        }

    def build(
        self,
        *,
        image: Tensor,
        mask: Tensor,
        strength: float,
        noise: float,
        add_original_image: bool,
    ) -> tuple[InpaintSource]:
        from ..novelai_core.models.user import InpaintSource

        source = InpaintSource(
            image=tensor_to_pil(image),
            mask=mask_to_pil(mask),
            img2img_strength=strength,
            noise=noise,
            add_original_image=add_original_image,
        )
        return (source,)
