"""Bridges the client's stream callbacks to ComfyUI: progress bar, live preview, text, Cancel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import comfy_compat
from .tensors import decode_image

if TYPE_CHECKING:
    from ...novelai_core.results import Preview

_log = logging.getLogger(__name__)

WAITING_TEXT = "waiting for NovelAI (another generation is running)"


class GenerationProgress:
    """Per-run progress state: advances ComfyUI's bar one tick per streamed step.

    Samples stream interleaved; the shared StepCounter turns previews into steps done.
    """

    def __init__(self, *, steps: int, samples: int, node_id: str | None, cost_text: str) -> None:
        from ...novelai_core.results import StepCounter

        self.counter = StepCounter(steps, samples)
        self.total = self.counter.total
        self.node_id = node_id
        self.cost_text = cost_text
        self._bar = comfy_compat.progress_bar(self.total, node_id)
        self._preview_size = comfy_compat.preview_size()

    @property
    def value(self) -> int:
        return self.counter.done

    def start(self) -> None:
        self.text(f"NovelAI: estimated cost {self.cost_text}")

    def text(self, message: str) -> None:
        comfy_compat.send_progress_text(message, self.node_id)

    def on_preview(self, preview: Preview) -> None:
        """One intermediate image: advance the bar and show the JPEG as the node's preview."""
        self.counter.see(int(preview.sample), int(preview.step))
        if self._bar is None:
            return
        image = None
        try:
            image = decode_image(preview.jpeg)
        except Exception:  # a broken preview frame must not fail the generation
            _log.debug("could not decode a NovelAI preview", exc_info=True)
        preview_arg = ("JPEG", image, self._preview_size) if image is not None else None
        self._bar.update_absolute(self.value, self.total, preview_arg)

    def on_wait(self, attempt: int, delay: float, reason: str) -> None:
        """The client waits (429: one generation at a time per account): say so under the node."""
        self.text(
            f"NovelAI: {reason or WAITING_TEXT} (try {attempt + 1} in {delay:.0f} s); "
            f"estimated cost {self.cost_text}"
        )

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.update_absolute(self.total, self.total, None)
        self.text(f"NovelAI: done ({self.cost_text})")

    @staticmethod
    def cancelled() -> bool:
        """The client's cancel hook: ComfyUI's Cancel button."""
        return comfy_compat.processing_interrupted()
