"""The one paid-run flow of Generate and the paid tools, driven through the nodes against the
simulator: never paying twice for the same request, 'fit to free', one tier cache, and a final
state under the node after every run (done, stored, failed, cancelled)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from novelai_core.contract.constants import (
    PATH_AUGMENT,
    PATH_GENERATE_STREAM,
    PATH_SUBSCRIPTION,
    PATH_UPSCALE,
)
from tests.comfy_harness import (
    InterruptProcessingException,
    comfy_runtime,
    load_pack,
    pack_module,
    run_generate_node,
)
from tests.tool_support import comfy_folders, gradient

NODES = load_pack().NODE_CLASS_MAPPINGS
errors = pack_module("novelai_core.errors")
progress = pack_module("nodes.runtime.progress")
result_store = pack_module("nodes.runtime.result_store")
session = pack_module("nodes.runtime.session")


def _generate(**overrides: Any) -> Any:
    """A small V4.5 image (the harness' inputs), up to 50 Anlas, with its texts on node 9."""
    return run_generate_node(**{"spend_guard": "up to 50 Anlas", "seed": 7, "unique_id": "9",
                                **overrides})  # fmt: skip


def _texts(runtime: Any) -> list[str]:
    return [text for text, node in runtime.texts if node == "9"]


# ------------------------------------------------------------------ never pay twice


def test_an_identical_request_after_comfyui_dropped_its_cache_sends_and_spends_nothing(
    sim: Any,
) -> None:
    sim.set_tier(0)  # Paper: every image costs Anlas
    first = _generate()
    spent, sent = sim.spent(), len(sim.requests_seen(PATH_GENERATE_STREAM))
    assert spent > 0 and sent == 1
    with comfy_runtime() as runtime:
        again = _generate()  # a new node instance: ComfyUI's output cache plays no part
    assert (sim.spent(), len(sim.requests_seen(PATH_GENERATE_STREAM))) == (spent, sent)
    assert _texts(runtime) == [progress.STORED_TEXT]
    assert bool((again[0] == first[0]).all()) and again[2:] == first[2:]


def test_a_different_seed_is_never_answered_from_the_store(sim: Any) -> None:
    first = _generate(seed=7)
    second = _generate(seed=8)
    assert len(sim.requests_seen(PATH_GENERATE_STREAM)) == 2
    assert json.loads(second[3])["seed"] == 8 and json.loads(first[3])["seed"] == 7
    assert not bool((first[0] == second[0]).all())


def test_the_store_key_is_the_exact_body_so_one_changed_field_is_a_new_key() -> None:
    body = {"input": "1girl", "parameters": {"seed": 7, "width": 256}}
    key = result_store.request_key("http://h", "/ai/generate-image", body)
    changed = {"input": "1girl", "parameters": {"seed": 7, "width": 320}}
    assert key == result_store.request_key("http://h", "/ai/generate-image", json.loads(
        json.dumps(body)))  # fmt: skip
    assert key != result_store.request_key("http://h", "/ai/generate-image", changed)
    assert key != result_store.request_key("http://other", "/ai/generate-image", body)
    assert key != result_store.request_key("http://h", "/ai/generate-image", body, {"x": b"1"})


def test_the_store_is_bounded_and_forgets_the_oldest_first() -> None:
    class Result:
        images = ()

    keys = [str(i).encode() for i in range(result_store.MAX_ENTRIES + 1)]
    for key in keys:
        result_store.put(key, Result())
    assert result_store.count() == result_store.MAX_ENTRIES
    assert result_store.get(keys[0]) is None and result_store.get(keys[-1]) is not None


def test_the_same_upscale_twice_is_paid_once(sim: Any) -> None:
    node = NODES["NovelAI_Upscale"]()
    first = node.upscale(image=gradient(256, 256), spend_guard="up to 10 Anlas")[0]
    spent = sim.spent()
    second = node.upscale(image=gradient(256, 256), spend_guard="up to 10 Anlas")[0]
    assert sim.spent() == spent > 0 and len(sim.requests_seen(PATH_UPSCALE)) == 1
    assert bool((first == second).all())


# ------------------------------------------------------------------ fit to free


def test_fit_to_free_shrinks_size_steps_and_samples_to_opus_free_and_says_so(sim: Any) -> None:
    with comfy_runtime() as runtime:
        images, _, _, metadata = _generate(
            width=1216, height=1216, steps=40, samples=2, spend_guard="fit to free"
        )
    assert tuple(images.shape) == (1, 1024, 1024, 3)
    assert sim.spent() == 0
    sent = sim.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]
    assert (sent["width"], sent["height"], sent["steps"], sent["n_samples"]) == (1024, 1024, 28, 1)
    used = json.loads(metadata)  # the metadata output holds the settings actually used
    assert (used["width"], used["height"], used["steps"]) == (1024, 1024, 28)
    assert _texts(runtime)[-1] == (
        "Done: free. Fit to free: 1216×1216 → 1024×1024, steps 40 → 28, samples 2 → 1."
    )


def test_fit_to_free_leaves_a_free_request_as_it_is(sim: Any) -> None:
    with comfy_runtime() as runtime:
        _generate(spend_guard="fit to free")
    assert sim.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]["width"] == 256
    assert _texts(runtime)[-1] == "Done: free."


