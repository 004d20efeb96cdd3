"""Simulator contract: encode-vibe, Director tools, upscale and suggest-tags."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from novelai_core.contract.constants import AUGMENT_TOOLS
from novelai_core.simulator import VIBE_MAGIC, Simulator
from novelai_core.simulator.vibe_encodings import read_encoding
from tests.simulator_support import V45, b64, body, png, session, unzip


def encode(sim: Simulator, model: str, info: float = 0.7) -> requests.Response:
    b = {"image": b64(png(128, 128)), "information_extracted": info, "model": model}
    return session(sim).post(sim.url + "/ai/encode-vibe", json=b, timeout=10)


def test_encode_vibe_records_model_and_information_and_costs_2(simulator: Simulator) -> None:
    r = encode(simulator, V45, 0.7)
    assert r.status_code == 200
    assert r.content.startswith(VIBE_MAGIC)
    assert read_encoding(r.content) is not None
    header = read_encoding(r.content) or {}
    assert (header["model"], header["information_extracted"]) == (V45, 0.7)
    assert simulator.balance() == 10_000 - 2
    assert encode(simulator, V45, 0.7).content != r.content  # not deterministic, like NovelAI


def test_an_encoding_serves_its_own_model_only(simulator: Simulator) -> None:
    encoding = b64(encode(simulator, V45).content)
    vibe = {"reference_image_multiple": [encoding], "reference_strength_multiple": [0.6]}
    s = session(simulator)
    ok = s.post(simulator.url + "/ai/generate-image", json=body(V45, **vibe), timeout=10)
    other = s.post(
        simulator.url + "/ai/generate-image", json=body("nai-diffusion-4-full", **vibe), timeout=10
    )
    assert ok.status_code == 200
    assert other.status_code == 500


@pytest.mark.parametrize(
    ("model", "status"),
    [("nai-diffusion-3", 500), ("nai-diffusion-5-full", 500), ("no-such-model", 400)],
)
def test_encode_vibe_refuses_models_without_encoded_vibes(
    simulator: Simulator, model: str, status: int
) -> None:
    assert encode(simulator, model).status_code == status
    assert simulator.balance() == 10_000


def augment(sim: Simulator, tool: str, **extra: object) -> requests.Response:
    b = {"req_type": tool, "image": b64(png(256, 384)), "width": 256, "height": 384, **extra}
    return session(sim).post(sim.url + "/ai/augment-image", json=b, timeout=10)


_EXTRA = {
    "colorize": {"prompt": "red dress", "defry": 0},
    "emotion": {"prompt": "happy;;", "defry": 0},
}


@pytest.mark.parametrize("tool", AUGMENT_TOOLS)
def test_every_director_tool_answers_a_zip_of_pngs(simulator: Simulator, tool: str) -> None:
    r = augment(simulator, tool, **_EXTRA.get(tool, {}))
    assert r.status_code == 200, r.text
    files = unzip(r.content)
    assert [name for name, _ in files] == [f"image_{i}.png" for i in range(len(files))]
    assert len(files) == (3 if tool == "bg-removal" else 1)
    assert Image.open(io.BytesIO(files[0][1])).size == (256, 384)


def test_background_removal_is_never_free_and_others_are_free_on_opus(
    simulator: Simulator,
) -> None:
    assert augment(simulator, "lineart").status_code == 200
    assert simulator.balance() == 10_000
    assert augment(simulator, "bg-removal").status_code == 200
    assert simulator.balance() == 10_000 - (3 * 2 + 5)  # 256x384 is the 2-Anlas minimum


@pytest.mark.parametrize(
    ("tool", "extra"),
    [
        ("emotion", {"prompt": "grumpy;;", "defry": 0}),
        ("emotion", {"prompt": "happy", "defry": 0}),
        ("colorize", {"prompt": "", "defry": 6}),
        ("not-a-tool", {}),
    ],
)
def test_bad_director_requests_are_refused(
    simulator: Simulator, tool: str, extra: dict[str, object]
) -> None:
    assert augment(simulator, tool, **extra).status_code == 400


def upscale(sim: Simulator, width: int, height: int) -> requests.Response:
    b = {
        "image": b64(png(width, height)),
        "model": "nai-diffusion-5-curated",
        "declared_blur_sigma": 0,
    }
    return session(sim).post(sim.url + "/ai/upscale", json=b, timeout=20)


def test_upscale_doubles_the_image_and_costs_1_for_a_small_source(simulator: Simulator) -> None:
    r = upscale(simulator, 320, 448)
    assert r.status_code == 200
    ((name, data),) = unzip(r.content)
    assert name == "image_0.png"
    assert Image.open(io.BytesIO(data)).size == (640, 896)
    assert simulator.balance() == 10_000 - 1


def test_upscale_refuses_sources_larger_than_1536_by_2048(simulator: Simulator) -> None:
    assert upscale(simulator, 1600, 1600).status_code == 400
    assert simulator.balance() == 10_000


def test_suggest_tags_completes_the_last_tag(simulator: Simulator) -> None:
    r = session(simulator).get(
        simulator.url + "/ai/generate-image/suggest-tags",
        params={"model": V45, "prompt": "1girl, blu", "lang": "en"},
        timeout=5,
    )
    tags = r.json()["tags"]
    assert r.status_code == 200 and tags
    assert all("blu" in t["tag"] and t["count"] > 0 and 0 <= t["confidence"] <= 1 for t in tags)
