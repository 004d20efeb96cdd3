"""NovelAI Generate node: the one node that talks to NovelAI; the configs in, an IMAGE batch out.

Order of a run: build the request → check it locally (validate_request: nothing NovelAI would
answer with a 500 is sent) → look up the tier → estimate → spend guard → encode vibes (V4+) →
generate (streamed, with progress, preview and Cancel) → tensors. There is deliberately no
IS_CHANGED: re-queueing with a fixed seed must reuse ComfyUI's cache (no request, no Anlas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeVar

from ..novelai_core.contract.capabilities import get_capability
from ..novelai_core.contract.constants import (
    KARRAS,
    MAX_SIDE,
    NOISE_SCHEDULES,
    SIZE_PRESETS,
    SIZE_STEP,
)
from .runtime import comfy_compat, widgets
from .runtime import schema as t
from .runtime.async_node import awaits_novelai
from .runtime.generate_run import run_generation

if TYPE_CHECKING:
    from pydantic import BaseModel
    from torch import Tensor

    from ..novelai_core.models.user import (
        Character,
        CharacterReference,
        GenerationRequest,
        GenerationSettings,
        Img2ImgSource,
        InpaintSource,
        Prompt,
        Vibe,
    )

Model = TypeVar("Model", bound="BaseModel")

CUSTOM_SIZE: Final = "Custom"
SIZE_OPTIONS: Final = (*SIZE_PRESETS, CUSTOM_SIZE)
DEFAULT_SIZE: Final = "Normal Portrait 832x1216"
SMEA_OFF: Final = "off"
SMEA_OPTIONS: Final = (SMEA_OFF, "SMEA", "SMEA+DYN")


def resolve_size(size: str, width: int, height: int) -> tuple[int, int]:
    """The canvas: the preset's size, or width × height for "Custom"."""
    if size == CUSTOM_SIZE:
        return width, height
    if size not in SIZE_PRESETS:
        from ..novelai_core.errors import InputError

        raise InputError(f"size: {size!r} is not a size preset; choose one or {CUSTOM_SIZE!r}")
    return SIZE_PRESETS[size]


def resolve_schedule(model: str, schedule: str) -> str:
    """V5 accepts karras only and the web app sends it whatever was picked: map silently.

    Other unsupported pairs (e.g. native on V4) stay as chosen and validate_request names them.
    """
    allowed = get_capability(model).noise_schedules
    return allowed[0] if len(allowed) == 1 else schedule


def _side(default: int, name: str) -> t.InputSpec:
    return t.integer(
        f"Image {name} in px, a multiple of 64; used when size is 'Custom'.",
        default,
        SIZE_STEP,
        MAX_SIDE,
        step=SIZE_STEP,
    )


