"""The nodes that wait for NovelAI are coroutine FUNCTIONs where ComfyUI awaits them (0.3.45+),
plain ones on older ComfyUI; awaited, a NovelAI node lets an independent branch run meanwhile,
and ComfyUI's Cancel still stops it."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import threading
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tests.comfy_harness import (
    Executor,
    InterruptProcessingException,
    comfy_runtime,
    load_pack,
    pack_module,
    run_generate_node,
)

PACK = load_pack()
NODES = PACK.NODE_CLASS_MAPPINGS
async_node = pack_module("nodes.runtime.async_node")
TALK_TO_NOVELAI = {
    "NovelAI_Generate", "NovelAI_Account", "NovelAI_RemoveBackground", "NovelAI_LineArt",
    "NovelAI_Sketch", "NovelAI_Colorize", "NovelAI_Emotion", "NovelAI_Declutter",
    "NovelAI_Upscale", "NovelAI_Enhance", "NovelAI_ExportVibe", "NovelAI_SuggestTags",
    "NovelAI_PromptWriter",
}  # fmt: skip


def test_every_node_that_talks_to_novelai_is_a_coroutine_function_and_no_other() -> None:
    for node_id, node_class in NODES.items():
        function = getattr(node_class, node_class.FUNCTION)
        assert inspect.iscoroutinefunction(function) == (node_id in TALK_TO_NOVELAI), node_id


@pytest.fixture
def fake_execution() -> Iterator[types.ModuleType]:
    module = types.ModuleType("execution")
    sys.modules["execution"] = module
    try:
        yield module
    finally:
        del sys.modules["execution"]


def _decorated(fake: types.ModuleType, awaited: bool) -> type:
    async def coroutine_caller() -> None: ...

    def plain_caller() -> None: ...

    fake.get_output_data = coroutine_caller if awaited else plain_caller  # type: ignore[attr-defined]

    class Node:
        FUNCTION = "go"

        def go(self, *, x: int) -> tuple[int]:
            return (x + 1,)

    decorated: type = async_node.awaits_novelai(one_at_a_time=False)(Node)
    return decorated


def test_comfyui_that_awaits_coroutines_gets_an_async_twin_of_function(
    fake_execution: types.ModuleType,
) -> None:
    node = _decorated(fake_execution, awaited=True)
    assert node.FUNCTION == "go_async"
    assert inspect.signature(node.go_async).parameters.keys() == {"self", "x"}
    assert asyncio.run(node().go_async(x=1)) == (2,)


def test_older_comfyui_keeps_the_plain_function(fake_execution: types.ModuleType) -> None:
    node = _decorated(fake_execution, awaited=False)
    assert node.FUNCTION == "go" and not hasattr(node, "go_async")


def _parallel_graph(cpu_seconds: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Prompt → Generate, and an unrelated local branch (a loader → a CPU-bound node), as a
    UI-format workflow. Generate and the CPU node become ready together, Generate first (by id),
    as in a graph where both follow a quick loader."""
    prompt = {"id": 1, "type": "NovelAI_Prompt", "inputs": [],
              "widgets_values": ["1girl", "", True, "standard", "heavy"]}  # fmt: skip
    generate_values = [
        "nai-diffusion-4-5-full", "Custom", 256, 384, 42, None, 6, 5.0, "k_euler_ancestral",
        "karras", 0.0, False, 1, "free only", False, "off", False, False,
    ]  # fmt: skip
    generate = {"id": 2, "type": "NovelAI_Generate", "widgets_values": generate_values,
                "inputs": [{"name": "prompt", "link": 1}]}  # fmt: skip
    loader = {"id": 3, "type": "Loader", "inputs": [], "widgets_values": []}
    cpu = {"id": 4, "type": "CPUWork", "inputs": [{"name": "model", "link": 2}],
           "widgets_values": []}  # fmt: skip
    links = [[1, 1, 0, 2, 0, "NAI_PROMPT"], [2, 3, 0, 4, 0, "MODEL"]]
    workflow = {"nodes": [prompt, generate, loader, cpu], "links": links}

    def busy(**_: Any) -> tuple[str]:
        end = time.monotonic() + cpu_seconds
        while time.monotonic() < end:  # holds the event loop, as a local model's node does
            sum(range(1000))
        return ("done",)

    return workflow, {"Loader": lambda: ("model",), "CPUWork": busy}


