"""The CLI's dry run: one JSON object with the exact body and the estimate; clean input errors."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from novelai_core.cli import build_parser, main
from novelai_core.cli.generate_command import build_request_from_args
from novelai_core.converter.generation import build_generate_request
from tests.golden_cases import box_mask, solid

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "novelai_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _dry(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["generate", *args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object on one line
    result: dict[str, Any] = json.loads(out)
    return result


def test_a_subprocess_dry_run_prints_one_json_object_with_the_exact_body() -> None:
    done = _run(
        "generate", "--model", "nai-diffusion-4-5-full", "--prompt", "1girl", "--seed", "42",
        "--steps", "28", "--character", "girl, red hair", "--at", "B2", "--dry-run",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    output = json.loads(done.stdout)
    assert set(output) == {"endpoint", "request", "anlas"}
    assert output["endpoint"] == "/ai/generate-image"
    assert output["anlas"] == {"estimate": 20, "free_for_opus": True}
    params = output["request"]["parameters"]
    assert params["seed"] == 42
    assert params["characterPrompts"][0]["center"] == {"x": 0.3, "y": 0.3}


def test_the_dry_run_body_equals_the_converters_for_the_same_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        "generate", "--model", "nai-diffusion-3", "--prompt", "cat", "--negative", "dog",
        "--width", "1024", "--height", "1024", "--steps", "30", "--scale", "6.5",
        "--sampler", "k_dpmpp_2m", "--noise-schedule", "karras", "--seed", "9", "--samples", "2",
        "--uc-preset", "light", "--variety", "--smea",
    ]  # fmt: skip
    output = _dry(capsys, *argv[1:])
    request = build_request_from_args(build_parser().parse_args(argv))
    assert output["request"] == build_generate_request(request).body
    params = output["request"]["parameters"]
    assert (params["scale"], params["n_samples"], params["sm"]) == (6.5, 2, True)
    assert output["anlas"]["free_for_opus"] is False  # 2 samples: only one is free


def test_without_a_seed_a_dry_run_draws_a_random_one(capsys: pytest.CaptureFixture[str]) -> None:
    seeds = {_dry(capsys, "--prompt", "x")["request"]["parameters"]["seed"] for _ in range(3)}
    assert len(seeds) > 1
    assert all(0 <= s < 2**32 for s in seeds)  # R12: the full unsigned 32-bit range


def test_no_quality_and_free_positions_on_v5(capsys: pytest.CaptureFixture[str]) -> None:
    output = _dry(
        capsys, "--model", "nai-diffusion-5-full", "--prompt", "2girls", "--no-quality",
        "--seed", "1", "--character", "a", "--at", "0.25,0.75", "--character-uc", "hat",
        "--character", "b", "--at", "ai",
    )  # fmt: skip
    body = output["request"]
    assert body["input"] == "2girls"
    assert body["parameters"]["tag_hint_qt"] == 0
    prompts = body["parameters"]["characterPrompts"]
    assert [(p["prompt"], p["uc"], p["center"]) for p in prompts] == [
        ("a", "hat", {"x": 0.25, "y": 0.75}),
        ("b", "", {"x": 0.5, "y": 0.5}),
    ]


def test_img2img_and_inpaint_from_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image, mask = tmp_path / "in.png", tmp_path / "mask.png"
    solid((832, 1216), (10, 20, 30)).save(image)
    box_mask((832, 1216), (0, 0, 64, 64)).save(mask)
    img2img = _dry(
        capsys, "--prompt", "x", "--seed", "5", "--image", str(image), "--strength", "0.5"
    )
    assert img2img["request"]["action"] == "img2img"
    assert img2img["request"]["parameters"]["strength"] == 0.5
    assert img2img["request"]["parameters"]["extra_noise_seed"] == 4
    inpaint = _dry(capsys, "--prompt", "x", "--image", str(image), "--mask", str(mask))
    assert inpaint["request"]["model"] == "nai-diffusion-4-5-full-inpainting"
    v5 = _dry(
        capsys, "--model", "nai-diffusion-5-full", "--prompt", "x", "--image", str(image),
    )  # fmt: skip
    # R9 d: inline base64 in JSON for V5 too; R8: extra_noise_seed = seed − 1.
    v5_params = v5["request"]["parameters"]
    assert base64.b64decode(v5_params["image"]).startswith(b"\x89PNG")
    assert v5_params["extra_noise_seed"] == (v5_params["seed"] - 1) % 2**32
    assert "multipart_parts" not in v5


def test_the_tier_option_applies_the_opus_rule(capsys: pytest.CaptureFixture[str]) -> None:
    paid = _dry(capsys, "--prompt", "x", "--steps", "28", "--seed", "1")
    opus = _dry(capsys, "--prompt", "x", "--steps", "28", "--seed", "1", "--tier", "3")
    assert (paid["anlas"]["estimate"], opus["anlas"]["estimate"]) == (20, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prompt", "x", "--width", "800"], "settings.width: 800"),
        (["--prompt", "x", "--steps", "60"], "settings.steps: 60"),
        (["--prompt", ""], "prompt.text"),
        (["--prompt", "x", "--model", "nai-diffusion-9"], "unknown model"),
        (["--model", "nai-diffusion-3", "--prompt", "x", "--character", "a"], "characters"),
        (["--prompt", "x", "--uc-preset", "extreme"], "prompt.uc_preset"),
        (["--prompt", "x", "--image", "/no/such/file.png"], "No such file"),
        (["--prompt", "x", "--image", "README.md"], "not a PNG"),
        (["--prompt", "x", "--mask", "m.png"], "--mask needs --image"),
        (["--prompt", "x", "--character", "a", "--at", "Z9"], "A1..E5"),
        (["--prompt", "x", "--at", "A1"], "must follow a --character"),
        (["--prompt", "x", "--steps", "many"], "invalid int value"),
    ],
)
def test_invalid_input_exits_2_with_one_line_on_stderr(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["generate", *args, "--dry-run"])
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_a_subprocess_error_has_no_traceback() -> None:
    done = _run("generate", "--prompt", "x", "--samples", "9", "--dry-run")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert "Traceback" not in done.stderr
    assert "settings.n_samples" in done.stderr


def test_importing_novelai_core_imports_neither_torch_nor_comfy() -> None:
    code = (
        "import sys, novelai_core, novelai_core.converter.generation, novelai_core.cli,"
        " novelai_core.converter.images;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'comfy')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_transparent_background_and_the_web_preset_names_reach_the_body(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--model", "nai-diffusion-5-full", "--prompt", "cat", "--seed", "1"]
    body = _dry(capsys, *argv, "--transparent-background", "--uc-preset", "humanFocus")["request"]
    params = body["parameters"]
    assert body["input"].startswith("cat, transparent background, ")
    assert params["tag_hint_transparent_background"] is True
    assert (params["ucPresetId"], params["tag_hint_uc_preset"]) == ("humanFocus", 4)
    old_name = _dry(capsys, *argv, "--uc-preset", "human")["request"]["parameters"]
    assert old_name["ucPresetId"] == "humanFocus"


def test_a_vibe_file_with_strength_and_information_reaches_the_body(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from novelai_core.vibes.export import build_vibe_file

    model = "nai-diffusion-4-5-full"
    document = build_vibe_file(
        solid((64, 64), (1, 2, 3)),
        [(model, 0.5, b"encoding-at-half")],
        name="mine",
        model=model,
        information_extracted=0.5,
    )
    path = tmp_path / "mine.naiv4vibe"
    path.write_text(json.dumps(document), encoding="utf-8")
    params = _dry(capsys, "--prompt", "x", "--seed", "1", "--vibe", f"{path}:0.3:0.5")["request"][
        "parameters"
    ]
    assert params["reference_strength_multiple"] == [0.3]
    assert base64.b64decode(params["reference_image_multiple"][0]) == b"encoding-at-half"


def test_an_image_vibe_on_v3_and_a_character_reference_with_type_and_fidelity(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    image = tmp_path / "ref.png"
    solid((600, 400), (200, 10, 10)).save(image)
    v3 = _dry(
        capsys, "--model", "nai-diffusion-3", "--prompt", "x", "--seed", "1",
        "--vibe", f"{image}:0.4:0.8",
    )["request"]["parameters"]  # fmt: skip
    assert v3["reference_strength_multiple"] == [0.4]
    assert v3["reference_information_extracted_multiple"] == [0.8]
    ref = _dry(
        capsys, "--prompt", "x", "--seed", "1", "--reference", str(image),
        "--reference-type", "style", "--reference-fidelity", "0.25",
    )["request"]["parameters"]  # fmt: skip
    assert ref["director_reference_descriptions"][0]["caption"]["base_caption"] == "style"
    assert ref["director_reference_secondary_strength_values"] == [0.75]


def test_reference_options_need_a_reference_first() -> None:
    done = _run("generate", "--prompt", "x", "--reference-fidelity", "0.5", "--dry-run")
    assert done.returncode == 2
    assert "must follow a --reference" in done.stderr
