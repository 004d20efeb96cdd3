"""The Generate and Account nodes against the simulator: spend guard, local checks, progress,
live preview, Cancel, 429 waits, and the account display."""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

import pytest
import torch
from PIL import Image

from novelai_core.contract.constants import PATH_GENERATE, PATH_GENERATE_STREAM, PATH_SUBSCRIPTION
from tests.comfy_harness import (
    InterruptProcessingException,
    call_node,
    comfy_runtime,
    load_pack,
    pack_module,
    run_generate_node,
)
from tests.simulator_support import SIM_TOKEN

PACK = load_pack()
NODES = PACK.NODE_CLASS_MAPPINGS
errors = pack_module("novelai_core.errors")
GENERATE_PATHS = (PATH_GENERATE, PATH_GENERATE_STREAM, "/ai/encode-vibe")


def _paid_calls(sim: Any) -> int:
    requests = sim.stats()["requests"]
    return sum(requests.get(path, 0) for path in GENERATE_PATHS)


def _image(width: int = 64, height: int = 64) -> torch.Tensor:
    return torch.rand((1, height, width, 3))


# ------------------------------------------------------------------------------- spend guard


def test_the_spend_guard_refuses_a_paid_generation_before_sending_anything(sim: Any) -> None:
    sim.set_tier(0)  # Paper: nothing is free
    with pytest.raises(errors.SpendLimitError) as caught:
        run_generate_node(size="Normal Portrait 832x1216", steps=28)
    message = str(caught.value)
    assert "this generation is estimated at 20 Anlas" in message and "Paper" in message
    assert "spend guard to 'up to 50 Anlas'" in message
    assert "1024x1024" not in message  # Opus' free image is not the reason on Paper
    assert _paid_calls(sim) == 0


def test_on_opus_the_refusal_names_the_free_size_and_steps(sim: Any) -> None:
    with pytest.raises(errors.SpendLimitError) as caught:
        run_generate_node(samples=2)  # one of two images is free on Opus
    message = str(caught.value)
    assert "on your Opus subscription" in message
    assert "one image of at most 1024×1024 px and 28 steps is free" in message
    assert _paid_calls(sim) == 0


def test_with_the_v5_allowance_used_up_the_refusal_says_so_not_that_opus_is_free(
    sim: Any,
) -> None:
    sim.set_v5_usage(100)
    with pytest.raises(errors.SpendLimitError) as caught:
        run_generate_node(model="nai-diffusion-5-full")
    message = str(caught.value)
    assert "on your Opus subscription" in message and "Opus V5 allowance is used up" in message
    assert "is free" not in message
    assert "spend guard to 'up to 10 Anlas'" in message
    assert _paid_calls(sim) == 0


def test_a_character_reference_is_not_free_even_on_opus(sim: Any) -> None:
    (refs,) = NODES["NovelAI_CharacterReference"]().append(
        image=_image(), mode="character", strength=1.0, fidelity=1.0
    )
    with pytest.raises(errors.SpendLimitError, match="5 Anlas"):
        run_generate_node(character_references=refs)
    assert _paid_calls(sim) == 0
    images, *_ = run_generate_node(character_references=refs, spend_guard="up to 10 Anlas")
    assert images.shape == (1, 384, 256, 3)
    assert sim.spent() == 5


def test_vibes_to_encode_count_against_the_guard_before_any_encoding(sim: Any) -> None:
    (vibes,) = NODES["NovelAI_Vibe"]().append(
        image=_image(), information_extracted=1.0, strength=0.6
    )
    with pytest.raises(errors.SpendLimitError, match="2 Anlas"):
        run_generate_node(vibes=vibes)
    assert _paid_calls(sim) == 0
    run_generate_node(vibes=vibes, spend_guard="up to 10 Anlas")
    assert sim.stats()["requests"]["/ai/encode-vibe"] == 1 and sim.spent() == 2


def test_v3_raw_vibes_go_out_as_images_and_cost_nothing_on_opus(sim: Any) -> None:
    (vibes,) = NODES["NovelAI_Vibe"]().append(
        image=_image(), information_extracted=0.5, strength=0.3
    )
    run_generate_node(model="nai-diffusion-3", vibes=vibes, noise_schedule="native")
    params = sim.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]
    assert params["reference_information_extracted_multiple"] == [0.5]
    assert params["reference_strength_multiple"] == [0.3]
    assert "/ai/encode-vibe" not in sim.stats()["requests"] and sim.spent() == 0


