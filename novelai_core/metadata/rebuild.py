"""A NovelAI image's metadata → the GenerationRequest that makes the same image again.

The CLI (``generate --from FILE``) and the Load NovelAI PNG node both rebuild through here, so
what one regenerates the other does too. What the metadata cannot hold comes from the caller:
the img2img/inpaint source (and mask), the vibes' pictures or encodings and the character
references' pictures; their recorded settings (strengths, information extracted, fidelity,
mode) replace the ones the caller's objects carry.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InputError
from ..models.user import (
    Character,
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    ImageInput,
    Img2ImgSource,
    InpaintSource,
    Prompt,
    Vibe,
)
from .params import GenerationParameters


def rebuilt_prompt(params: GenerationParameters) -> Prompt:
    """The prompt as typed plus the presets that completed it (texts whole when unknown)."""
    if params.quality_tags is None:
        return Prompt(
            text=params.prompt or "", negative=params.negative or "", quality=False,
            uc_preset="none",
        )  # fmt: skip
    return Prompt(
        text=params.user_prompt or "",
        negative=params.user_negative or "",
        quality=params.quality_tags,
        quality_preset=params.quality_preset,
        uc_preset=params.uc_preset or "none",
    )


def rebuilt_characters(params: GenerationParameters) -> tuple[Character, ...]:
    return tuple(Character(prompt=c.prompt, uc=c.uc, position=c.center) for c in params.characters)


def rebuilt_settings(params: GenerationParameters, width: int, height: int) -> GenerationSettings:
    """Canvas and sampling settings; the seed is the recorded one (one image: this one)."""
    return GenerationSettings(
        width=params.width or width,
        height=params.height or height,
        steps=params.steps,
        scale=params.scale,
        sampler=params.sampler,
        noise_schedule=params.noise_schedule,
        cfg_rescale=params.cfg_rescale or 0.0,
        seed=params.seed,
        smea=params.smea,
        smea_dyn=params.smea_dyn,
        decrisper=params.decrisper,
        variety=params.variety,
        transparent_background=params.transparent_background or None,
    )


def _source(
    params: GenerationParameters, image: ImageInput | None, mask: ImageInput | None
) -> Img2ImgSource | InpaintSource | None:
    if params.action not in ("img2img", "infill"):
        return None
    if image is None or (params.action == "infill" and mask is None):
        needs = "source image" + (" and mask" if params.action == "infill" else "")
        raise InputError(
            f"the image was made by {params.action}; its {needs} are not in the metadata: "
            "give them to regenerate it"
        )
    extra: dict[str, float] = {}
    if params.strength is not None:
        extra["strength"] = params.strength
    if params.noise is not None:
        extra["noise"] = params.noise
    if params.action == "infill":
        assert mask is not None
        return InpaintSource(image=image, mask=mask, **extra)
    return Img2ImgSource(image=image, **extra)


def _vibes(params: GenerationParameters, given: Sequence[Vibe]) -> tuple[Vibe, ...]:
    if len(given) != len(params.vibes):
        raise InputError(
            f"the image used {len(params.vibes)} vibe(s) and {len(given)} were given; their "
            "pictures or encodings are not in the metadata: give one per recorded vibe, in order"
        )
    out = []
    for vibe, recorded in zip(given, params.vibes, strict=True):
        update: dict[str, float] = {"strength": recorded.strength}
        if recorded.information_extracted is not None:
            update["information_extracted"] = recorded.information_extracted
        out.append(vibe.model_copy(update=update))
    return tuple(out)


def _references(
    params: GenerationParameters, given: Sequence[ImageInput]
) -> tuple[CharacterReference, ...]:
    if len(given) != len(params.character_references):
        raise InputError(
            f"the image used {len(params.character_references)} character reference(s) and "
            f"{len(given)} picture(s) were given; the pictures are not in the metadata: give "
            "one per recorded reference, in order"
        )
    return tuple(
        CharacterReference.model_validate(
            {"image": image, "mode": ref.mode, "strength": ref.strength, "fidelity": ref.fidelity}
        )
        for image, ref in zip(given, params.character_references, strict=True)
    )


def rebuild_request(
    params: GenerationParameters,
    *,
    image: ImageInput | None = None,
    mask: ImageInput | None = None,
    vibes: Sequence[Vibe] = (),
    reference_images: Sequence[ImageInput] = (),
) -> GenerationRequest:
    """The request that regenerates the image; InputError naming what is missing."""
    if params.model is None:
        known = f" (Source {params.source!r})" if params.source else ""
        candidates = params.model_candidates
        maybe = f"; it may be {' or '.join(candidates)}" if candidates else ""
        raise InputError(f"the metadata does not say which model made the image{known}{maybe}")
    if params.seed is None or params.width is None or params.height is None:
        raise InputError("the metadata has no seed or size: it records no generation to rebuild")
    return GenerationRequest(
        model=params.model,
        prompt=rebuilt_prompt(params),
        settings=rebuilt_settings(params, params.width, params.height),
        characters=rebuilt_characters(params),
        source=_source(params, image, mask),
        vibes=_vibes(params, vibes),
        character_references=_references(params, reference_images),
    )
