"""ComfyUI core nodes used by the example workflows: their inputs as ComfyUI declares them, and
stand-ins that let the harness run a graph through them.

The declarations follow ComfyUI's nodes.py and comfy_extras/nodes_upscale_model.py (names,
types, order, which inputs are widgets; Comfy-Org/ComfyUI, 2025-10). Combo options list only
the standard model files the examples name. The stand-ins do no real work: they hand on
tensors of the right kind, so the NovelAI nodes downstream get what a real run would give them.
"""

from __future__ import annotations

from typing import Any, Final

import torch

CHECKPOINT: Final = "v1-5-pruned-emaonly-fp16.safetensors"  # ComfyUI's default workflow
UPSCALE_MODEL: Final = "RealESRGAN_x4plus_anime_6B.pth"  # Real-ESRGAN's anime 4x model
SAMPLERS: Final = ["euler", "euler_ancestral", "dpmpp_2m"]
SCHEDULERS: Final = ["normal", "karras"]
_INT = ("INT", {"default": 512})


def _node(inputs: dict[str, Any], outputs: tuple[str, ...]) -> type:
    """A class with ComfyUI's INPUT_TYPES / RETURN_TYPES shape (``widget_names`` reads it)."""
    return type(
        "CoreNode",
        (),
        {
            "INPUT_TYPES": classmethod(lambda cls: {"required": inputs}),
            "RETURN_TYPES": outputs,
        },
    )


class SaveImage:
    """ComfyUI's SaveImage as its node definition declares it (inputs, output node)."""

    RETURN_TYPES = ()
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {"images": ("IMAGE",), "filename_prefix": ("STRING", {"default": "x"})},
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }


class PreviewImage(SaveImage):
    """ComfyUI's PreviewImage (a SaveImage there too): images only."""

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's name
        return {
            "required": {"images": ("IMAGE",)},
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }


CORE_NODES: Final[dict[str, type]] = {
    "CheckpointLoaderSimple": _node({"ckpt_name": ([CHECKPOINT],)}, ("MODEL", "CLIP", "VAE")),
    "CLIPTextEncode": _node(
        {"text": ("STRING", {"multiline": True}), "clip": ("CLIP",)}, ("CONDITIONING",)
    ),
    "EmptyLatentImage": _node({"width": _INT, "height": _INT, "batch_size": _INT}, ("LATENT",)),
    "KSampler": _node(
        {
            "model": ("MODEL",),
            "seed": ("INT", {"default": 0, "control_after_generate": True}),
            "steps": ("INT", {"default": 20}),
            "cfg": ("FLOAT", {"default": 8.0}),
            "sampler_name": (SAMPLERS,),
            "scheduler": (SCHEDULERS,),
            "positive": ("CONDITIONING",),
            "negative": ("CONDITIONING",),
            "latent_image": ("LATENT",),
            "denoise": ("FLOAT", {"default": 1.0}),
        },
        ("LATENT",),
    ),
    "VAEDecode": _node({"samples": ("LATENT",), "vae": ("VAE",)}, ("IMAGE",)),
    "UpscaleModelLoader": _node({"model_name": ([UPSCALE_MODEL],)}, ("UPSCALE_MODEL",)),
    "ImageUpscaleWithModel": _node(
        {"upscale_model": ("UPSCALE_MODEL",), "image": ("IMAGE",)}, ("IMAGE",)
    ),
    "SaveImage": SaveImage,
    "PreviewImage": PreviewImage,
}


def _picture(width: int, height: int) -> torch.Tensor:
    ys = torch.linspace(0, 1, height)[:, None].expand(height, width)
    xs = torch.linspace(0, 1, width)[None, :].expand(height, width)
    return torch.stack([xs, ys, (xs + ys) / 2], dim=-1)[None].contiguous()


def _upscaled(*, image: torch.Tensor, **_: Any) -> tuple[torch.Tensor]:
    return (image.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2),)


STAND_INS: Final[dict[str, Any]] = {
    "CheckpointLoaderSimple": lambda **_: ("model", "clip", "vae"),
    "CLIPTextEncode": lambda **_: ("conditioning",),
    "EmptyLatentImage": lambda **_: ({"samples": torch.zeros(1, 4, 64, 64)},),
    "KSampler": lambda *, latent_image, **_: (latent_image,),
    "VAEDecode": lambda **_: (_picture(512, 512),),  # a 64×64 latent decodes to 512×512
    "UpscaleModelLoader": lambda **_: ("upscale model",),
    "ImageUpscaleWithModel": _upscaled,  # 2× by repetition: a real model does 4×
}
