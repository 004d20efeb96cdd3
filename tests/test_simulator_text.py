"""The simulator's text endpoints, spoken to with plain requests (shapes from the text-API doc)."""

from __future__ import annotations

import json

import requests

from novelai_core.simulator import Simulator
from novelai_core.text.text_models import PATH_CHAT, PATH_COMPLETIONS, PATH_TOKEN_COUNT
from tests.simulator_support import session

CHAT = {"model": "glm-4-6", "messages": [{"role": "user", "content": "hi there"}]}


def test_a_streamed_chat_is_sse_with_token_ids_and_a_done_line(simulator: Simulator) -> None:
    with session(simulator).post(simulator.url + PATH_CHAT, json={**CHAT, "stream": True}) as r:
        assert r.headers["Content-Type"] == "text/event-stream"
        lines = r.text.splitlines()
    assert lines[0] == ": keep-alive"
    data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all("token_ids" in c["choices"][0] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "".join(c["choices"][0]["delta"]["content"] for c in chunks).endswith("hi there")


def test_a_non_streamed_chat_answer_has_no_text_as_reported(simulator: Simulator) -> None:
    answer = session(simulator).post(simulator.url + PATH_CHAT, json=CHAT).json()
    assert answer["object"] == "chat.completion.chunk"
    assert answer["choices"][0]["text"] == "" and "message" not in answer["choices"][0]


def test_content_arrays_are_refused_like_the_go_backend(simulator: Simulator) -> None:
    parts = [{"type": "text", "text": "hi"}]
    body = {**CHAT, "messages": [{"role": "user", "content": parts}]}
    r = session(simulator).post(simulator.url + PATH_CHAT, json=body)
    assert r.status_code == 400 and "cannot unmarshal array" in r.json()["message"]


def test_opus_only_models_are_refused_below_opus(simulator: Simulator) -> None:
    body = {**CHAT, "model": "xialong-v1"}
    assert session(simulator).post(simulator.url + PATH_CHAT, json=body).status_code == 200
    simulator.set_tier(2)
    r = session(simulator).post(simulator.url + PATH_CHAT, json=body)
    assert r.status_code == 403 and r.json()["statusCode"] == 403


def test_text_costs_no_anlas_and_needs_the_token(simulator: Simulator) -> None:
    before = simulator.balance()
    body = {"model": "glm-4-6", "prompt": "Once", "stream": False}
    answer = session(simulator).post(simulator.url + PATH_COMPLETIONS, json=body).json()
    assert answer["usage"]["completion_tokens"] == len(answer["choices"][0]["text"].split())
    assert simulator.balance() == before
    assert requests.post(simulator.url + PATH_COMPLETIONS, json=body).status_code == 401


def test_a_prompt_object_is_refused_as_the_schema_warns(simulator: Simulator) -> None:
    body = {"model": "glm-4-6", "prompt": {"ofString": "hi"}}
    assert session(simulator).post(simulator.url + PATH_TOKEN_COUNT, json=body).status_code == 400
