"""The client's one-call endpoints: encode-vibe, Director tools (augment), upscale, suggest-tags."""

from __future__ import annotations

from .client_base import ClientBase
from .contract.constants import PATH_AUGMENT, PATH_ENCODE_VIBE, PATH_SUGGEST_TAGS, PATH_UPSCALE
from .contract.cost import VIBE_ENCODE_COST, augment_cost, upscale_cost
from .converter.generation import (
    build_augment_request,
    build_encode_vibe_request,
    build_upscale_request,
)
from .converter.images import ImageInput, image_size
from .errors import DecodeError
from .models.wire import SuggestTagsResponse
from .results import GenerationResult, TagSuggestion
from .transport.http_transport import CancelCheck, WaitCallback


class ToolMethods(ClientBase):
    """Endpoints answered by one request each; NovelAIClient inherits them."""

    def encode_vibe(
        self,
        image: ImageInput,
        *,
        model: str,
        information_extracted: float,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
    ) -> bytes:
        """POST /ai/encode-vibe (2 Anlas): the opaque encoding for one image and model."""
        body = build_encode_vibe_request(
            image, model=model, information_extracted=information_extracted
        )
        ctx = self._ctx(paid=True, needed=VIBE_ENCODE_COST)
        response = self._send_full("POST", PATH_ENCODE_VIBE, ctx, cancel, on_wait, json=body)
        if not response.body:
            raise DecodeError(
                "NovelAI sent an empty vibe encoding", correlation_id=response.correlation_id
            )
        return response.body

    def augment(
        self,
        tool: str,
        image: ImageInput,
        *,
        prompt: str | None = None,
        defry: int | None = None,
        emotion: str | None = None,
        emotion_extra: str = "",
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
    ) -> GenerationResult:
        """Director tools (/ai/augment-image); bg-removal returns three images."""
        body = build_augment_request(
            tool, image, prompt=prompt, defry=defry, emotion=emotion, emotion_extra=emotion_extra
        )
        ctx = self._ctx(
            paid=True, needed=augment_cost(tool, body["width"], body["height"], tier=self._tier)
        )
        response = self._send_full("POST", PATH_AUGMENT, ctx, cancel, on_wait, json=body)
        return GenerationResult(
            self._unzip(response, None), None, None, None, response.correlation_id
        )

    def upscale(
        self,
        image: ImageInput,
        *,
        cancel: CancelCheck | None = None,
        on_wait: WaitCallback | None = None,
    ) -> GenerationResult:
        """2× upscale (/ai/upscale, 1-4 Anlas, never free); one image."""
        body = build_upscale_request(image)
        ctx = self._ctx(paid=True, needed=upscale_cost(*image_size(image)))
        response = self._send_full("POST", PATH_UPSCALE, ctx, cancel, on_wait, json=body)
        return GenerationResult(
            self._unzip(response, None), None, None, None, response.correlation_id
        )

    def suggest_tags(
        self, prompt: str, *, model: str, lang: str = "en", cancel: CancelCheck | None = None
    ) -> tuple[TagSuggestion, ...]:
        """Tag completions for the last word of ``prompt`` (free)."""
        params = {"model": model, "prompt": prompt, "lang": lang}
        response = self._send_full(
            "GET", PATH_SUGGEST_TAGS, self._ctx(paid=False), cancel, params=params
        )
        wire = SuggestTagsResponse.model_validate(response.json())
        return tuple(TagSuggestion(t.tag, t.count, t.confidence) for t in wire.tags)
