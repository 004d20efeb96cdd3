"""Prompt token counts against the model's limit: a real tokenizer when one is on disk, else an
estimate that says it is one.

NovelAI counts V4/V4.5 prompts with T5's tokenizer (512), V3 with CLIP's (225) and V5 with a
Qwen-family one (capability table: ``tokenizer``, ``prompt_token_limit``). No vocabulary ships
with this pack. Inside ComfyUI the tokenizer files ComfyUI itself ships are used (the caller
passes ComfyUI's package folder as a search root) and read with the ``tokenizers`` package
ComfyUI installs. Anything else gets a heuristic count, labelled "estimate" — never shown as
exact. Weight syntax is stripped before counting, as NovelAI does.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..contract.capabilities import UnknownModelError, get_capability
from ..errors import InputError
from .weights import strip_weights

Counter = Callable[[str], int]

# Folders (relative to a search root, e.g. ComfyUI's ``comfy`` package) holding each tokenizer.
TOKENIZER_DIRS: Final[dict[str, tuple[str, ...]]] = {
    "t5": ("text_encoders/t5_tokenizer", "t5_tokenizer"),
    "clip": ("sd1_tokenizer", "text_encoders/sd1_tokenizer", "clip_tokenizer"),
    "qwen": ("text_encoders/qwen25_tokenizer", "qwen25_tokenizer"),
}
TOKENIZER_NAMES: Final = {"t5": "T5", "clip": "CLIP", "qwen": "Qwen"}
# CLIP's pre-tokenizer pattern (contractions, letter runs, single digits, other symbol runs).
_CLIP_SPLIT: Final = r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
_ESTIMATE_PIECES: Final = re.compile(r"[^\W\d_]+|\d|[^\w\s]|_")
# Letters per token in the heuristic: common tag words are one token; long or rare words split.
_LETTERS_PER_TOKEN: Final = 6


@dataclass(frozen=True)
class TokenCount:
    """A count and how it was made. ``exact`` is False for an estimate."""

    count: int
    limit: int
    tokenizer: str  # "t5" | "clip" | "qwen"
    exact: bool
    source: str  # the tokenizer's folder, or why this is an estimate

    @property
    def over_limit(self) -> bool:
        return self.count > self.limit

    @property
    def label(self) -> str:
        """One line for people, e.g. "140 / 512 T5 tokens" or "≈140 / 512 … (estimate: …)"."""
        name = TOKENIZER_NAMES.get(self.tokenizer, self.tokenizer)
        over = f", {self.count - self.limit} over the limit" if self.over_limit else ""
        if self.exact:
            return f"{self.count} / {self.limit} {name} tokens{over}"
        return f"≈{self.count} / {self.limit} {name} tokens{over} (estimate: {self.source})"


def estimate_tokens(text: str) -> int:
    """Heuristic count: one token per symbol and digit, one per 6 letters of each word."""
    total = 0
    for piece in _ESTIMATE_PIECES.findall(text):
        if piece[0].isalpha():
            total += math.ceil(len(piece) / _LETTERS_PER_TOKEN)
        else:
            total += 1
    return total


def _tokenizers_module() -> Any | None:
    try:
        return importlib.import_module("tokenizers")
    except ImportError:
        return None


def find_tokenizer_dir(kind: str, roots: Iterable[Path]) -> Path | None:
    """The first folder under ``roots`` holding ``kind``'s tokenizer files, or None."""
    for root in roots:
        for relative in TOKENIZER_DIRS.get(kind, ()):
            folder = Path(root) / relative
            has_json = (folder / "tokenizer.json").is_file()
            has_bpe = (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()
            if has_json or has_bpe:
                return folder
    return None


def _clip_from_bpe(tk: Any, folder: Path) -> Any:
    """CLIP's tokenizer from vocab.json + merges.txt, normalised and split the way CLIP is."""
    bpe = tk.models.BPE.from_file(
        str(folder / "vocab.json"),
        str(folder / "merges.txt"),
        end_of_word_suffix="</w>",
        unk_token="<|endoftext|>",
    )
    tokenizer = tk.Tokenizer(bpe)
    tokenizer.normalizer = tk.normalizers.Sequence(
        [
            tk.normalizers.NFC(),
            tk.normalizers.Replace(tk.Regex(r"\s+"), " "),
            tk.normalizers.Lowercase(),
        ]
    )
    tokenizer.pre_tokenizer = tk.pre_tokenizers.Sequence(
        [
            tk.pre_tokenizers.Split(tk.Regex(_CLIP_SPLIT), behavior="removed", invert=True),
            tk.pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    return tokenizer


@functools.lru_cache(maxsize=8)
def _load(kind: str, folder: Path) -> Counter | None:
    tk = _tokenizers_module()
    if tk is None:
        return None
    try:
        if (folder / "tokenizer.json").is_file():
            tokenizer = tk.Tokenizer.from_file(str(folder / "tokenizer.json"))
        else:
            tokenizer = _clip_from_bpe(tk, folder)
    except Exception:  # a damaged or foreign file: fall back to the labelled estimate
        return None

    def count(text: str) -> int:
        # Content tokens only: BOS/EOS are the model's, not the prompt's.
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count


def load_counter(kind: str, roots: Sequence[Path]) -> tuple[Counter | None, str]:
    """A real token counter for ``kind`` and its folder, or None and why there is none."""
    folder = find_tokenizer_dir(kind, roots)
    name = TOKENIZER_NAMES.get(kind, kind)
    if folder is None:
        return None, f"no {name} tokenizer files available offline"
    if _tokenizers_module() is None:
        return None, f"the 'tokenizers' package is not installed to read {folder}"
    counter = _load(kind, folder)
    if counter is None:
        return None, f"the {name} tokenizer in {folder} could not be read"
    return counter, str(folder)


def count_prompt_tokens(
    texts: Sequence[str], model: str, *, roots: Sequence[Path] = ()
) -> TokenCount:
    """Tokens of the positive prompt (base + every character, weights stripped) for ``model``."""
    try:
        cap = get_capability(model)
    except UnknownModelError as exc:
        raise InputError(f"model: {exc}") from None
    stripped = [strip_weights(text) for text in texts if text.strip()]
    counter, source = load_counter(cap.tokenizer, roots)
    if counter is None:
        total = sum(estimate_tokens(text) for text in stripped)
        return TokenCount(total, cap.prompt_token_limit, cap.tokenizer, False, source)
    total = sum(counter(text) for text in stripped)
    return TokenCount(total, cap.prompt_token_limit, cap.tokenizer, True, source)
