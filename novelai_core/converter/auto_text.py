"""V5's automatic text: quoted strings of the prompt are appended as ``, teXt: …`` (R4).

The web app runs this as the last step of prompt building on models whose capability row has
``auto_text``. Sources (``shared/novelai-api-2026.md`` R4): three bundle ports (Q1, Q3 ×2) and a
capture-pinned test (Q4) agree on the steps; the quote set, the reading order and the CJK rule
are Medium (Q2, another port, recognises fewer quotes and has no reading order; single-section
Latin prompts with straight double quotes give the same text under both).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from .prompting import split_sections, trim_tail

# A `text:` section anywhere (`text::` is a weight, not a section).
_TEXT_SECTION: Final = re.compile(r"(?:^|\s|[,.:\[\]{}、。])text:(?!:)", re.IGNORECASE)
_QUOTES: Final = {'"': '"', "\u201c": "\u201d", "\u300c": "\u300d", "\u2018": "\u2019", "'": "'"}
_APOSTROPHES: Final = ("'", "\u2019")
_ROW_GAP: Final = 0.1
_ROW_SPAN: Final = 0.15
_CJK_SHARE: Final = 0.3
_CJK_RANGES: Final = (
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana
)

Placed = tuple[str, float, float]  # (character prompt, x, y)


def has_text_section(text: str) -> bool:
    return _TEXT_SECTION.search(text) is not None


def _opens(text: str, index: int) -> bool:
    """A straight ``'`` opens a quote only at the start or after whitespace, comma, full stop."""
    if text[index] != "'" or index == 0:
        return True
    before = text[index - 1]
    return before.isspace() or before in ",."


def _closing(text: str, start: int, close: str) -> int:
    """Index of the closing quote; a closing ``'``/``’`` followed by a letter or digit is an
    apostrophe (``don't``) and is skipped. -1 if there is none."""
    index = start
    while (index := text.find(close, index)) >= 0:
        after = text[index + 1 : index + 2]
        if close in _APOSTROPHES and after.isalnum():
            index += 1
            continue
        return index
    return -1


def quoted_strings(text: str) -> list[str]:
    """The trimmed, non-empty strings inside the quote pairs of ``text``, in order."""
    found: list[str] = []
    index = 0
    while index < len(text):
        close = _QUOTES.get(text[index])
        if close is None or not _opens(text, index):
            index += 1
            continue
        end = _closing(text, index + 1, close)
        if end < 0:
            index += 1
            continue
        inner = text[index + 1 : end].strip()
        if inner:
            found.append(inner)
        index = end + 1
    return found


def reading_order(characters: Sequence[Placed]) -> list[str]:
    """Prompts sorted into rows by y (a new row when the gap to the previous character exceeds
    0.1 or the row would span more than 0.15), each row left to right."""
    rows: list[list[Placed]] = []
    for placed in sorted(characters, key=lambda c: c[2]):
        row = rows[-1] if rows else None
        if row is None or placed[2] - row[-1][2] > _ROW_GAP or placed[2] - row[0][2] > _ROW_SPAN:
            rows.append([placed])
        else:
            row.append(placed)
    return [prompt for row in rows for prompt, _, _ in sorted(row, key=lambda c: c[1])]


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def with_auto_text(prompt: str, characters: Sequence[Placed], use_coords: bool) -> str:
    """``prompt`` with ``, teXt: <strings>`` appended to its first ``|`` section, or unchanged.

    ``characters`` are the enabled, non-empty character prompts with their centres; they are
    sources of strings only (their captions are not changed).
    """
    if has_text_section(prompt) or any(has_text_section(c[0]) for c in characters):
        return prompt
    sections = split_sections(prompt)
    ordered = reading_order(characters) if use_coords else [c[0] for c in characters]
    groups = [quoted_strings(sections[0]), *(quoted_strings(p) for p in ordered)]
    gathered = "".join(s for group in groups for s in group)
    if not gathered:
        return prompt
    letters = [ch for ch in gathered if not ch.isspace()]
    if sum(map(_is_cjk, letters)) > _CJK_SHARE * len(letters):
        groups = [group[::-1] for group in groups]
    strings = [s for group in groups for s in group]
    head = sections[0]
    tail_space = head[len(head.rstrip()) :] if len(sections) > 1 else ""
    sections[0] = trim_tail(head) + ", teXt: " + "\n\n".join(strings) + tail_space
    return "|".join(sections)
