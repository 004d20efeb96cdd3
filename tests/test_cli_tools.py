"""CLI tool commands: metadata, augment, upscale and prompt convert/tokens, through main() and
one real subprocess; errors are one line with a non-zero exit and never show the token."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from novelai_core.cli import main
from novelai_core.contract.constants import AUGMENT_TOOLS, PATH_AUGMENT, PATH_UPSCALE
from novelai_core.contract.tool_sizes import director_size
from tests.simulator_support import SIM_TOKEN
from tests.tool_support import novelai_png

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    monkeypatch.delenv("NOVELAI_API_KEY", raising=False)
    monkeypatch.delenv("NAI_IMAGE_BASE_URL", raising=False)
    monkeypatch.setenv("NAI_TOKEN_FILE", str(tmp_path / "no-token-file"))


def _image(path: Path, size: tuple[int, int] = (64, 96)) -> Path:
    Image.new("RGB", size, (10, 200, 90)).save(path)
    return path


def test_metadata_prints_the_parameters_as_json_in_a_new_process(tmp_path: Path) -> None:
    comment = {"prompt": "cat, 1.2::ears::", "uc": "dog", "seed": 7, "steps": 28, "scale": 5.0,
               "sampler": "k_euler", "width": 64, "height": 96}  # fmt: skip
    png = tmp_path / "nai.png"
    png.write_bytes(novelai_png(comment, text=False))  # only the alpha-channel copy
    done = subprocess.run(
        [sys.executable, "-m", "novelai_core", "metadata", str(png)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["origin"] == "stealth" and out["comment"] == comment
    params = out["parameters"]
    assert (params["prompt"], params["negative"], params["seed"]) == ("cat, 1.2::ears::", "dog", 7)
    assert params["model"] == "nai-diffusion-4-5-full"


def test_metadata_of_a_plain_png_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["metadata", str(_image(tmp_path / "plain.png"))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no NovelAI metadata" in err and "Traceback" not in err


@pytest.mark.parametrize("tool", AUGMENT_TOOLS)
def test_augment_sends_each_tool_and_writes_the_original_pngs(
    tool: str, simulator: Any, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _image(tmp_path / "in.png")
    args = ["augment", tool, str(source), "--out", str(tmp_path / "out"), "--base-url",
            simulator.url, "--prompt", "blue", "--defry", "2", "--emotion", "shy"]  # fmt: skip
    assert main(args) == 0
    (body,) = simulator.requests_seen(PATH_AUGMENT)
    assert body["req_type"] == tool
    assert (body["width"], body["height"]) == director_size(64, 96)
    expected_prompt = {"colorize": "blue", "emotion": "shy;;blue"}.get(tool)
    assert body.get("prompt") == expected_prompt
    assert body.get("defry") == (2 if expected_prompt else None)
    written = [Path(line) for line in capsys.readouterr().out.split()]
    assert len(written) == (3 if tool == "bg-removal" else 1)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


def test_augment_above_max_anlas_is_refused_before_sending(
    simulator: Any, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["augment", "bg-removal", str(_image(tmp_path / "in.png")), "--out", str(tmp_path),
            "--base-url", simulator.url, "--max-anlas", "10"]  # fmt: skip
    assert main(args) == 1
    assert simulator.requests_seen(PATH_AUGMENT) == []
    assert "nothing was sent" in capsys.readouterr().err


def test_upscale_writes_a_png_twice_the_size(
    simulator: Any, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["upscale", str(_image(tmp_path / "in.png")), "--out", str(tmp_path / "o"),
            "--base-url", simulator.url]  # fmt: skip
    assert main(args) == 0
    (body,) = simulator.requests_seen(PATH_UPSCALE)
    assert body["model"] == "nai-diffusion-5-curated"
    (path,) = capsys.readouterr().out.split()
    assert Image.open(io.BytesIO(Path(path).read_bytes())).size == (128, 192)


def test_upscale_of_a_too_big_source_fails_without_a_request(
    simulator: Any, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = _image(tmp_path / "big.png", (1600, 1600))
    assert main(["upscale", str(big), "--base-url", simulator.url]) == 2
    assert simulator.stats()["requests"] == {}
    assert "upscale limit" in capsys.readouterr().err


def test_a_wrong_token_is_one_line_without_the_token(
    simulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    secret = "pst-abcdefghijklmnopqrstuvwxyz0123456789"
    monkeypatch.setenv("NAI_ACCESS_TOKEN", secret)
    monkeypatch.setenv("NAI_TOKEN_FILE", str(tmp_path / "none"))
    args = ["upscale", str(_image(tmp_path / "in.png")), "--base-url", simulator.url]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and secret not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        (["(tag:1.2), [x]", "--model", "nai-diffusion-4-5-full"], "1.2::tag::, [x]"),
        (["(tag:1.2), [x]", "--model", "nai-diffusion-3"], "{{{{tag}}}}, [x]"),
        (["1.5::a::, {b}", "--to", "a1111"], "(a:1.5), (b:1.05)"),
    ],
)
def test_prompt_convert_prints_the_converted_prompt(
    argv: list[str], printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prompt", "convert", *argv]) == 0
    assert capsys.readouterr().out == printed + "\n"


def test_prompt_tokens_says_estimate_without_tokenizer_files(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prompt", "tokens", "long hair", "girl", "--model", "nai-diffusion-3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("≈") and "/ 225 CLIP tokens (estimate:" in out


def test_prompt_convert_with_an_unknown_model_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompt", "convert", "x", "--model", "nope"]) == 2
    assert "unknown model" in capsys.readouterr().err
