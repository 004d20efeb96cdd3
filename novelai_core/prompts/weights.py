"""Prompt weight syntax: ComfyUI/A1111 ``(tag:1.2)`` ↔ NovelAI ``1.2::tag::`` (V4+) or braces (V3).

NovelAI does not understand ``(tag:1.2)``; it reads ``{tag}`` as ×1.05, ``[tag]`` as ÷1.05 and,
on V4 and later, ``1.2::tag::`` as an explicit weight. Weights are flat in NovelAI's numeric form,
so conversion goes through a list of (text, weight) segments.
"""

from __future__ import annotations

import math
import re
from typing import Final

A1111_UP: Final = 1.1
NOVELAI_BRACE: Final = 1.05
_NUMBER = re.compile(r"^\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*$")
_NAI_NUMERIC = re.compile(r"(-?(?:\d+(?:\.\d*)?|\.\d+))::")

Segment = tuple[str, float]


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for text, weight in segments:
        if not text:
            continue
        if merged and math.isclose(merged[-1][1], weight, abs_tol=1e-9):
            merged[-1] = (merged[-1][0] + text, weight)
        else:
            merged.append((text, weight))
    return merged


def _closing_weight(text: str, start: int, openers: str = "([") -> tuple[int, float | None]:
    """Index of the bracket closing the one at ``start``, and its ':w' weight if it has one."""
    closers = openers.replace("(", ")").replace("[", "]")
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in openers:
            depth += 1
        elif ch in closers:
            depth -= 1
            if depth == 0:
                inner = text[start + 1 : i]
                colon = inner.rfind(":")
                if ch == ")" and colon >= 0:
                    match = _NUMBER.match(inner[colon + 1 :])
                    if match:
                        return i, float(match.group(1))
                return i, None
        i += 1
    return len(text), None


def parse_a1111(text: str, *, brackets: bool = True) -> list[Segment]:
    """Segments of an A1111 prompt: ``(x)`` ×1.1, ``[x]`` ÷1.1, ``(x:w)``, escaped literals.

    ``brackets=False`` leaves ``[x]`` as text: it is NovelAI syntax too (÷1.05 there), so a
    prompt mixing both keeps NovelAI's meaning.
    """
    out: list[Segment] = []
    _parse_a1111_into(text, 1.0, out, "([" if brackets else "(")
    return _merge(out)


def _parse_a1111_into(text: str, weight: float, out: list[Segment], openers: str = "([") -> None:
    buf: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
            continue
        if ch in openers:
            end, explicit = _closing_weight(text, i, openers)
            out.append(("".join(buf), weight))
            buf = []
            inner = text[i + 1 : end]
            if explicit is not None:
                inner = inner[: inner.rfind(":")]
                factor = explicit
            else:
                factor = A1111_UP if ch == "(" else 1 / A1111_UP
            _parse_a1111_into(inner, weight * factor, out, openers)
            i = end + 1
            continue
        buf.append(ch)  # includes a stray closer, which A1111 keeps as literal text
        i += 1
    out.append(("".join(buf), weight))


def _format_weight(weight: float) -> str:
    text = f"{weight:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _split_outer_space(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core) :]


def to_novelai(segments: list[Segment], *, numeric: bool) -> str:
    """Render segments in NovelAI syntax: ``w::text::`` when ``numeric`` (V4+), else braces (V3)."""
    parts: list[str] = []
    for text, weight in _merge(segments):
        if math.isclose(weight, 1.0, abs_tol=5e-4):
            parts.append(text)
            continue
        lead, core, trail = _split_outer_space(text)
        if not core:
            parts.append(text)
            continue
        if numeric:
            parts.append(f"{lead}{_format_weight(weight)}::{core}::{trail}")
        else:
            if weight <= 0:
                raise ValueError(f"weight {weight} of {core!r} cannot be written with V3 braces")
            n = round(math.log(weight) / math.log(NOVELAI_BRACE))
            opener, closer = ("{", "}") if n > 0 else ("[", "]")
            parts.append(f"{lead}{opener * abs(n)}{core}{closer * abs(n)}{trail}")
    return "".join(parts)


def a1111_to_novelai(text: str, *, numeric: bool = True, brackets: bool = True) -> str:
    """Convert ``(tag:1.2)``, ``((tag))`` and (unless ``brackets`` is False) ``[tag]``."""
    return to_novelai(parse_a1111(text, brackets=brackets), numeric=numeric)


def parse_novelai(text: str) -> list[Segment]:
    """Segments of a NovelAI prompt: ``{x}`` ×1.05, ``[x]`` ÷1.05, ``w::x::`` (ends at ``::``)."""
    out: list[Segment] = []
    buf: list[str] = []
    weight = 1.0
    numeric: float | None = None
    saved = 1.0
    i = 0
    while i < len(text):
        match = _NAI_NUMERIC.match(text, i) if numeric is None else None
        if match and (i == 0 or not text[i - 1].isalnum()):
            out.append(("".join(buf), weight))
            buf = []
            numeric = float(match.group(1))
            saved = weight
            weight *= numeric
            i = match.end()
            continue
        if numeric is not None and text.startswith("::", i):
            out.append(("".join(buf), weight))
            buf = []
            weight = saved
            numeric = None
            i += 2
            continue
        ch = text[i]
        if ch in "{}[]":
            out.append(("".join(buf), weight))
            buf = []
            weight *= {
                "{": NOVELAI_BRACE,
                "}": 1 / NOVELAI_BRACE,
                "[": 1 / NOVELAI_BRACE,
                "]": NOVELAI_BRACE,
            }[ch]
        else:
            buf.append(ch)
        i += 1
    out.append(("".join(buf), weight))
    return _merge(out)


def _escape_a1111(text: str) -> str:
    return re.sub(r"([()\[\]\\])", r"\\\1", text)


def novelai_to_a1111(text: str) -> str:
    """Convert NovelAI weights back to ``(tag:w)`` with literal brackets escaped."""
    parts: list[str] = []
    for segment, weight in parse_novelai(text):
        escaped = _escape_a1111(segment)
        if math.isclose(weight, 1.0, abs_tol=5e-4):
            parts.append(escaped)
            continue
        lead, core, trail = _split_outer_space(escaped)
        parts.append(f"{lead}({core}:{_format_weight(weight)}){trail}" if core else escaped)
    return "".join(parts)


def strip_weights(text: str) -> str:
    """The prompt text without any NovelAI weight syntax (what tokens are counted on)."""
    return "".join(segment for segment, _ in parse_novelai(text))
