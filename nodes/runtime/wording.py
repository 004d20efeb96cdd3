"""Error text for people in ComfyUI: the SDK's field paths become the widgets' labels.

The SDK names fields as programs see them ("settings.n_samples: …"); a ComfyUI user sees
widgets labelled by their input name with spaces ("samples", "noise schedule"). The exception
keeps its type and data; only its message is reworded.
"""

from __future__ import annotations

import re
from typing import Any, Final

# SDK field → the Generate node's widget, where the names differ.
_FIELD_WIDGETS: Final = {
    "n_samples": "samples",
    "width×height": "width × height",
    "smea_dyn": "smea",
}
_FIELD: Final = re.compile(r"\bsettings\.([A-Za-z_×]+)")


def widget_label(field: str) -> str:
    """How ComfyUI labels the widget for an SDK settings field ("n_samples" → "samples")."""
    return _FIELD_WIDGETS.get(field, field).replace("_", " ")


def for_people(message: str) -> str:
    """``message`` with every "settings.<field>" said as the widget's label."""
    return _FIELD.sub(lambda match: widget_label(match.group(1)), message)


def reword(exc: Any) -> None:
    """Reword a NovelAIError's message in place (its type and data stay for programs)."""
    text = for_people(str(getattr(exc, "message", "")))
    if text != exc.message:
        exc.message = text
        exc.args = (text,)
