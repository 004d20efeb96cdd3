"""The frontend's routes (pure handlers) against the simulator: capabilities, live estimate,
the graph of a dropped image, tag suggestions. None spends Anlas or answers with the token."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from novelai_core.contract.capabilities import GENERATION_MODEL_IDS, get_capability
from novelai_core.contract.constants import PATH_SUBSCRIPTION
from novelai_core.contract.cost import generation_cost
from tests.comfy_harness import pack_module
from tests.real_samples import REAL, requires_real_samples
from tests.simulator_support import SIM_TOKEN

routes = pack_module("nodes.frontend.handlers")
session = pack_module("nodes.runtime.session")
REAL_SAMPLES = REAL
V45 = "nai-diffusion-4-5-full"


@pytest.fixture
def sim(sim: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """conftest's simulator fixture, with the routes' account and tag caches fresh."""
    monkeypatch.setattr(routes, "ACCOUNT", routes._Account())
    monkeypatch.setattr(routes, "TAG_CACHE", routes._TagCache())
    yield sim


@pytest.fixture
def no_token(sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("NAI_ACCESS_TOKEN")
    return sim


def generate_node(**inputs: Any) -> dict[str, Any]:
    widgets = {
        "prompt": ["1", 0], "model": V45, "size": "Normal Portrait 832x1216", "width": 832,
        "height": 1216, "seed": 1, "steps": 23, "scale": 5.0, "sampler": "k_euler_ancestral",
        "noise_schedule": "karras", "cfg_rescale": 0.0, "variety": False, "samples": 1,
        "spend_guard": "free only", "stream": True, "smea": "off", "decrisper": False,
        "transparent_background": False,
    }  # fmt: skip
    widgets.update(inputs)
    return {"class_type": "NovelAI_Generate", "inputs": widgets}


def graph(**inputs: Any) -> dict[str, Any]:
    return {
        "1": {"class_type": "NovelAI_Prompt", "inputs": {"prompt": "1girl", "negative": ""}},
        "9": generate_node(**inputs),
    }


def ask(body: Any) -> tuple[int, dict[str, Any]]:
    status, answer = routes.estimate(body, session.get_client)
    assert SIM_TOKEN not in json.dumps(answer)
    return status, answer


def requests_seen(sim: Any) -> dict[str, int]:
    """Path → how many requests the simulator answered."""
    return {k: v for k, v in sim.stats()["requests"].items() if v}


def expected(model: str = V45, *, tier: int | None = 3, **kwargs: Any) -> int:
    params = {"width": 832, "height": 1216, "steps": 23} | kwargs
    return generation_cost(get_capability(model), tier=tier, **params).total


def test_capabilities_follow_the_python_table_for_every_generation_model() -> None:
    status, answer = routes.capabilities()
    assert status == 200
    assert list(answer["models"]) == list(GENERATION_MODEL_IDS)
    for model_id, row in answer["models"].items():
        cap = get_capability(model_id)
        assert row["smea"] == cap.smea and row["transparency"] == cap.transparency
        assert row["variety"] == (cap.variety_base is not None)
        assert row["character_reference"] == cap.character_reference
        assert row["defaults"]["scale"] == cap.default_scale
    assert answer["grid"]["cells"][12] == "C3"


def test_an_opus_account_sees_a_small_v45_image_as_free(sim: Any) -> None:
    status, answer = ask({"prompt": graph(), "node": "9"})
    assert status == 200
    assert answer["text"] == "free (Opus)"
    assert answer["tier_source"] == "account"


def test_four_samples_are_refused_by_free_only_with_the_cores_price(sim: Any) -> None:
    status, answer = ask({"prompt": graph(samples=4), "node": "9"})
    total = expected(n_samples=4)
    assert status == 200 and answer["total"] == total > 0
    assert answer["refused"] is True
    assert answer["text"] == f"refused: ≈ {total} Anlas is above the spend guard (free only)"


def test_an_allowing_guard_shows_the_price(sim: Any) -> None:
    _, answer = ask({"prompt": graph(samples=4, spend_guard="no limit"), "node": "9"})
    assert answer["text"] == f"≈ {expected(n_samples=4)} Anlas"


def test_fit_to_free_is_not_shown_as_refused_on_opus(sim: Any) -> None:
    _, answer = ask({"prompt": graph(samples=4, spend_guard="fit to free"), "node": "9"})
    total = expected(n_samples=4)
    assert answer["refused"] is False
    assert answer["text"] == f"≈ {total} Anlas as set; fit to free lowers it to Opus' free image"


def test_without_a_token_the_chosen_tier_is_used_and_named(no_token: Any) -> None:
    _, answer = ask({"prompt": graph(spend_guard="no limit"), "node": "9", "tier": 0})
    assert answer["total"] == expected(tier=0)
    assert answer["text"] == (
        f"≈ {expected(tier=0)} Anlas — no token: priced for Paper (Settings → NovelAI)"
    )
    assert requests_seen(no_token) == {}


def test_img2img_strength_and_character_references_come_from_upstream_nodes(sim: Any) -> None:
    g = graph(source=["2", 0], character_references=["4", 0], spend_guard="no limit")
    g["2"] = {"class_type": "NovelAI_Img2Img", "inputs": {"image": ["3", 0], "strength": 0.5}}
    g["4"] = {"class_type": "NovelAI_CharacterReference", "inputs": {"image": ["3", 0]}}
    g["3"] = {"class_type": "LoadImage", "inputs": {"image": "x.png"}}
    _, answer = ask({"prompt": g, "node": "9"})
    assert answer["total"] == expected(strength=0.5, character_references=1)


def test_chains_the_model_refuses_are_named_and_vibe_encodings_are_flagged(sim: Any) -> None:
    g = graph(vibes=["5", 0], spend_guard="no limit")
    g["5"] = {"class_type": "NovelAI_Vibe", "inputs": {"image": ["3", 0]}}
    g["3"] = {"class_type": "LoadImage", "inputs": {"image": "x.png"}}
    _, answer = ask({"prompt": g, "node": "9"})
    assert answer["text"] == "free (Opus) + 2 Anlas per vibe not yet encoded for this model"
    g["9"] = generate_node(model="nai-diffusion-5-full", vibes=["5", 0])
    _, answer = ask({"prompt": g, "node": "9"})
    assert answer["refused"] is True
    assert answer["text"] == "refused: NAI Diffusion V5 Full takes no vibes"
    g["9"] = generate_node(model="nai-diffusion-4-full", character_references=["6", 0])
    g["6"] = {"class_type": "NovelAI_CharacterReference", "inputs": {"image": ["3", 0]}}
    _, answer = ask({"prompt": g, "node": "9"})
    assert answer["text"] == (
        "refused: NAI Diffusion V4 Full takes no character references (V4.5 does)"
    )


def test_an_input_from_another_node_makes_the_cost_unknown_not_an_error(sim: Any) -> None:
    g = graph(steps=["5", 0])
    g["5"] = {"class_type": "SomeMathNode", "inputs": {}}
    status, answer = ask({"prompt": g, "node": "9"})
    assert status == 200 and answer == {
        "known": False, "text": "cost unknown: steps comes from another node",
        "tier_source": "account",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ([], 400),
        ({"prompt": "x", "node": "9"}, 400),
        ({"prompt": {}, "node": True}, 400),
        ({"prompt": {"9": {"class_type": "NovelAI_Generate"}}, "node": "9", "tier": 7}, 400),
        ({"prompt": {"9": {"class_type": "KSampler", "inputs": {}}}, "node": "9"}, 404),
    ],
)
def test_malformed_estimate_requests_get_a_json_error(sim: Any, body: Any, status: int) -> None:
    got, answer = ask(body)
    assert got == status and isinstance(answer["error"], str)


def test_estimates_send_nothing_paid_and_spend_no_anlas(sim: Any) -> None:
    before = sim.stats()["anlas"]
    for samples in (1, 4, 8):
        ask({"prompt": graph(samples=samples, spend_guard="no limit"), "node": "9"})
    # The account is looked up once (free), then reused; nothing else is asked.
    assert requests_seen(sim) == {PATH_SUBSCRIPTION: 1}
    assert sim.stats()["anlas"] == before


def png_with(chunks: dict[str, str]) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


@requires_real_samples
@pytest.mark.parametrize("name", ["sd-metadata__novelai-full-3char.webp"])
def test_a_real_novelai_webp_gives_its_settings_and_character_centres(name: str) -> None:
    status, answer = routes.image_graph((REAL_SAMPLES / name).read_bytes())
    params = answer["parameters"]
    assert status == 200 and answer["novelai"] is True
    assert (params["model"], params["seed"], params["width"]) == (V45, 447042893, 1024)
    assert [c["center"] for c in params["characters"]] == [[0.5, 0.3], [0.7, 0.7], [0.3, 0.7]]


def test_a_novelai_png_with_smea_gives_the_generate_widgets_values() -> None:
    comment = {"prompt": "1girl", "uc": "", "seed": 5, "steps": 28, "width": 832, "height": 1216,
               "scale": 5, "sampler": "k_euler", "sm": True, "sm_dyn": True, "n_samples": 1,
               "noise_schedule": "native", "dynamic_thresholding": True}  # fmt: skip
    data = png_with({"Comment": json.dumps(comment), "Source": "Stable Diffusion XL C1E1DE52"})
    _, answer = routes.image_graph(data)
    params = answer["parameters"]
    assert (params["model"], params["smea"], params["decrisper"]) == (
        "nai-diffusion-3", "SMEA+DYN", True,
    )  # fmt: skip
    assert params["noise_schedule"] == "native" and params["variety"] is False


def test_a_file_with_a_comfyui_workflow_is_left_to_comfyui() -> None:
    data = png_with({"Comment": json.dumps({"prompt": "x"}), "workflow": '{"nodes": []}'})
    assert routes.image_graph(data) == (200, {"comfy_workflow": True, "novelai": False})


def test_a_plain_png_is_not_novelai_and_junk_is_a_json_error() -> None:
    assert routes.image_graph(png_with({}))[1]["novelai"] is False
    assert routes.image_graph(b"not an image")[0] == 400
    assert routes.image_graph(b"")[0] == 400


def test_tag_suggestions_come_from_the_simulator_once_then_from_the_cache(sim: Any) -> None:
    query = {"prompt": "long h", "model": V45, "lang": "en"}
    first = routes.suggest_tags(query, session.get_client)
    second = routes.suggest_tags(query, session.get_client)
    assert first == second and first[0] == 200 and first[1]["tags"]
    assert {"tag", "count", "confidence"} <= set(first[1]["tags"][0])
    assert sum(requests_seen(sim).values()) == 1


def test_tag_suggestions_are_silent_without_a_token(no_token: Any) -> None:
    status, answer = routes.suggest_tags({"prompt": "blue", "model": V45}, session.get_client)
    assert status == 200 and answer["tags"] == [] and requests_seen(no_token) == {}


@pytest.mark.parametrize(
    "query",
    [
        {"prompt": "", "model": V45},
        {"prompt": "x" * 201, "model": V45},
        {"prompt": "blue", "model": "http://evil.example/"},
        {"prompt": "blue", "model": V45, "lang": "fr"},
    ],
)
def test_bad_tag_queries_are_refused_before_any_request(sim: Any, query: Any) -> None:
    assert routes.suggest_tags(query, session.get_client)[0] == 400
    assert requests_seen(sim) == {}
