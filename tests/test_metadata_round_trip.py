"""Round trip: generate on the simulator → read the PNG's metadata → rebuild → regenerate.

Both requests go through whatever converter is current, so the test follows converter changes:
the rebuilt request must give the same body (seed included), both as built locally (images
inline) and as the simulator received it. What metadata cannot hold (the img2img/inpaint source
and mask, vibe and reference pictures) is given again, and the parameters say it is missing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from novelai_core.contract.constants import PATH_GENERATE
from novelai_core.converter.generation import build_generate_request
from novelai_core.metadata.params import GenerationParameters, generation_parameters
from novelai_core.metadata.reader import read_metadata
from novelai_core.metadata.rebuild import rebuild_request
from novelai_core.models.user import (
    Character,
    CharacterReference,
    GenerationRequest,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Prompt,
    Vibe,
)
from novelai_core.simulator import Simulator
from tests.client_helpers import client_for

V3, V4, V4C = "nai-diffusion-3", "nai-diffusion-4-full", "nai-diffusion-4-curated-preview"
V45, V45C, V5 = "nai-diffusion-4-5-full", "nai-diffusion-4-5-curated", "nai-diffusion-5-full"
MODELS = (V3, V4, V4C, V45, V45C, V5)


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (256, 384)) -> bytes:
    image = Image.new("RGB", size, colour)
    image.paste((250, 250, 250), (40, 60, 120, 200))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _mask() -> bytes:
    mask = Image.new("L", (256, 384), 0)
    mask.paste(255, (64, 64, 192, 256))
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    return buf.getvalue()


SOURCE, MASK = _png((30, 120, 200)), _mask()


def _request(model: str, **extra: Any) -> GenerationRequest:
    prompt = extra.pop("prompt", Prompt(text="1girl, garden, smile", negative="blurry"))
    settings = extra.pop("settings", {})
    return GenerationRequest(
        model=model,
        prompt=prompt,
        settings=GenerationSettings(
            width=256,
            height=384,
            steps=9,
            scale=4.5,
            sampler="k_dpmpp_2m",
            seed=2_000_001,
            cfg_rescale=0.2,
            **settings,
        ),
        **extra,
    )


_CHARACTERS = (
    Character(prompt="girl, red hair", uc="hat", position="B2"),
    Character(prompt="boy, blue eyes", position="D4"),
)
_AI_PLACED = (Character(prompt="girl, red hair"), Character(prompt="cat ears", uc="tail"))

_IMG2IMG = Img2ImgSource(image=SOURCE, strength=0.55, noise=0.1)
_INPAINT = InpaintSource(image=SOURCE, mask=MASK, strength=0.6)

CASES: dict[str, GenerationRequest] = {
    **{f"{m} txt2img": _request(m) for m in MODELS},
    **{f"{m} img2img": _request(m, source=_IMG2IMG) for m in MODELS},
    **{f"{m} inpaint": _request(m, source=_INPAINT) for m in MODELS},
    **{f"{m} characters": _request(m, characters=_CHARACTERS) for m in MODELS[1:]},
    "V4.5 characters placed by the AI": _request(V45, characters=_AI_PLACED),
    "V3 SMEA DYN, decrisper, Variety+, light UC, no quality tags": _request(
        V3,
        prompt=Prompt(text="landscape, river", negative="people", quality=False, uc_preset="light"),
        settings={"smea": True, "smea_dyn": True, "decrisper": True, "variety": True},
    ),
    "V4.5 curated Variety+, human UC, karras exponential": _request(
        V45C,
        prompt=Prompt(text="portrait", uc_preset="humanFocus"),
        settings={"variety": True, "noise_schedule": "exponential"},
    ),
    "V5 light quality preset, no UC preset, transparent background": _request(
        V5,
        prompt=Prompt(text="a red apple", quality_preset="light", uc_preset="none"),
        settings={"transparent_background": True},
    ),
    "V4.5 prompt asking for nsfw itself": _request(
        V45, prompt=Prompt(text="nsfw, beach", negative="text")
    ),
}


def _generate(sim: Simulator, request: GenerationRequest) -> tuple[bytes, dict[str, Any]]:
    with client_for(sim) as client:
        result = client.generate(request)
    return result.images[0].png, sim.requests_seen(PATH_GENERATE)[-1]


def _rebuild(params: GenerationParameters, original: GenerationRequest) -> GenerationRequest:
    source = original.source
    return rebuild_request(
        params,
        image=source.image if source is not None else None,
        mask=source.mask if isinstance(source, InpaintSource) else None,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_regenerating_from_the_png_sends_the_same_request(simulator: Simulator, case: str) -> None:
    original = CASES[case]
    png, seen_a = _generate(simulator, original)
    meta = read_metadata(png)
    assert meta is not None
    params = generation_parameters(meta, Image.open(io.BytesIO(png)))
    rebuilt = _rebuild(params, original)

    built_a, built_b = build_generate_request(original), build_generate_request(rebuilt)
    assert built_b.body == built_a.body
    _, seen_b = _generate(simulator, rebuilt)
    assert seen_b == seen_a
    if original.source is not None:  # said, not dropped
        assert any("source image" in note for note in params.not_recorded)


def test_the_rebuilt_prompt_is_the_typed_text_with_the_presets_that_completed_it(
    simulator: Simulator,
) -> None:
    png, _ = _generate(simulator, CASES[f"{V45} txt2img"])
    meta = read_metadata(png)
    assert meta is not None
    params = generation_parameters(meta)
    assert (params.user_prompt, params.user_negative) == ("1girl, garden, smile", "blurry")
    assert (params.quality_tags, params.quality_preset, params.uc_preset) == (
        True, "standard", "heavy",
    )  # fmt: skip


def test_an_img2img_png_cannot_be_rebuilt_without_its_source_image(simulator: Simulator) -> None:
    png, _ = _generate(simulator, CASES[f"{V45} img2img"])
    meta = read_metadata(png)
    assert meta is not None
    with pytest.raises(ValueError, match="source image are not in the metadata"):
        rebuild_request(generation_parameters(meta))


def test_character_reference_settings_are_kept_and_the_missing_picture_is_named(
    simulator: Simulator,
) -> None:
    picture = _png((200, 40, 40))
    reference = CharacterReference(image=picture, mode="style", strength=0.7, fidelity=0.4)
    original = _request(V45, character_references=(reference,))
    png, seen_a = _generate(simulator, original)
    meta = read_metadata(png)
    assert meta is not None
    params = generation_parameters(meta)
    assert [(r.mode, r.strength, r.fidelity) for r in params.character_references] == [
        ("style", 0.7, 0.4)
    ]
    assert any("character reference" in note for note in params.not_recorded)
    with pytest.raises(ValueError, match="1 character reference"):
        rebuild_request(params)
    rebuilt = rebuild_request(params, reference_images=[reference.image])
    assert build_generate_request(rebuilt).body == build_generate_request(original).body
    assert _generate(simulator, rebuilt)[1] == seen_a


_CLI_CASES = [f"{V3} txt2img", f"{V45C} characters", f"{V5} inpaint", f"{V4} img2img"]


@pytest.mark.parametrize("case", _CLI_CASES)
def test_the_cli_rebuilds_the_same_request_from_the_file(
    simulator: Simulator, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from novelai_core.cli import main

    original = CASES[case]
    png, _ = _generate(simulator, original)
    made = tmp_path / "made.png"
    made.write_bytes(png)
    args = ["generate", "--from", str(made), "--dry-run"]
    if original.source is not None:
        (tmp_path / "source.png").write_bytes(SOURCE)
        args += ["--image", str(tmp_path / "source.png")]
        if isinstance(original.source, InpaintSource):
            (tmp_path / "mask.png").write_bytes(MASK)
            args += ["--mask", str(tmp_path / "mask.png")]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["request"] == json.loads(
        json.dumps(build_generate_request(original).body)
    )
    assert ("source image" in err) == (original.source is not None)


def test_the_cli_says_in_one_line_what_a_rebuild_lacks(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from novelai_core.cli import main

    png, _ = _generate(simulator, CASES[f"{V45} inpaint"])
    made = tmp_path / "made.png"
    made.write_bytes(png)
    assert main(["generate", "--from", str(made), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: the image was made by infill; its source image and mask")


@pytest.mark.parametrize("model", [V3, V45])
def test_vibe_settings_are_kept_and_the_missing_picture_is_named(
    simulator: Simulator, model: str
) -> None:
    picture = _png((20, 160, 90))
    encoding = None
    if model != V3:  # encoded once, so both requests carry the same encoding
        with client_for(simulator) as client:
            encoding = client.encode_vibe(picture, model=model, information_extracted=0.7)
    vibe = Vibe(
        image=picture, encoding=encoding, encoding_model=model if encoding else None,
        strength=0.45, information_extracted=0.7,
    )  # fmt: skip
    original = _request(model, vibes=(vibe,))
    png, seen_a = _generate(simulator, original)
    meta = read_metadata(png)
    assert meta is not None
    params = generation_parameters(meta)
    assert [v.strength for v in params.vibes] == [0.45]
    assert any("1 vibe" in note for note in params.not_recorded)
    with pytest.raises(ValueError, match="1 vibe"):
        rebuild_request(params)
    # The picture given again with other settings: the recorded ones win.
    rebuilt = rebuild_request(params, vibes=[vibe.model_copy(update={"strength": 0.9})])
    assert rebuilt.vibes[0].strength == 0.45
    assert _generate(simulator, rebuilt)[1] == seen_a
