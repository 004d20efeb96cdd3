"""NovelAI Prompt Writer against the simulator's text endpoints: what it asks, what it outputs,
how it cleans and retries an answer, and that ComfyUI's cache spares a second call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from novelai_core.text.text_models import PATH_CHAT
from tests.comfy_harness import Executor, call_node, comfy_runtime, load_pack, pack_module

writer = pack_module("nodes.prompt_writer")
errors = pack_module("novelai_core.errors")

GOOD = {
    "positive": "2girls, park, cherry blossoms, spring, soft lighting",
    "negative": "rain",
    "characters": ["girl, long hair, red hair, smile, source#hug", "girl, short hair, target#hug"],
}
KWARGS = {
    "idea": "deux amies s'embrassent sous les cerisiers",
    "image_model": "nai-diffusion-4-5-full",
    "text_model": "glm-4-6",
    "notes": "",
    "temperature": 0.6,
    "max_length": 400,
    "seed": 7,
}


@pytest.fixture
def sim(sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """conftest's simulator for the nodes, serving the text endpoints too."""
    monkeypatch.setenv("NAI_TEXT_BASE_URL", sim.url)
    return sim


def _write(**changes: Any) -> dict[str, Any]:
    with comfy_runtime():
        result: dict[str, Any] = call_node(writer.NovelAIPromptWriter(), **{**KWARGS, **changes})
    return result


def test_an_idea_becomes_prompt_negative_and_character_strings(sim: Any) -> None:
    sim.queue_text_reply(json.dumps(GOOD))
    out = _write()
    positive, negative, c1, c2, c3, c4, answer = out["result"]
    assert positive == GOOD["positive"] and negative == "rain"
    assert (c1, c2, c3, c4) == (*GOOD["characters"], "", "")
    assert json.loads(answer) == GOOD
    assert "costs no Anlas" in out["ui"]["text"][0]
    sent = sim.requests_seen(PATH_CHAT)[-1]
    assert sent["model"] == "glm-4-6" and sent["seed"] == 7 and sent["enable_thinking"] is False
    system, user = sent["messages"]
    assert "JSON" in system["content"] and "characters" in system["content"]
    assert user == {"role": "user", "content": KWARGS["idea"]}
    assert sim.spent() == 0


def test_think_text_prose_and_code_fences_around_the_answer_are_stripped(sim: Any) -> None:
    sim.queue_text_reply(
        "<think>They want two girls.</think>Here is your prompt:\n```json\n"
        + json.dumps(GOOD)
        + "\n```\nEnjoy!"
    )
    assert _write()["result"][0] == GOOD["positive"]


def test_a_malformed_answer_is_retried_once_at_a_lower_temperature(sim: Any) -> None:
    sim.queue_text_reply("Sure! Two girls hugging under cherry trees.")
    sim.queue_text_reply(json.dumps(GOOD))
    assert _write()["result"][1] == "rain"
    first, second = sim.requests_seen(PATH_CHAT)[-2:]
    assert first["temperature"] == 0.6 and second["temperature"] == writer.RETRY_TEMPERATURE


def test_two_malformed_answers_are_one_clear_error(sim: Any) -> None:
    sim.queue_text_reply("no json here")
    sim.queue_text_reply('{"negative": "only"}')
    with pytest.raises(errors.NovelAIError, match="not a prompt twice") as info:
        _write()
    assert "\n" not in str(info.value)
    assert len(sim.requests_seen(PATH_CHAT)) == 2


def test_a_model_without_character_prompts_is_told_so(sim: Any) -> None:
    sim.queue_text_reply(json.dumps({"positive": "1girl, smile", "negative": ""}))
    assert _write(image_model="nai-diffusion-3")["result"][2] == ""
    system = sim.requests_seen(PATH_CHAT)[-1]["messages"][0]["content"]
    assert "no character prompts" in system


def test_an_opus_only_text_model_below_opus_says_so(sim: Any) -> None:
    sim.set_tier(1)
    with pytest.raises(errors.ModelNotAllowedError, match="glm-4-6 works on every tier"):
        _write(text_model="xialong-v1")


def test_an_empty_idea_is_refused_before_anything_is_sent(sim: Any) -> None:
    with pytest.raises(errors.InputError, match="idea is empty"):
        _write(idea="  ")
    assert sim.requests_seen(PATH_CHAT) == []


def test_the_same_idea_and_seed_are_cached_by_the_graph(sim: Any) -> None:
    pack = load_pack()
    node = {"id": 1, "type": "NovelAI_PromptWriter", "inputs": [],
            "widgets_values": list(KWARGS.values())}  # fmt: skip
    workflow = {"nodes": [node], "links": []}
    executor = Executor(pack.NODE_CLASS_MAPPINGS, validate=False)  # a lone node, no output node
    sim.queue_text_reply(json.dumps(GOOD))
    with comfy_runtime():
        assert executor.run(workflow).executed == [1]
        assert executor.run(workflow).executed == []
        node["widgets_values"][-1] = 8  # another seed: asks again
        sim.queue_text_reply(json.dumps(GOOD))
        assert executor.run(workflow).executed == [1]
    assert len(sim.requests_seen(PATH_CHAT)) == 2