@awaits_novelai(one_at_a_time=True)
class NovelAIGenerate:
    """Generates images with NovelAI from the prompt, characters, source and references."""

    # Newer ComfyUI matches these in node search (its node info sends SEARCH_ALIASES; older
    # versions ignore it). The main nodes of the pack have them.
    SEARCH_ALIASES = (
        "nai",
        "novel ai",
        "anime",
        "txt2img",
        "img2img",
        "text to image",
        "image generation",
    )

    DESCRIPTION = (
        "Generates images with NovelAI (V3 to V5). Connect a NovelAI Prompt; optionally "
        "characters, an img2img/inpaint source, vibes or character references. The spend guard "
        "checks the Anlas estimate for your subscription before anything is sent. Streams by "
        "default: the progress bar and live preview follow NovelAI's steps; Cancel stops "
        "waiting at once. The API token comes from NAI_ACCESS_TOKEN or the token file, never "
        "from a widget."
    )
    CATEGORY = t.CATEGORY
    FUNCTION = "generate"
    RETURN_TYPES = t.GENERATION_RETURN_TYPES
    RETURN_NAMES = t.GENERATION_RETURN_NAMES
    OUTPUT_TOOLTIPS = t.GENERATION_OUTPUT_TOOLTIPS

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        # Saved workflows store widget values by position: the groups below keep the order.
        return {
            "required": {
                **_canvas_inputs(),
                **_sampling_inputs(),
                **_run_inputs(),
                **_single_version_inputs(),
            },
            "optional": {
                "characters": t.socket(t.CHARACTERS, "Characters (V4+), from NovelAI Character."),
                "source": t.socket(t.SOURCE, "Start image: NovelAI Img2Img or NovelAI Inpaint."),
                "vibes": t.socket(t.VIBES, "Vibe transfer, from NovelAI Vibe (not with V5)."),
                "character_references": t.socket(
                    t.CHARACTER_REFERENCES,
                    "Character references (V4.5), from NovelAI Character Reference.",
                ),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    def generate(
        self,
        *,
        prompt: Prompt,
        model: str,
        size: str,
        width: int,
        height: int,
        seed: int,
        steps: int,
        scale: float,
        sampler: str,
        noise_schedule: str,
        cfg_rescale: float,
        variety: bool,
        samples: int,
        spend_guard: str,
        stream: bool,
        smea: str,
        decrisper: bool,
        transparent_background: bool,
        characters: tuple[Character, ...] | None = None,
        source: Img2ImgSource | InpaintSource | None = None,
        vibes: tuple[Vibe, ...] | None = None,
        character_references: tuple[CharacterReference, ...] | None = None,
        unique_id: str | None = None,
    ) -> tuple[Tensor, Tensor, int, str]:
        from ..novelai_core.models.user import GenerationSettings
        from .source import fit_source

        w, h = resolve_size(size, width, height)
        settings = build_model(
            GenerationSettings,
            width=w,
            height=h,
            steps=steps,
            scale=scale,
            sampler=sampler,
            noise_schedule=resolve_schedule(model, noise_schedule),
            cfg_rescale=cfg_rescale,
            seed=seed,
            n_samples=samples,
            smea=smea != SMEA_OFF,
            smea_dyn=smea == "SMEA+DYN",
            decrisper=decrisper,
            variety=variety,
            transparent_background=transparent_background or None,
        )
        request = build_request(
            model,
            prompt,
            settings,
            characters=characters,
            source=fit_source(source, w, h) if source is not None else None,
            vibes=vibes,
            character_references=character_references,
        )
        return run_generation(
            request, guard=spend_guard, stream=stream, node_id=comfy_compat.node_id(unique_id)
        )


def _canvas_inputs() -> dict[str, t.InputSpec]:
    return {
        "prompt": t.socket(t.PROMPT, "The prompt, from a NovelAI Prompt node."),
        "model": widgets.model(
            "NovelAI model. Inpainting switches to its inpainting version by itself."
        ),
        "size": t.combo(
            SIZE_OPTIONS,
            DEFAULT_SIZE,
            "The web app's size presets, or 'Custom' for the width and height below. "
            "Above 1024x1024 px Opus is no longer free.",
        ),
        "width": _side(832, "width"),
        "height": _side(1216, "height"),
    }


def _sampling_inputs() -> dict[str, t.InputSpec]:
    from ..novelai_core.models.user import GenerationSettings

    return {
        "seed": widgets.seed(
            "Seed of the first sample (sample i uses seed + i). A fixed seed re-queued "
            "reuses ComfyUI's cache: no new request, no Anlas."
        ),
        "steps": widgets.steps("Sampling steps (web default 23; Opus free up to 28)."),
        "scale": widgets.guidance("Prompt guidance: how strictly the prompt is followed."),
        "sampler": widgets.sampler(
            "Sampler; ddim_v3 is V3 only, V5 Full Medium has Euler ancestral only."
        ),
        "noise_schedule": t.combo(
            NOISE_SCHEDULES,
            KARRAS,
            "Noise schedule; 'native' is V3 only. V5 always uses karras (as the web app).",
        ),
        "cfg_rescale": t.field_widget(
            GenerationSettings, "cfg_rescale", tooltip="Prompt guidance rescale (0 = off)."
        ),
        "variety": t.boolean("Variety+: more varied compositions (V3, V4, V4.5; not V5).", False),
        "samples": t.integer("Images per request (limited by size; each may cost Anlas).", 1, 1, 8),
    }


def _run_inputs() -> dict[str, t.InputSpec]:
    return {
        "spend_guard": widgets.spend_guard(),
        "stream": t.boolean(
            "Stream: live preview and per-step progress. Off: one plain request.", True
        ),
    }


def _single_version_inputs() -> dict[str, t.InputSpec]:
    """Options only one model version has (validate_request refuses them elsewhere)."""
    return {
        "smea": t.combo(SMEA_OPTIONS, SMEA_OFF, "V3 only: SMEA / SMEA+DYN for big images."),
        "decrisper": t.boolean("V3 only: Decrisper (dynamic thresholding).", False),
        "transparent_background": t.boolean(
            "V5 only: transparent background; the alpha comes out as the MASK.", False
        ),
    }


def build_request(
    model: str,
    prompt: Prompt,
    settings: GenerationSettings,
    *,
    characters: tuple[Character, ...] | None = None,
    source: Img2ImgSource | InpaintSource | None = None,
    vibes: tuple[Vibe, ...] | None = None,
    character_references: tuple[CharacterReference, ...] | None = None,
) -> GenerationRequest:
    """The GenerationRequest of a node's inputs; missing chains are empty."""
    from ..novelai_core.models.user import GenerationRequest

    return build_model(
        GenerationRequest,
        model=model,
        prompt=prompt,
        settings=settings,
        characters=tuple(characters or ()),
        source=source,
        vibes=tuple(vibes or ()),
        character_references=tuple(character_references or ()),
    )


def build_model(model_class: type[Model], **fields: object) -> Model:
    """Construct a user model; pydantic's errors become the SDK's readable InputError."""
    from pydantic import ValidationError

    from ..novelai_core.errors import InputError
    from .runtime.wording import widget_label

    try:
        return model_class(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{widget_label(str(err['loc'][-1])) if err['loc'] else 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InputError(f"NovelAI settings: {problems}") from None
