"""The simulator answers as NovelAI's 2026 service does (shared/novelai-api-2026.md §2 R9, §3).

Plain HTTP bodies, no SDK client: these rules come from the official schema, the captures and
published live probes, so the simulator can catch the client breaking them.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from novelai_core.simulator import Simulator
from tests.simulator_support import V3, V5, V45, b64, body, png, session, unzip

GEN = "/ai/generate-image"
V5_INPAINT = "nai-diffusion-5-full-inpainting"


def post(sim: Simulator, b: object, **kwargs: Any) -> requests.Response:
    return session(sim).post(sim.url + GEN, json=b, timeout=10, **kwargs)


def _go_error(field: str, shown: str, go_type: str, struct: str = "RequestParameters") -> str:
    return f"json: cannot unmarshal {shown} into Go struct field {struct}.{field} of type {go_type}"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        # The project's old bug (F1): a boolean where the schema declares an integer.
        ({"tag_hint_qt": True}, _go_error("parameters.tag_hint_qt", "bool", "int")),
        # Integer fields are parsed from the literal: a whole float still fails.
        ({"width": 1248.0}, _go_error("parameters.width", "number 1248.0", "int")),
        ({"seed": -1}, _go_error("parameters.seed", "number -1", "uint64")),  # I-a, verbatim
        ({"scale": "5.0"}, _go_error("parameters.scale", "string", "float64")),
        ({"straight_alpha": 1}, _go_error("parameters.straight_alpha", "number", "bool")),
        (
            {"v4_prompt": {"caption": {"base_caption": "x", "char_captions": [{"centers": {}}]}}},
            _go_error(
                "parameters.v4_prompt.caption.char_captions.centers",
                "object",
                "[]image.Coordinates",
                struct="V4ExternalCharacterCaption",
            ),
        ),
    ],
)
def test_a_value_of_the_wrong_json_type_gets_a_500_with_gos_decoder_text(
    simulator: Simulator, params: dict[str, Any], message: str
) -> None:
    r = post(simulator, body(V5, **params))
    assert (r.status_code, r.json()["message"]) == (500, message)
    assert simulator.balance() == 10_000


def test_undeclared_keys_null_and_differently_cased_keys_are_accepted(simulator: Simulator) -> None:
    b = body(V45, skip_cfg_above_sigma=None, ucPresetId="none", characterPrompts=[])
    b["parameters"]["Seed"] = b["parameters"].pop("seed")
    b["use_new_shared_trial"] = True
    assert post(simulator, b).status_code == 200


def test_v5_with_a_character_reference_gets_the_director_encoder_400(simulator: Simulator) -> None:
    r = post(
        simulator,
        body(
            V5,
            director_reference_images=[b64(png(1024, 1536))],
            director_reference_descriptions=[{"caption": {"base_caption": "character"}}],
            director_reference_information_extracted=[1],
            director_reference_strength_values=[1],
            director_reference_secondary_strength_values=[0],
        ),
    )
    assert r.status_code == 400
    message = r.json()["message"]
    assert message.startswith("Error encoding v4 director references: ")
    assert message.endswith("no such host")


def test_a_character_reference_off_the_three_canvases_gets_400(simulator: Simulator) -> None:
    def with_reference(width: int, height: int) -> dict[str, Any]:
        return body(
            V45,
            director_reference_images=[b64(png(width, height))],
            director_reference_descriptions=[{"caption": {"base_caption": "character"}}],
            director_reference_information_extracted=[1],
            director_reference_strength_values=[1],
            director_reference_secondary_strength_values=[0],
        )

    r = post(simulator, with_reference(600, 400))
    assert (r.status_code, r.json()["message"]) == (
        400,
        "Error encoding v4 director references: non-200 response: 400",
    )
    assert post(simulator, with_reference(1536, 1024)).status_code == 200


def test_infill_on_a_model_without_inpainting_gets_400_with_bytes_after_the_json(
    simulator: Simulator,
) -> None:
    b = body(V45, action="infill", image=b64(png(256, 384)), mask=b64(png(256, 384)))
    r = post(simulator, b)
    assert r.status_code == 400
    first, end = json.JSONDecoder().raw_decode(r.text)
    assert first["message"] == f"Model {V45} doesn't support action infill"
    assert r.text[end:].strip()  # trailing bytes, as NovelAI sends (R9 b)


def test_v5_with_vibe_encodings_gets_a_500(simulator: Simulator) -> None:
    b = body(V5, reference_image_multiple=[b64(b"NAISIMVIBE1x")], reference_strength_multiple=[1])
    r = post(simulator, b)
    assert (r.status_code, r.json()["message"]) == (500, "Internal Server Error")


def test_an_image_on_a_plain_generation_gets_400(simulator: Simulator) -> None:
    r = post(simulator, body(V45, image=b64(png(256, 384))))
    assert (r.status_code, r.json()["message"]) == (
        400,
        "image is not allowed for regular generations",
    )


def test_img2img_ignores_a_mask(simulator: Simulator) -> None:
    b = body(V45, action="img2img", image=b64(png(256, 384)), mask="not even an image")
    assert post(simulator, b).status_code == 200


def test_v3_with_v4_captions_gets_a_bare_500(simulator: Simulator) -> None:
    b = body(V3, v4_prompt={"caption": {"base_caption": "x", "char_captions": []}})
    r = post(simulator, b)
    assert (r.status_code, r.json()["message"]) == (500, "Internal Server Error")


def test_a_stale_web_cache_key_gets_invalid_cache_keys(simulator: Simulator) -> None:
    b = body(V5, action="img2img", strength=0.5, image_cache_secret_key="abc123")
    r = post(simulator, b)
    assert r.status_code == 400
    assert r.json()["message"] == "INVALID_CACHE_KEYS"
    assert r.json()["details"] == {"invalidKeys": ["abc123"]}


def test_the_native_noise_schedule_on_v45_is_accepted(simulator: Simulator) -> None:
    # Other packs send it by default with no reported failure; no source shows a refusal.
    assert post(simulator, body(V45, noise_schedule="native")).status_code == 200


def test_unknown_model_on_suggest_tags_gets_model_not_found(simulator: Simulator) -> None:
    r = session(simulator).get(
        simulator.url + "/ai/generate-image/suggest-tags",
        params={"model": "nai-diffusion-9", "prompt": "cat"},
        timeout=10,
    )
    assert (r.status_code, r.json()["message"]) == (400, "Model not found")


def _alpha_share(data: bytes) -> float:
    image = Image.open(io.BytesIO(data)).convert("RGBA")
    return float((np.asarray(image)[:, :, 3] == 0).mean())


def test_only_the_prompt_tag_makes_a_v5_image_transparent(simulator: Simulator) -> None:
    flags = {"straight_alpha": True, "tag_hint_transparent_background": True}
    flags_only = unzip(post(simulator, body(V5, **flags)).content)[0][1]
    tagged = body(V5, prompt="1girl, transparent background, very aesthetic", **flags)
    with_tag = unzip(post(simulator, tagged).content)[0][1]
    assert _alpha_share(flags_only) == 0
    assert _alpha_share(with_tag) > 0.1


def test_accept_json_returns_the_schemas_image_list(simulator: Simulator) -> None:
    r = post(simulator, body(V45, seed=11, n_samples=2), headers={"Accept": "application/json"})
    assert r.status_code == 200
    images = r.json()["images"]
    assert [(i["index"], i["seed"]) for i in images] == [(0, 11), (1, 12)]
    decoded = Image.open(io.BytesIO(base64.b64decode(images[0]["image"])))
    assert decoded.size == (256, 384)


def test_upscale_also_answers_json_when_asked(simulator: Simulator) -> None:
    r = session(simulator).post(
        simulator.url + "/ai/upscale",
        json={
            "image": b64(png(64, 96)),
            "model": "nai-diffusion-5-curated",
            "declared_blur_sigma": 0,
        },
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert r.status_code == 200
    (image,) = r.json()["images"]
    assert Image.open(io.BytesIO(base64.b64decode(image["image"]))).size == (128, 192)


def test_schema_statuses_answer_201_where_the_schema_documents_it(simulator: Simulator) -> None:
    simulator.use_schema_statuses()
    r = post(simulator, body(V45), headers={"Accept": "application/json"})
    assert r.status_code == 201
    vibe = session(simulator).post(
        simulator.url + "/ai/encode-vibe",
        json={"image": b64(png(64, 64)), "information_extracted": 1, "model": V45},
        timeout=10,
    )
    assert vibe.status_code == 201


def test_encode_vibe_takes_the_web_apps_multipart_form(simulator: Simulator) -> None:
    request = {"image": "image", "information_extracted": 0.5, "model": V45}
    files = {
        "image": ("blob", png(64, 64), "image/png"),
        "request": ("blob", json.dumps(request), "application/json"),
    }
    r = session(simulator).post(simulator.url + "/ai/encode-vibe", files=files, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content


def test_v5_infill_takes_json_base64_as_live_probes_did(simulator: Simulator) -> None:
    b = body(
        V5_INPAINT,
        action="infill",
        image=b64(png(256, 384)),
        mask=b64(png(256, 384, (255, 255, 255))),
        strength=0.7,
        extra_noise_seed=0,
    )
    assert post(simulator, b).status_code == 200