def test_fit_to_free_off_opus_refuses_like_free_only_and_sends_nothing(sim: Any) -> None:
    sim.set_tier(1)
    with comfy_runtime() as runtime, pytest.raises(errors.SpendLimitError) as caught:
        _generate(spend_guard="fit to free")
    assert "spend guard 'fit to free'" in str(caught.value)
    assert sim.requests_seen(PATH_GENERATE_STREAM) == []
    assert _texts(runtime)[-1].startswith("Failed: NovelAI: this generation is estimated at ")


# ------------------------------------------------------------------ one tier cache


def test_the_paid_tools_share_generates_tier_cache(sim: Any) -> None:
    session.get_client()  # a fresh client per simulator; its tier is looked up once
    _generate()
    NODES["NovelAI_Sketch"]().run(image=gradient(256, 256), spend_guard="free only")
    NODES["NovelAI_Upscale"]().upscale(image=gradient(256, 256), spend_guard="up to 10 Anlas")
    assert sim.stats()["requests"][PATH_SUBSCRIPTION] == 1
    assert len(sim.requests_seen(PATH_AUGMENT)) == 1


# ------------------------------------------------------------------ final states


def test_a_failed_run_ends_with_one_failed_line(sim: Any) -> None:
    sim.set_fault("http_500", path=PATH_GENERATE_STREAM)
    with comfy_runtime() as runtime, pytest.raises(errors.ServerError):
        _generate()
    last = _texts(runtime)[-1]
    assert last.startswith("Failed: ") and "\n" not in last


def test_cancel_inside_a_progress_callback_ends_with_the_charge_warning(sim: Any) -> None:
    sim.set_tier(0)
    with comfy_runtime() as runtime:
        original = progress.GenerationProgress.on_preview

        def press_cancel_then_preview(self: Any, preview: Any) -> None:
            runtime.interrupted.set()  # ComfyUI's hook raises inside the bar update
            original(self, preview)

        progress.GenerationProgress.on_preview = press_cancel_then_preview
        try:
            with pytest.raises(InterruptProcessingException):
                _generate()
        finally:
            progress.GenerationProgress.on_preview = original
    assert _texts(runtime)[-1].startswith("Cancelled. NovelAI may still finish the request")


def test_cancel_after_the_images_arrived_still_saves_them(
    sim: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client = session.get_client()
    real_generate = client.generate

    with comfy_folders(tmp_path / "comfy") as folders, comfy_runtime() as runtime:

        def generate_then_cancel(*args: Any, **kwargs: Any) -> Any:
            result = real_generate(*args, **kwargs)
            runtime.interrupted.set()  # Cancel lands on the final progress-bar update
            return result

        monkeypatch.setattr(client, "generate", generate_then_cancel)
        with pytest.raises(InterruptProcessingException):
            _generate(samples=2)
        saved = sorted(p.name for p in Path(folders.get_output_directory()).glob("NovelAI_*"))
    assert len(saved) == 2
    assert _texts(runtime)[-1].startswith("Cancelled.") and saved[0] in _texts(runtime)[-1]


# ------------------------------------------------------------------ an unreachable host


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("NAI_IMAGE_BASE_URL", f"http://127.0.0.1:{probe.getsockname()[1]}")
    monkeypatch.setenv("NAI_ACCESS_TOKEN", "pst-unreachable-test")
    monkeypatch.delenv("NOVELAI_API_KEY", raising=False)
    monkeypatch.setenv("NAI_TOKEN_FILE", str(tmp_path / "no-token-file"))


def test_generate_fails_within_ten_seconds_when_novelai_is_unreachable(unreachable: None) -> None:
    started = time.monotonic()
    with comfy_runtime() as runtime, pytest.raises(errors.NovelAIConnectionError):
        _generate()
    assert time.monotonic() - started < 10
    texts = _texts(runtime)
    assert texts[0].startswith("Waiting: NovelAI could not be reached; trying again in 1 s")
    assert texts[-1].startswith("Failed: NovelAI: could not connect to 127.0.0.1:")
    assert texts[-1].endswith("the connection was refused; nothing was sent.")


def test_the_account_node_fails_within_ten_seconds_when_novelai_is_unreachable(
    unreachable: None,
) -> None:
    started = time.monotonic()
    with comfy_runtime() as runtime:
        runtime.executing_node = "4"
        with pytest.raises(errors.NovelAIConnectionError):
            NODES["NovelAI_Account"]().show()
    assert time.monotonic() - started < 10
    assert [t for t, node in runtime.texts if node == "4"][-1].startswith("Failed: NovelAI: could")


# ------------------------------------------------------------------ fresh nodes run


def _default_guard(node_id: str) -> str:
    return str(NODES[node_id].INPUT_TYPES()["required"]["spend_guard"][1]["default"])


def test_a_fresh_upscale_and_remove_background_node_run_with_their_default_guard(
    sim: Any,
) -> None:
    (upscaled,) = NODES["NovelAI_Upscale"]().upscale(
        image=gradient(832, 1216), spend_guard=_default_guard("NovelAI_Upscale")
    )
    masked, *_ = NODES["NovelAI_RemoveBackground"]().run(
        image=gradient(832, 1216), spend_guard=_default_guard("NovelAI_RemoveBackground")
    )
    assert tuple(upscaled.shape) == (1, 2432, 1664, 3) and masked.shape[0] == 1
    assert _default_guard("NovelAI_Sketch") == "free only"  # free on Opus at this size