def test_a_generation_and_an_independent_cpu_branch_overlap(sim: Any) -> None:
    widgets = importlib.import_module("tests.comfy_harness").widget_names
    assert len(widgets(NODES["NovelAI_Generate"])) == 18  # the workflow above fills them all
    workflow, extra = _parallel_graph(0.8)
    with comfy_runtime():
        Executor(NODES, _parallel_graph(0.0)[1], validate=False).run(
            workflow
        )  # warm: imports, connection
        sim.set_latency(800)
        started = time.monotonic()
        run = Executor(NODES, extra, validate=False).run(workflow)
        elapsed = time.monotonic() - started
    assert run.outputs[2][0].shape[0] == 1 and run.outputs[4] == ("done",)
    assert elapsed < 1.4  # 0.8 s + 0.8 s one after the other would be 1.6 s or more


def test_cancel_stops_an_awaited_generation_within_half_a_second(sim: Any) -> None:
    sim.set_step_ms(150)
    with comfy_runtime() as runtime:
        pressed: list[float] = []

        def press_cancel() -> None:
            while not runtime.updates:
                time.sleep(0.01)
            pressed.append(time.monotonic())
            runtime.interrupted.set()

        threading.Thread(target=press_cancel, daemon=True).start()
        with pytest.raises(InterruptProcessingException):
            run_generate_node(steps=28)  # through the coroutine FUNCTION (call_node awaits it)
        stopped = time.monotonic()
    assert pressed and stopped - pressed[0] < 0.5


def _two_generations() -> dict[str, Any]:
    """Two Prompt → Generate branches that do not depend on each other."""
    workflow, _ = _parallel_graph(0.0)
    prompt, generate = workflow["nodes"][:2]
    twin = {**generate, "id": 12, "inputs": [{"name": "prompt", "link": 2}]}
    twin["widgets_values"] = [*generate["widgets_values"]]
    twin["widgets_values"][4] = 43  # another seed
    links = [*workflow["links"][:1], [2, 1, 0, 12, 0, "NAI_PROMPT"]]
    return {"nodes": [prompt, generate, twin], "links": links}


def test_two_awaited_generations_take_turns_instead_of_hitting_novelais_lock(sim: Any) -> None:
    sim.set_latency(300)
    with comfy_runtime():
        started = time.monotonic()
        run = Executor(NODES, validate=False).run(_two_generations())
        elapsed = time.monotonic() - started
    assert run.outputs[2][2] == 42 and run.outputs[12][2] == 43
    generations = [r for r in sim.stats()["recent"] if r["path"].startswith("/ai/generate")]
    assert [r["status"] for r in generations] == [200, 200]  # no 429 "concurrent generation"
    assert elapsed >= 0.6  # one after the other, as NovelAI would have them


def test_cancel_while_waiting_for_the_turn_sends_nothing(sim: Any) -> None:
    release = threading.Event()

    def hold_the_turn() -> None:
        with async_node._ONE_GENERATION:
            release.wait(5)

    holder = threading.Thread(target=hold_the_turn, daemon=True)
    holder.start()
    with comfy_runtime() as runtime:
        threading.Timer(0.3, runtime.interrupted.set).start()
        started = time.monotonic()
        with pytest.raises(InterruptProcessingException):
            run_generate_node()
        waited = time.monotonic() - started
    release.set()
    holder.join()
    assert 0.3 <= waited < 0.8
    assert any(text == async_node.WAIT_TEXT for text, _ in runtime.texts)
    assert sim.stats()["requests"] == {}
