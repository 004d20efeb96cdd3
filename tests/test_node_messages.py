"""What a ComfyUI user reads, from node texts and error dialogs, is for people: no Python class
names, no attribute paths, counts from 1, widgets named as they are labelled."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from novelai_core.contract.constants import PATH_GENERATE_STREAM
from tests.comfy_harness import (
    call_node,
    comfy_runtime,
    load_pack,
    pack_module,
    run_generate_node,
)
from tests.tool_support import gradient

NODES = load_pack().NODE_CLASS_MAPPINGS
V45 = "nai-diffusion-4-5-full"
errors = pack_module("novelai_core.errors")
JARGON = re.compile(
    r"[A-Z][a-z]+(?:[A-Z][a-z]*)+(?:Error|Exception)\b"  # ProtocolError, MaxRetryError …
    r"|\b\w+\.\w+\b(?<!\d\.\d)"  # settings.smea, the error's .partial
    r"|\bspend_guard\b|\bbg-removal\b|sample\(s\)|\bsamples? 0\b"
)


@pytest.fixture(autouse=True)
def _temp_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Partial images go to the system temp folder outside ComfyUI: one inside the test's."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()


def _generate(**overrides: Any) -> Any:
    return run_generate_node(**{"spend_guard": "up to 50 Anlas", "unique_id": "2", **overrides})


def _readable(text: str) -> None:
    # File names and hosts are fine ("NovelAI_partial_5_1.png", "127.0.0.1"): drop them first.
    plain = re.sub(r"\S+\.(png|jpg)\b|\d+(\.\d+){3}(:\d+)?|/\S+", "", text)
    assert not JARGON.search(plain), f"jargon in {text!r}: {JARGON.search(plain)}"
    assert not re.search(r"\([^()]*\(", text), f"nested parentheses in {text!r}"


FAILURES: dict[str, Callable[[Any], None]] = {
    "a V3 option on V4.5": lambda sim: _generate(smea="SMEA"),
    "too many samples": lambda sim: _generate(width=1024, height=1024, samples=8),
    "a stream cut after one of three images": lambda sim: (
        sim.set_fault("missing_last_image", path=PATH_GENERATE_STREAM),
        _generate(samples=3),
    ),
    "a server error": lambda sim: (sim.set_fault("http_500"), _generate()),
    "Remove Background under 'free only'": lambda sim: NODES["NovelAI_RemoveBackground"]().run(
        image=gradient(256, 256), spend_guard="free only", unique_id="2"
    ),
    "a refused spend": lambda sim: (sim.set_tier(0), _generate(spend_guard="free only")),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failure_messages_and_node_texts_name_no_code(sim: Any, case: str) -> None:
    with comfy_runtime() as runtime, pytest.raises(errors.NovelAIError) as caught:
        FAILURES[case](sim)
    _readable(str(caught.value))
    texts = [text for text, node in runtime.texts if node == "2"]
    assert texts and texts[-1].startswith("Failed: ")
    for text in texts:
        _readable(text)


def test_suggest_tags_ends_with_the_failure_instead_of_a_stale_list(sim: Any) -> None:
    sim.set_fault("http_500")
    with comfy_runtime() as runtime, pytest.raises(errors.NovelAIError):
        runtime.executing_node = "7"  # the node has no UNIQUE_ID: ComfyUI says which runs
        call_node(NODES["NovelAI_SuggestTags"](), prompt="1girl, long h", model=V45, language="en")
    texts = [text for text, node in runtime.texts if node == "7"]
    assert texts and texts[-1].startswith("Failed: ")
    _readable(texts[-1])


def test_a_missing_image_is_counted_from_one(sim: Any) -> None:
    sim.set_fault("missing_last_image", path=PATH_GENERATE_STREAM)
    with pytest.raises(errors.StreamError) as caught:
        _generate(samples=3)
    assert "before image 3 of 3 arrived (2 of 3 received)" in str(caught.value)


def test_a_v3_option_is_named_by_its_widget(sim: Any) -> None:
    with pytest.raises(errors.InputError) as caught:
        _generate(smea="SMEA")
    assert str(caught.value).startswith("smea: SMEA is only available on V3 models")
