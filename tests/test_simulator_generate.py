"""Simulator contract: auth, validation, ZIP output, metadata and deterministic pixels."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import requests
from PIL import Image

from novelai_core.metadata.reader import read_stealth, read_text_chunks
from novelai_core.simulator import Simulator, run_simulator
from tests.simulator_support import (
    V3,
    V5,
    V45,
    b64,
    body,
    pixels,
    png,
    session,
    unzip,
    with_characters,
)

GEN = "/ai/generate-image"


def post(sim: Simulator, b: object) -> requests.Response:
    return session(sim).post(sim.url + GEN, json=b, timeout=10)


def test_a_missing_or_wrong_token_gets_401_json(simulator: Simulator) -> None:
    plain = requests.post(simulator.url + GEN, json=body(), timeout=5)
    wrong = requests.post(
        simulator.url + GEN, json=body(), headers={"Authorization": "Bearer nope"}, timeout=5
    )
    for r in (plain, wrong):
        assert r.status_code == 401
        assert r.json()["statusCode"] == 401
    assert post(simulator, body()).status_code == 200


def test_a_simulator_without_a_token_accepts_any_request() -> None:
    with run_simulator(token=None) as sim:
        assert requests.post(sim.url + GEN, json=body(), timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("nai-diffusion-9", "Validation error: model nai-diffusion-9 doesn't exist"),
        (
            "nai-diffusion-5-curated-inpainting",
            "Validation error: model nai-diffusion-5-curated-inpainting doesn't exist",
        ),
    ],
)
def test_an_unknown_model_is_refused_with_nai_wording(
    simulator: Simulator, model: str, message: str
) -> None:
    r = post(simulator, body(model))
    assert (r.status_code, r.json()["message"]) == (400, message)


def _invalid_bodies() -> list[tuple[str, dict[str, object], int]]:
    no_v4 = body(V45)
    del no_v4["parameters"]["v4_prompt"]
    vibes_and_refs = body(
        V45,
        reference_image_multiple=[b64(b"NAISIMVIBE1whatever")],
        reference_strength_multiple=[0.6],
        director_reference_images=[b64(png(64, 64))],
        director_reference_descriptions=[{"caption": {"base_caption": "character"}}],
        director_reference_information_extracted=[1],
        director_reference_strength_values=[1],
        director_reference_secondary_strength_values=[0],
    )
    return [
        ("size not a multiple of 64", body(V45, width=832 + 8), 500),
        ("V4.5 without v4_prompt", no_v4, 500),
        ("sm on V5", body(V5, sm=True), 500),
        ("seven characters on V4.5", with_characters(body(V45), 7), 500),
        (
            "a raw image as a vibe on V4.5",
            body(V45, reference_image_multiple=[b64(png(64, 64))], reference_strength_multiple=[1]),
            500,
        ),
        ("vibes with character reference", vibes_and_refs, 400),
        ("too many samples for the area", body(V45, width=1024, height=1024, n_samples=5), 400),
        (
            "mismatched V3 vibe arrays",
            body(
                V3,
                reference_image_multiple=[b64(png(64, 64)), b64(png(64, 64))],
                reference_information_extracted_multiple=[1, 1],
                reference_strength_multiple=[0.5],
            ),
            400,
        ),
        # R12 / I-a: seed is a uint64, so the Go decoder refuses -1 with a 500.
        ("a negative seed", body(V45, seed=-1), 500),
    ]


@pytest.mark.parametrize(("case", "request_body", "status"), _invalid_bodies())
def test_invalid_requests_get_novelais_status_and_nothing_is_charged(
    simulator: Simulator, case: str, request_body: dict[str, object], status: int
) -> None:
    r = post(simulator, request_body)
    assert r.status_code == status, (case, r.text)
    assert r.json()["statusCode"] == status
    assert simulator.balance() == 10_000


def test_v5_accepts_32_characters_but_not_33(simulator: Simulator) -> None:
    assert post(simulator, with_characters(body(V5), 32)).status_code == 200
    assert post(simulator, with_characters(body(V5), 33)).status_code == 500


def test_inline_base64_in_json_on_v5_img2img_is_accepted(simulator: Simulator) -> None:
    # R9 d: the schema's JSON form; live probes got 200 for it on V5 img2img and infill.
    b = body(V5, action="img2img", image=b64(png(256, 384)), strength=0.5)
    assert post(simulator, b).status_code == 200


def test_base64_inside_a_multipart_body_is_refused_like_novelai(simulator: Simulator) -> None:
    # R9 d (F §7): in a multipart request every image field names a form part.
    b = body(V5, action="img2img", image=b64(png(256, 384)), strength=0.5)
    files = {"request": ("blob", json.dumps(b), "application/json")}
    r = session(simulator).post(simulator.url + GEN, files=files, timeout=10)
    assert r.status_code == 400
    assert r.json()["message"] == 'image field references unknown form part "iVBOR…"'


def test_v5_img2img_takes_the_image_as_a_multipart_part(simulator: Simulator) -> None:
    b = body(V5, action="img2img", image="image", strength=0.5)
    files = {
        "request": ("blob", json.dumps(b), "application/json"),
        "image": ("blob", png(256, 384), "image/png"),
    }
    r = session(simulator).post(simulator.url + GEN, files=files, timeout=10)
    assert r.status_code == 200, r.text
    seen = simulator.requests_seen(GEN)[-1]
    assert seen["parameters"]["image"] == "image"
    assert seen["_parts"]["image"].startswith("<image sha256=")


def test_the_zip_holds_one_rgba_png_per_sample_with_novelai_headers(simulator: Simulator) -> None:
    r = post(simulator, body(n_samples=3))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "binary/octet-stream"
    assert r.headers["Content-Disposition"] == "attachment; filename=images.zip"
    assert r.content.startswith(b"PK\x03\x04")
    files = unzip(r.content)
    assert [name for name, _ in files] == ["image_0.png", "image_1.png", "image_2.png"]
    for _, data in files:
        image = Image.open(io.BytesIO(data))
        assert (image.mode, image.size) == ("RGBA", (256, 384))


def test_pngs_carry_text_chunks_and_the_same_stealth_payload(simulator: Simulator) -> None:
    ((_, data),) = unzip(post(simulator, body(seed=42, prompt="1girl, hat")).content)
    chunks = read_text_chunks(data)
    assert chunks["Title"] == "AI generated image"
    assert chunks["Description"] == "1girl, hat"
    assert chunks["Software"] == "NovelAI"
    assert chunks["Source"] == "NovelAI Diffusion V4.5 4BDE2A90"  # as real V4.5 Full files
    assert json.loads(chunks["Comment"])["signed_hash"] == "simulator-unsigned"
    assert float(chunks["Generation time"]) >= 0
    comment = json.loads(chunks["Comment"])
    assert comment["seed"] == 42
    assert comment["prompt"] == "1girl, hat"
    assert comment["request_type"] == "PromptGenerateRequest"
    assert comment["v4_prompt"]["caption"]["base_caption"] == "1girl, hat"
    assert {"uc", "steps", "scale", "sampler", "signed_hash", "width", "height"} <= set(comment)
    assert read_stealth(Image.open(io.BytesIO(data))) == chunks


def test_same_request_same_pixels_and_sample_i_uses_seed_plus_i(simulator: Simulator) -> None:
    first = unzip(post(simulator, body(seed=7, n_samples=2)).content)
    again = unzip(post(simulator, body(seed=7, n_samples=2)).content)
    other = unzip(post(simulator, body(seed=8)).content)
    a0, a1 = pixels(first[0][1]), pixels(first[1][1])
    assert np.array_equal(a0[:, :, :3], pixels(again[0][1])[:, :, :3])
    assert not np.array_equal(a0[:, :, :3], a1[:, :, :3])
    assert np.array_equal(a1[:, :, :3], pixels(other[0][1])[:, :, :3])


def test_different_prompts_give_different_pixels(simulator: Simulator) -> None:
    a = unzip(post(simulator, body(prompt="cat")).content)[0][1]
    b = unzip(post(simulator, body(prompt="dog")).content)[0][1]
    assert not np.array_equal(pixels(a)[:, :, :3], pixels(b)[:, :, :3])


def test_img2img_output_is_visibly_derived_from_the_input(simulator: Simulator) -> None:
    source = png(256, 384, (10, 200, 30))
    plain = pixels(unzip(post(simulator, body()).content)[0][1])[:, :, :3].astype(float)
    b = body(action="img2img", image=b64(source), strength=0.2, noise=0)
    derived = pixels(unzip(post(simulator, b).content)[0][1])[:, :, :3].astype(float)
    target = np.array([10, 200, 30], dtype=float)
    assert np.abs(derived - target).mean() < np.abs(plain - target).mean() / 2
    assert (
        json.loads(read_text_chunks(unzip(post(simulator, b).content)[0][1])["Comment"])[
            "request_type"
        ]
        == "Img2ImgRequest"
    )


def _mask_left_half(width: int, height: int) -> bytes:
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[:, : width // 2] = 255
    buf = io.BytesIO()
    Image.fromarray(mask, "L").save(buf, "PNG")
    return buf.getvalue()


def test_inpaint_with_add_original_image_changes_only_the_masked_pixels(
    simulator: Simulator,
) -> None:
    source = png(256, 384, (90, 90, 200))
    b = body(
        "nai-diffusion-4-5-full-inpainting",
        action="infill",
        image=b64(source),
        mask=b64(_mask_left_half(256, 384)),
        strength=0.9,
        add_original_image=True,
    )
    r = post(simulator, b)
    assert r.status_code == 200, r.text
    out = pixels(unzip(r.content)[0][1])[:, :, :3]
    assert (out[:, 128:] == [90, 90, 200]).all()
    assert (out[:, :128] != [90, 90, 200]).any(axis=2).mean() > 0.5


def test_infill_on_a_generation_model_fails(simulator: Simulator) -> None:
    b = body(action="infill", image=b64(png(256, 384)), mask=b64(_mask_left_half(256, 384)))
    assert post(simulator, b).status_code == 400  # R9 b: "Model … doesn't support action infill"


def test_v5_transparent_background_makes_transparent_pixels(simulator: Simulator) -> None:
    b = body(V5, prompt="1girl, transparent background", straight_alpha=True)
    alpha = pixels(unzip(post(simulator, b).content)[0][1])[:, :, 3]
    assert (alpha <= 1).any() and (alpha >= 254).any()
    opaque = pixels(unzip(post(simulator, body(V5)).content)[0][1])[:, :, 3]
    assert opaque.min() >= 254