# ----------------------------------------------------------------- checked locally, never a 500


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"model": "nai-diffusion-4-full", "noise_schedule": "native"}, "native"),
        ({"model": "nai-diffusion-4-5-full", "smea": "SMEA"}, "SMEA"),
        ({"model": "nai-diffusion-5-full", "variety": True}, "Variety+"),
        ({"model": "nai-diffusion-3", "noise_schedule": "native", "transparent_background": True},
         "transparency"),
        ({"width": 250}, "multiple of 64"),
        ({"samples": 8, "width": 1024, "height": 1024}, "^samples: 8 is outside"),
    ],
)  # fmt: skip
def test_settings_a_model_cannot_take_are_refused_before_any_request(
    sim: Any, overrides: dict[str, Any], words: str
) -> None:
    with pytest.raises(errors.InputError, match=words):
        run_generate_node(**overrides)
    assert sim.stats()["requests"] == {}


def test_vibes_on_v5_and_too_many_characters_are_refused_locally(sim: Any) -> None:
    (vibes,) = NODES["NovelAI_Vibe"]().append(
        image=_image(), information_extracted=1.0, strength=0.6
    )
    with pytest.raises(errors.InputError, match="no vibe transfer"):
        run_generate_node(model="nai-diffusion-5-full", vibes=vibes)
    chain: tuple[Any, ...] = ()
    for index in range(7):
        (chain,) = NODES["NovelAI_Character"]().append(
            prompt=f"girl {index}", uc="", position="C3", x=0.5, y=0.5, enabled=True,
            characters=chain,
        )  # fmt: skip
    with pytest.raises(errors.InputError, match="at most 6"):
        run_generate_node(characters=chain)
    assert sim.stats()["requests"] == {}


def test_v5_maps_any_noise_schedule_to_karras_as_the_web_app_does(sim: Any) -> None:
    run_generate_node(model="nai-diffusion-5-full", noise_schedule="exponential")
    assert sim.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]["noise_schedule"] == "karras"


def test_a_source_of_another_size_is_fitted_to_the_canvas(sim: Any) -> None:
    (source,) = NODES["NovelAI_Img2Img"]().build(
        image=_image(100, 40), strength=0.5, noise=0.0, color_correct=False
    )
    images, *_ = run_generate_node(source=source)
    assert images.shape == (1, 384, 256, 3)
    assert source.image.size == (100, 40)  # the config itself is untouched
    body = sim.requests_seen(PATH_GENERATE_STREAM)[-1]
    assert body["action"] == "img2img" and body["parameters"]["strength"] == 0.5


def test_a_fitted_source_is_png_encoded_once_per_run_though_the_request_is_built_twice(
    sim: Any, png_encodes: list[str]
) -> None:
    (source,) = NODES["NovelAI_Img2Img"]().build(
        image=_image(100, 40), strength=0.5, noise=0.0, color_correct=False
    )
    for seed in (1, 2):  # built for the recent-results store's key, then to send
        run_generate_node(source=source, seed=seed)
    assert png_encodes == ["png", "png"]
    assert len(sim.requests_seen(PATH_GENERATE_STREAM)) == 2


def test_without_stream_one_plain_request_returns_the_same_images(sim: Any) -> None:
    streamed, _, _, metadata = run_generate_node(stream=True)
    plain, _, seed, _ = run_generate_node(stream=False)
    assert sim.stats()["requests"][PATH_GENERATE] == 1
    assert torch.equal(streamed, plain)
    assert json.loads(metadata)["seed"] == seed == 42


