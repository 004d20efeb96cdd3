"""Golden tests from real web-app captures (tests/captures/, copied from shared/novelai-api-2026.md
§3.6): each case builds the captured request from user-level settings and compares the bodies
field by field. The only differences allowed are listed per case, each with its reason; any other
difference (a key missing, an extra key, another value or JSON type) fails.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from novelai_core.converter.generation import build_generate_request
from novelai_core.models.user import (
    Character,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Prompt,
)
from novelai_core.simulator import Simulator, run_simulator
from novelai_core.simulator.go_decoding import PARAMETERS
from tests.golden_cases import box_mask, solid

CAPTURES = Path(__file__).parent / "captures"
TOKEN = "pst-capture-goldens"
_V5 = "nai-diffusion-5-full"
_WEB_PROMPT = "<PROMPT>"  # the capture's placeholder for the user's prompt
_SIZE = (832, 1216)
_INTEGER_FIELDS = {name for name, spec in PARAMETERS.fields.items() if spec in ("int", "uint64")}

# Reasons shared by several cases.
_REDACTED_PROMPT = (
    "the capture replaced the whole final prompt by <PROMPT>; the text we build is checked "
    "against R2/R4 in the test itself"
)
_IMAGE_INLINE = (
    "the web sent the PNG as a multipart part and put the part's name here; we send the same "
    "picture inline in base64 in a JSON body, the schema's form that live probes confirm for V5 "
    "img2img/infill (R9 d)"
)
_CACHE_KEY = (
    "web-app cache key (an HMAC of a client-side secret); a client without the cache omits it"
)
_SHARED_TRIAL = (
    "undeclared top-level flag the web app sends since its September 2026 release (C); the July "
    "capture predates it; harmless (unknown keys are ignored, §3.1)"
)
_LEGACY_UC = (
    "false is the Go zero value of this bool, so sending it equals leaving it out; the July "
    "capture has no legacy_uc, the 2025-05 (L) and 2026-09 (C) captures send it"
)


def _light_transparent_prompt() -> Prompt:
    return Prompt(
        text=_WEB_PROMPT, negative="monochrome, ", quality_preset="light", uc_preset="none"
    )


def _v5_settings(seed: int) -> GenerationSettings:
    return GenerationSettings(seed=seed, transparent_background=True, image_format="webp")


def _v5_txt2img() -> GenerationRequest:
    return GenerationRequest(
        model=_V5, prompt=_light_transparent_prompt(), settings=_v5_settings(1295653252)
    )


def _v5_img2img(seed: int) -> Callable[[], GenerationRequest]:
    def build() -> GenerationRequest:
        return GenerationRequest(
            model=_V5,
            prompt=_light_transparent_prompt(),
            settings=_v5_settings(seed),
            source=Img2ImgSource(image=solid(_SIZE, (40, 80, 120)), strength=0.7, noise=0),
        )

    return build


def _v5_infill() -> GenerationRequest:
    return GenerationRequest(
        model=_V5,
        prompt=_light_transparent_prompt(),
        settings=_v5_settings(2849895151),
        source=InpaintSource(
            image=solid(_SIZE, (40, 80, 120)),
            mask=box_mask(_SIZE, (64, 64, 448, 640)),
            strength=0.7,
            noise=0,
        ),
    )


def _v45_two_characters() -> GenerationRequest:
    return GenerationRequest(
        model="nai-diffusion-4-5-full",
        prompt=Prompt(text=_WEB_PROMPT, negative="<USER UC>", quality=False, uc_preset="heavy"),
        settings=GenerationSettings(
            width=1216,
            height=832,
            scale=7,
            steps=27,
            seed=1488442977,
            cfg_rescale=0.5,
            variety=True,
        ),
        characters=(
            Character(prompt="<CHARACTER 1 PROMPT>"),
            Character(prompt="<CHARACTER 2 PROMPT>"),
        ),
    )


_V5_COMMON = {
    "input": _REDACTED_PROMPT,
    "parameters.v4_prompt.caption.base_caption": _REDACTED_PROMPT,
}
# case → (capture file, request builder, {path: reason the value may differ}).
CASES: dict[str, tuple[str, Callable[[], GenerationRequest], dict[str, str]]] = {
    "v5 txt2img, transparent, light quality, no UC preset": (
        "v5_txt2img_transparent",
        _v5_txt2img,
        _V5_COMMON,
    ),
    "v5 img2img, picture uploaded": (
        "v5_img2img_upload",
        _v5_img2img(1876249869),
        {
            **_V5_COMMON,
            "parameters.image": _IMAGE_INLINE,
            "parameters.image_cache_secret_key": _CACHE_KEY,
        },
    ),
    "v5 img2img, picture from the web cache": (
        "v5_img2img_cached",
        _v5_img2img(989684936),
        {
            **_V5_COMMON,
            "parameters.image": "the web had sent this picture before and sent only its cache "
            "key; without the cache we send the picture (inline, R9 d)",
            "parameters.image_cache_secret_key": _CACHE_KEY,
        },
    ),
    "v5 infill": (
        "v5_infill",
        _v5_infill,
        {
            **_V5_COMMON,
            "parameters.image": _IMAGE_INLINE,
            "parameters.mask": _IMAGE_INLINE,
            "parameters.image_cache_secret_key": _CACHE_KEY,
            "parameters.mask_cache_secret_key": _CACHE_KEY,
        },
    ),
    "v4.5 full txt2img, two characters (July 2026)": (
        "v4_5_full_two_characters",
        _v45_two_characters,
        {
            "use_new_shared_trial": _SHARED_TRIAL,
            "parameters.legacy_uc": _LEGACY_UC,
            "parameters.v4_negative_prompt.legacy_uc": _LEGACY_UC,
        },
    ),
}


def _capture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def _same(captured: Any, ours: Any, path: str) -> bool:
    """Equal values of the same JSON kind; integer fields must be integer literals."""
    if isinstance(captured, bool) or isinstance(ours, bool):
        return type(captured) is type(ours) and captured == ours
    if path.rsplit(".", 1)[-1] in _INTEGER_FIELDS and type(ours) is not int:
        return False
    if isinstance(captured, (int, float)) and isinstance(ours, (int, float)):
        return bool(captured == ours)
    return type(captured) is type(ours) and captured == ours


def _differences(captured: dict[str, Any], ours: dict[str, Any]) -> set[str]:
    left, right = dict(_flatten(captured)), dict(_flatten(ours))
    return {
        path
        for path in left.keys() | right.keys()
        if path not in left or path not in right or not _same(left[path], right[path], path)
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_request_matches_the_web_apps_capture_field_by_field(case: str) -> None:
    name, build, allowed = CASES[case]
    capture = _capture(name)
    built = build_generate_request(build(), stream="msgpack")
    if capture["endpoint"] is not None:
        assert capture["endpoint"].endswith(built.endpoint)
    differences = _differences(capture["request"], built.body)
    assert differences == set(allowed), {
        path: (dict(_flatten(capture["request"])).get(path), dict(_flatten(built.body)).get(path))
        for path in differences ^ set(allowed)
    }


def test_the_redacted_v5_prompts_are_built_as_r2_says() -> None:
    for seed_case in ("v5 txt2img, transparent, light quality, no UC preset", "v5 infill"):
        _, build, _ = CASES[seed_case]
        body = build_generate_request(build()).body
        expected = (
            f"{_WEB_PROMPT}, transparent background, very aesthetic, amazing quality, no text"
        )
        assert body["input"] == expected
        assert body["parameters"]["v4_prompt"]["caption"]["base_caption"] == expected


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_simulator(token=TOKEN, anlas=100_000, tier=1) as simulator:
        yield simulator


def _post(sim: Simulator, **body: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.post(sim.url + "/ai/generate-image", headers=headers, timeout=(2, 60), **body)


def _png(size: tuple[int, int], colour: int) -> bytes:
    from novelai_core.converter.images import png_bytes

    return png_bytes(Image.new("RGB", size, (colour, colour, colour)))


@pytest.mark.parametrize(
    "name", ["v5_txt2img_transparent", "v5_img2img_upload", "v5_infill", "v4_5_full_two_characters"]
)
def test_the_simulator_accepts_the_web_apps_own_bodies(sim: Simulator, name: str) -> None:
    """The captured bodies (undeclared keys, multipart part names) are what NovelAI answered
    200 to, so the simulator must too; sent to the plain endpoint to get one ZIP."""
    request = _capture(name)["request"]
    params = request["parameters"]
    params.pop("stream", None)
    files = {"request": ("blob", json.dumps(request), "application/json")}
    for part in ("image", "mask"):
        if params.get(part) == part:
            files[part] = ("blob", _png(_SIZE, 255 if part == "mask" else 90), "image/png")
    response = _post(sim, files=files)
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"PK")


def test_base64_in_the_captures_image_field_goes_through_as_json(sim: Simulator) -> None:
    request = _capture("v5_img2img_upload")["request"]
    request["parameters"]["image"] = base64.b64encode(_png(_SIZE, 90)).decode()
    del request["parameters"]["stream"]
    response = _post(sim, json=request)
    assert response.status_code == 200, response.text
