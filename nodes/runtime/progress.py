"""Bridges the client's stream callbacks to ComfyUI: progress bar, live preview, text, Cancel.

Every paid run ends with one final state under the node (``FINAL_STATES``): done (with the
Anlas), answered from the recent-results store, failed (one line) or cancelled (with the
charge warning), so no "waiting …" or estimate is left over from an earlier moment.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from . import comfy_compat
from .tensors import decode_image

if TYPE_CHECKING:
    from ...novelai_core.results import Preview

_log = logging.getLogger(__name__)

STORED_TEXT: Final = "Answered from the recent-results store, nothing sent: no Anlas spent."
CANCELLED_UNSENT_TEXT: Final = "Cancelled before anything was sent: no Anlas spent."
CANCELLED_SENT_TEXT: Final = (
    "Cancelled. NovelAI may still finish the request and charge for it ({cost}). "
    "The last preview is not a result."
)
CANCELLED_FREE_TEXT: Final = (
    "Cancelled. The request was free: nothing is charged. The last preview is not a result."
)
# The texts a run can end with, for the docs and the translation files.
FINAL_STATES: Final = (
    "Done: {cost}.",
    "Done: {cost}. Fit to free: {reductions}.",
    STORED_TEXT,
    "Failed: {message}",
    CANCELLED_UNSENT_TEXT,
    CANCELLED_SENT_TEXT,
    CANCELLED_FREE_TEXT,
)
MAX_FAILURE_CHARS: Final = 300


def failed_text(message: str) -> str:
    """A node's final state after an error: "Failed: " and the error's first line, shortened."""
    line = (message.strip().splitlines() or ["unknown error; see ComfyUI's log"])[0]
    if len(line) > MAX_FAILURE_CHARS:
        line = line[: MAX_FAILURE_CHARS - 1] + "…"
    return f"Failed: {line}"


def cost_text(total: int) -> str:
    """An estimate as the node shows it: "free" or "about N Anlas"."""
    return "free" if total == 0 else f"about {total} Anlas"


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
        self._bar: Any | None = None  # made by start(): a run answered from the store has none
        self._preview_size = comfy_compat.preview_size()

    @property
    def value(self) -> int:
        return self.counter.done

    def start(self) -> None:
        self._bar = comfy_compat.progress_bar(self.total, self.node_id)
        self.text(f"Sending to NovelAI: {self.cost_text}.")

    def text(self, message: str) -> None:
        comfy_compat.send_progress_text(message, self.node_id)

    def on_preview(self, preview: Preview) -> None:
        """One intermediate image: advance the bar and show the JPEG as the node's preview.

        ComfyUI's progress hook raises its own interrupt exception when Cancel was pressed. It
        becomes the SDK's CancelledError here, so the client hands over the images that had
        already arrived (maybe paid) and the run saves them, as for any other failure.
        """
        from ...novelai_core.errors import CancelledError

        self.counter.see(int(preview.sample), int(preview.step))
        if self._bar is None:
            return
        image = None
        try:
            image = decode_image(preview.jpeg)
        except Exception:  # a broken preview frame must not fail the generation
            _log.debug("could not decode a NovelAI preview", exc_info=True)
        preview_arg = ("JPEG", image, self._preview_size) if image is not None else None
        try:
            self._bar.update_absolute(self.value, self.total, preview_arg)
        except Exception as exc:
            if not comfy_compat.is_interrupt(exc):
                raise
            raise CancelledError("NovelAI: cancelled while receiving the images") from exc

    def on_wait(self, attempt: int, delay: float, reason: str) -> None:
        """The client waits (429 or a failed connect) before another try: say what for."""
        cost = f" Cost: {self.cost_text}." if self.cost_text else ""
        self.text(f"Waiting: {reason}; trying again in {delay:.0f} s (try {attempt + 1}).{cost}")

    def finish(self, note: str = "") -> None:
        """Final state: done, with the Anlas the estimate gave (and what fit to free reduced)."""
        if self._bar is not None:
            self._bar.update_absolute(self.total, self.total, None)
        self.text(f"Done: {self.cost_text}." + (f" Fit to free: {note}." if note else ""))

    def stored(self) -> None:
        """Final state: the same request was answered before and its images are reused."""
        self.text(STORED_TEXT)

    def failed(self, message: str) -> None:
        """Final state: the error's first line (ComfyUI's dialog shows all of it)."""
        self.text(failed_text(message))

    def was_cancelled(self, *, sent: bool, saved: str = "") -> None:
        """Final state after Cancel; once sent, NovelAI may still finish and charge.

        ``saved`` says where images that had already arrived were written.
        """
        if not sent:
            text = CANCELLED_UNSENT_TEXT
        elif self.cost_text == cost_text(0):
            text = CANCELLED_FREE_TEXT
        else:
            text = CANCELLED_SENT_TEXT.format(cost=self.cost_text)
        self.text(f"{text} {saved}" if saved else text)

    @staticmethod
    def cancelled() -> bool:
        """The client's cancel hook: ComfyUI's Cancel button."""
        return comfy_compat.processing_interrupted()
