"""Metadata as NovelAI, its web app and its users really write it.

Real files (``../shared/real-samples``, sources in SOURCES.md there) plus fixtures made here from
the same conventions: EXIF-only WebP/JPEG, a GIMP Comment over an intact alpha copy,
uncompressed ``stealth_pnginfo``, A1111 text in the alpha channel, Source hashes.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from novelai_core.metadata.model_sources import model_from_source
from novelai_core.metadata.params import generation_parameters
from novelai_core.metadata.reader import read_metadata
from tests.real_samples import REAL, requires_real_samples

ROOT = Path(__file__).parent.parent
V45_FULL, V45_CURATED = "nai-diffusion-4-5-full", "nai-diffusion-4-5-curated"
V5_FAMILY = ("nai-diffusion-5-full", "nai-diffusion-5-curated", "nai-diffusion-5-full-medium")
COMMENT: dict[str, Any] = {
    "prompt": "1girl, solo, very aesthetic, masterpiece, no text",
    "uc": "nsfw, lowres, artistic error",
    "steps": 23, "height": 128, "width": 64, "scale": 5.5, "seed": 99, "n_samples": 1,
    "sampler": "k_euler", "noise_schedule": "karras", "cfg_rescale": 0.1,
    "request_type": "PromptGenerateRequest",
}  # fmt: skip


def _params(data: bytes) -> Any:
    meta = read_metadata(data)
    assert meta is not None
    return generation_parameters(meta)


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "novelai_core", "metadata", str(path)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip


# --- real files ----------------------------------------------------------------------------


@requires_real_samples
def test_a_real_v45_full_png_gives_its_model_and_every_setting() -> None:
    p = _params((REAL / "sd-metadata__novelai-full.png").read_bytes())
    assert (p.model, p.model_candidates, p.origin) == (V45_FULL, (), "text")
    assert (p.seed, p.width, p.height, p.steps, p.scale) == (2043807047, 832, 1216, 28, 5.0)
    assert (p.sampler, p.noise_schedule, p.cfg_rescale) == ("k_euler_ancestral", "karras", 0.0)
    assert (p.variety, p.smea, p.decrisper, p.use_coords) == (True, False, False, True)
    assert (p.quality_tags, p.quality_preset, p.uc_preset) == (True, "standard", "heavy")
    assert p.user_prompt == "1girl, solo, hatsune miku, #テスト" and p.user_negative == ""


@requires_real_samples
def test_a_real_character_reference_png_keeps_the_reference_settings_and_says_what_is_missing() -> (
    None
):
    p = _params((REAL / "sd-metadata__novelai-ref.png").read_bytes())
    assert p.model == V45_FULL
    assert [(r.mode, r.strength, r.fidelity) for r in p.character_references] == [
        ("character&style", 1.0, 1.0)
    ]
    assert p.not_recorded == ("the picture of 1 character reference(s) (their settings are kept)",)


@requires_real_samples
@pytest.mark.parametrize(
    ("name", "typed"),
    [
        ("sd-metadata__novelai-ref.png", "1girl, solo, dancing, "),
        (
            "sd-metadata__novelai-full-3char.webp",
            "2girls, 1boy, dancing, #テスト\nwhite background, ",
        ),
    ],
)
def test_a_prompt_typed_with_a_trailing_comma_is_recovered_with_its_quality_preset(
    name: str, typed: str
) -> None:
    # The web app appends the quality tags to the text as typed: "dancing, , very aesthetic…".
    p = _params((REAL / name).read_bytes())
    assert (p.user_prompt, p.quality_tags, p.quality_preset) == (typed, True, "standard")


@requires_real_samples
def test_a_real_novelai_webp_is_read_from_exif_with_its_three_characters() -> None:
    p = _params((REAL / "sd-metadata__novelai-full-3char.webp").read_bytes())
    assert (p.model, p.origin, p.seed) == (V45_FULL, "exif", 447042893)
    assert [c.center for c in p.characters] == [(0.5, 0.3), (0.7, 0.7), (0.3, 0.7)]
    assert p.prompt is not None and p.prompt.startswith("2girls, 1boy, dancing, #テスト\n")


@requires_real_samples
def test_an_older_model_gives_model_unknown_and_the_source_text() -> None:
    p = _params((REAL / "LlmKira__sample-0317.png").read_bytes())
    assert (p.model, p.model_candidates, p.source) == (None, (), "Stable Diffusion F64BA557")
    assert (p.action, p.strength, p.seed) == ("img2img", 0.7, 4091185279)
    assert any("img2img source image" in note for note in p.not_recorded)


@requires_real_samples
def test_a_director_tool_output_is_novelai_metadata_without_generation_settings() -> None:
    meta = read_metadata((REAL / "LlmKira__augment-image.png").read_bytes())
    assert meta is not None and meta.comment == {"req_type": "sketch"}
    params = generation_parameters(meta)
    assert (params.model, params.action, params.seed) == (None, "director:sketch", None)


@requires_real_samples
def test_gimps_comment_is_not_novelai_metadata_and_the_cli_exits_2() -> None:
    assert read_metadata((REAL / "sd-metadata__gimp.png").read_bytes()) is None
    done = _cli(REAL / "sd-metadata__gimp.png")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "no NovelAI metadata" in done.stderr


@requires_real_samples
def test_the_cli_prints_model_and_parameters_of_a_real_webp() -> None:
    done = _cli(REAL / "sd-metadata__novelai-full-3char.webp")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["origin"] == "exif" and out["parameters"]["model"] == V45_FULL
    assert out["chunks"]["Source"] == "NovelAI Diffusion V4.5 4BDE2A90"


# --- Source → model ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "model"),
    [
        ("Stable Diffusion XL C1E1DE52", "nai-diffusion-3"),
        ("Stable Diffusion XL 37C2B166", "nai-diffusion-furry-3"),
        ("NovelAI Diffusion V4 37442FCA", "nai-diffusion-4-full"),
        ("NovelAI Diffusion V4 7ABFFA2A", "nai-diffusion-4-curated-preview"),
        ("NovelAI Diffusion V4.5 4BDE2A90", V45_FULL),
        ("NovelAI Diffusion V4.5 C02D4F98", V45_CURATED),
        ("NovelAI Diffusion V4 5AB81C7C", V45_CURATED),  # the hash wins over the family text
        ("NovelAI Diffusion V5 0ADF9AB7", "nai-diffusion-5-full"),
    ],
)
def test_a_known_model_hash_names_its_model(source: str, model: str) -> None:
    assert model_from_source(source).model == model


@pytest.mark.parametrize(
    ("source", "candidates"),
    [
        (
            "NovelAI Diffusion V5 93F4BD30",
            ("nai-diffusion-5-full", "nai-diffusion-5-curated", "nai-diffusion-5-full-medium"),
        ),
        ("NovelAI Diffusion V4.5 12345678", (V45_FULL, V45_CURATED)),
        ("Stable Diffusion 1D44365E", ()),
        ("Stable Diffusion F64BA557", ()),
        ("", ()),
    ],
)
def test_an_unknown_hash_is_never_guessed(source: str, candidates: tuple[str, ...]) -> None:
    found = model_from_source(source)
    assert (found.model, found.candidates) == (None, candidates)


# --- fixtures made from the conventions ----------------------------------------------------


def _exif(comment: Any, *, software: str = "NovelAI Diffusion V4.5 C02D4F98") -> Image.Exif:
    exif = Image.Exif()
    exif[0x0131] = software
    exif[0x010E] = "\0\0\0\0" + str(COMMENT["prompt"])
    exif.get_ifd(0x8769)[0x9286] = comment
    return exif


def _encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


_CHUNKS_JSON = json.dumps(
    {
        "Title": "NovelAI generated image",
        "Software": "NovelAI",
        "Source": "NovelAI Diffusion V4.5 C02D4F98",
        "Comment": json.dumps(COMMENT),
    }
)


@pytest.mark.parametrize("fmt", ["WEBP", "JPEG"])
@pytest.mark.parametrize(
    "user_comment",
    [
        b"ASCII\0\0\0" + _CHUNKS_JSON.encode(),  # NovelAI's WebP: the chunks as JSON
        b"ASCII\0\0\0" + json.dumps(COMMENT).encode(),  # the Comment object itself
        b"UNICODE\0" + _CHUNKS_JSON.encode("utf-16-be"),  # EXIF's UCS-2 code (big-endian)
    ],
    ids=["chunks", "comment", "unicode"],
)
def test_a_webp_or_jpeg_with_exif_only_gives_model_and_parameters(
    fmt: str, user_comment: bytes
) -> None:
    image = Image.new("RGB", (64, 128), (200, 100, 50))
    p = _params(_encoded(image, fmt, exif=_exif(user_comment).tobytes()))
    assert (p.origin, p.model, p.seed, p.steps, p.scale) == ("exif", V45_CURATED, 99, 23, 5.5)
    assert (p.sampler, p.cfg_rescale, p.width, p.height) == ("k_euler", 0.1, 64, 128)


def _stealth(image: Image.Image, magic: bytes, payload: bytes) -> Image.Image:
    """Write ``magic`` + bit length + payload into the alpha LSBs, column-major."""
    rgba = np.array(image.convert("RGBA"))
    bits = np.unpackbits(np.frombuffer(magic + struct.pack(">I", len(payload) * 8) + payload, "u1"))
    alpha = np.ascontiguousarray(rgba[:, :, 3].T).reshape(-1)
    alpha[: bits.size] = (alpha[: bits.size] & 0xFE) | bits
    rgba[:, :, 3] = alpha.reshape(rgba.shape[1], rgba.shape[0]).T
    return Image.fromarray(rgba, "RGBA")


def _chunks_payload() -> bytes:
    return _CHUNKS_JSON.encode()


def _gimp_png(image: Image.Image) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Created with GIMP")
    return _encoded(image, "PNG", pnginfo=info)


def test_a_gimp_comment_does_not_hide_an_intact_alpha_copy() -> None:
    base = Image.new("RGB", (96, 96), (10, 200, 30))
    png = _gimp_png(_stealth(base, b"stealth_pngcomp", gzip.compress(_chunks_payload())))
    p = _params(png)
    assert (p.origin, p.model, p.seed) == ("stealth", V45_CURATED, 99)


def test_uncompressed_stealth_pnginfo_is_read() -> None:
    base = Image.new("RGB", (96, 96), (10, 200, 30))
    png = _encoded(_stealth(base, b"stealth_pnginfo", _chunks_payload()), "PNG")
    p = _params(png)
    assert (p.origin, p.model, p.steps) == ("stealth", V45_CURATED, 23)


@pytest.mark.parametrize("magic", [b"stealth_pnginfo", b"stealth_pngcomp"])
def test_a1111_text_in_the_alpha_channel_is_no_novelai_metadata(
    magic: bytes, tmp_path: Path
) -> None:
    text = b"a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, Seed: 1, Size: 96x96"
    payload = gzip.compress(text) if magic.endswith(b"comp") else text
    png = _gimp_png(_stealth(Image.new("RGB", (96, 96), (1, 2, 3)), magic, payload))
    assert read_metadata(png) is None
    path = tmp_path / "a1111.png"
    path.write_bytes(png)
    done = _cli(path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no NovelAI metadata" in done.stderr and "Traceback" not in done.stderr


def test_a_jpeg_without_exif_and_a_file_that_is_no_image_exit_2_in_one_line(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(_encoded(Image.new("RGB", (16, 16)), "JPEG"))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    for path in (plain, junk):
        done = _cli(path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@requires_real_samples
def test_the_cli_rebuilds_a_real_reference_image_once_the_picture_is_given_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from novelai_core.cli import main

    real = str(REAL / "sd-metadata__novelai-ref.png")
    assert main(["generate", "--from", real, "--dry-run"]) == 2
    assert "1 character reference(s) and 0 picture(s)" in capsys.readouterr().err
    picture = tmp_path / "ref.png"
    picture.write_bytes(_encoded(Image.new("RGB", (300, 400), (9, 9, 9)), "PNG"))
    assert main(["generate", "--from", real, "--reference", str(picture), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    sent = json.loads(out)["request"]
    assert (sent["input"], sent["parameters"]["seed"]) == (
        "1girl, solo, dancing, , very aesthetic, masterpiece, no text", 949223552,
    )  # fmt: skip
    assert sent["parameters"]["director_reference_strength_values"] == [1.0]
    assert "not in the metadata: the picture of 1 character reference" in err