def test_a_missing_token_says_where_it_looked_and_sends_nothing(
    sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NAI_ACCESS_TOKEN")
    with pytest.raises(errors.MissingTokenError, match="NAI_ACCESS_TOKEN"):
        run_generate_node()
    assert _paid_calls(sim) == 0


# ----------------------------------------------------------- progress, preview, text, cancel


def test_progress_advances_per_step_with_the_jpeg_preview_and_the_cost_text(sim: Any) -> None:
    with comfy_runtime() as runtime:
        images, *_ = run_generate_node(samples=2, steps=5, spend_guard="up to 50 Anlas")
    assert images.shape[0] == 2
    assert runtime.bars == [(10, "7")]
    values = [value for value, _, _ in runtime.updates]
    assert values == sorted(values) and values[-1] == 10
    previews = [preview for _, _, preview in runtime.updates if preview is not None]
    assert len(previews) == 10  # 5 steps × 2 samples
    kind, picture, size = previews[0]
    assert kind == "JPEG" and isinstance(picture, Image.Image) and size == runtime.preview_size
    texts = [text for text, node in runtime.texts if node == "7"]
    assert texts[0].startswith("Sending to NovelAI: about ") and texts[0].endswith(" Anlas.")
    assert texts[-1] == texts[0].replace("Sending to NovelAI", "Done")


def test_cancel_during_a_slow_stream_stops_within_half_a_second(sim: Any) -> None:
    sim.set_step_ms(150)  # 28 steps ≈ 4 s of streaming
    with comfy_runtime() as runtime:
        pressed: list[float] = []

        def press_cancel() -> None:
            if runtime.progressed.wait(timeout=10):  # the stream is flowing
                pressed.append(time.monotonic())
                runtime.interrupted.set()

        threading.Thread(target=press_cancel, daemon=True).start()
        with pytest.raises(InterruptProcessingException):
            run_generate_node(steps=28)
        stopped = time.monotonic()
    assert pressed and stopped - pressed[0] < 0.5
    assert not runtime.interrupted.is_set()  # cleared, as ComfyUI's own throw does


def test_cancel_outside_comfyui_raises_the_clients_cancelled_error(
    sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = pack_module("nodes.runtime.progress").GenerationProgress
    monkeypatch.setattr(progress, "cancelled", staticmethod(lambda: True))
    with pytest.raises(errors.CancelledError):
        run_generate_node()
    assert _paid_calls(sim) == 0


def test_a_429_wait_is_shown_as_progress_text(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client, transport = (
        pack_module("novelai_core.client"),
        pack_module("novelai_core.transport.http_transport"),
    )
    fast = client.NovelAIClient(retry=transport.RetryPolicy(initial_delay=0.05))
    monkeypatch.setattr(pack_module("nodes.runtime.session"), "get_client", lambda: fast)
    sim.set_fault("concurrent_429", count=1, path=PATH_GENERATE_STREAM)
    with comfy_runtime() as runtime:
        images, *_ = run_generate_node()
    assert images.shape == (1, 384, 256, 3)
    texts = [text for text, _ in runtime.texts]
    assert any(
        t.startswith("Waiting: another generation is running on this account") for t in texts
    )
    assert texts[-1] == "Done: free."


# --------------------------------------------------------------------------------- account


def test_the_account_node_shows_the_masked_token_tier_and_anlas(sim: Any) -> None:
    sim.set_balance(None, 1234)
    result = call_node(NODES["NovelAI_Account"]())
    (text,) = result["result"]
    assert result["ui"]["text"] == [text]
    assert "Opus" in text and "1234" in text and "env NAI_ACCESS_TOKEN" in text
    assert SIM_TOKEN not in text
    assert sim.stats()["requests"] == {PATH_SUBSCRIPTION: 1}


def test_the_account_node_shows_how_much_of_the_opus_v5_allowance_is_used(sim: Any) -> None:
    sim.set_v5_usage(37)
    (text,) = call_node(NODES["NovelAI_Account"]())["result"]
    assert "V5 allowance: 37% used; V5 images are free on Opus until 100%" in text


def test_the_account_node_says_when_v5_stops_being_free_on_opus(sim: Any) -> None:
    sim.set_v5_usage(100)
    (text,) = call_node(NODES["NovelAI_Account"]())["result"]
    assert "V5 allowance: 100% used; V5 images cost Anlas until the allowance renews" in text


def test_below_opus_the_account_node_calls_the_v5_allowance_an_opus_perk(sim: Any) -> None:
    sim.set_tier(2)
    sim.set_v5_usage(10)
    (text,) = call_node(NODES["NovelAI_Account"]())["result"]
    assert "V5 allowance: 10% used (only Opus has free V5 images)" in text


def test_an_account_without_usage_shows_the_v5_allowance_as_not_reported() -> None:
    account = pack_module("nodes.account")
    assert account.v5_allowance_text(3, None) == "V5 allowance: not reported"


def test_an_opaque_generation_gives_a_zero_mask_though_its_alpha_holds_the_metadata(
    sim: Any,
) -> None:
    originals = pack_module("nodes.runtime.originals")
    with comfy_runtime():
        images, mask, _, _ = run_generate_node(stream=False)
    png = originals.lookup(pack_module("nodes.runtime.tensors").tensor_to_pil(images))
    alpha = Image.open(io.BytesIO(png)).getchannel("A")
    assert alpha.getextrema()[0] < 255  # the stealth metadata lives in the alpha's low bits
    assert mask.shape == images.shape[:3] and not mask.any()


def test_a_transparent_v5_generation_gives_the_alpha_as_its_mask(sim: Any) -> None:
    with comfy_runtime():
        images, mask, _, _ = run_generate_node(
            model="nai-diffusion-5-full",
            transparent_background=True,
            spend_guard="no limit",
            stream=False,
        )
    assert mask.shape == images.shape[:3]
    assert float(mask.max()) == 1.0 and float(mask.min()) == 0.0
