"""Bad-input table for the node and CLI surfaces: every invalid combination that issue 2's
validation list names is refused with a clear error before any request (simulator: zero).

The SDK-level table is tests/test_validation.py; this one drives the same rules through what
users touch: the Generate node (with the chain nodes feeding it) and `python -m novelai_core
generate` without --dry-run, pointed at a live simulator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from novelai_core.cli import main
from novelai_core.converter.images import to_pil
from tests.comfy_harness import load_pack, pack_module, prompt_from_node, run_generate_node

NODES = load_pack().NODE_CLASS_MAPPINGS
errors = pack_module("novelai_core.errors")
V45, V5 = "nai-diffusion-4-5-full", "nai-diffusion-5-full"


@pytest.fixture
def sim(sim: Any) -> Iterator[Any]:
    """conftest's ``sim``; afterwards no request may have reached it."""
    yield sim
    assert sim.stats()["requests"] == {}, "a request went out for invalid input"


def _prompt(text: str = "1girl") -> Any:
    return prompt_from_node(text)


def _image(width: int = 64, height: int = 64) -> torch.Tensor:
    return torch.rand((1, height, width, 3))


def _characters(count: int) -> tuple[Any, ...]:
    chain: tuple[Any, ...] = ()
    for index in range(count):
        (chain,) = NODES["NovelAI_Character"]().append(
            prompt=f"girl {index}", uc="", position="C3", x=0.5, y=0.5, enabled=True,
            characters=chain,
        )  # fmt: skip
    return chain


def _vibes() -> Any:
    return NODES["NovelAI_Vibe"]().append(image=_image(), information_extracted=1.0, strength=0.6)[
        0
    ]


def _references() -> Any:
    return NODES["NovelAI_CharacterReference"]().append(
        image=_image(), mode="character", strength=1.0, fidelity=1.0
    )[0]


def _inpaint() -> Any:
    mask = torch.zeros((1, 64, 64))
    mask[:, 8:32, 8:32] = 1.0
    return NODES["NovelAI_Inpaint"]().build(
        image=_image(), mask=mask, strength=0.7, noise=0.0, add_original_image=False
    )[0]


def _generate(**overrides: Any) -> Any:
    return run_generate_node(**{"seed": 1, "spend_guard": "no limit", **overrides})


NodeCase = Callable[[], dict[str, Any]]
NODE_TABLE: list[tuple[str, NodeCase, str]] = [
    ("width not a multiple of 64", lambda: {"width": 800}, r"width.*64"),
    ("height not a multiple of 64", lambda: {"height": 1000}, r"height.*64"),
    ("canvas above 3 MiP", lambda: {"width": 2048, "height": 2048}, r"3145728|3 MiP"),
    ("steps 0", lambda: {"steps": 0}, r"steps"),
    ("steps 51", lambda: {"steps": 51}, r"steps"),
    ("7 characters on V4.5", lambda: {"characters": _characters(7)}, r"at most 6"),
    ("33 characters on V5", lambda: {"model": V5, "characters": _characters(33)}, r"at most 32"),
    ("a character on V3", lambda: {"model": "nai-diffusion-3", "characters": _characters(1)},
     r"characters"),
    ("vibes on V5", lambda: {"model": V5, "vibes": _vibes()}, r"no vibe"),
    ("a character reference on V4", lambda: {"model": "nai-diffusion-4-full",
                                             "character_references": _references()},
     r"character reference"),
    ("a character reference on V5", lambda: {"model": V5, "character_references": _references()},
     r"character reference"),
    ("vibes with a character reference", lambda: {"vibes": _vibes(),
                                                  "character_references": _references()},
     r"cannot be combined"),
    ("vibes with inpainting", lambda: {"vibes": _vibes(), "source": _inpaint()},
     r"inpainting takes no vibes"),
    ("5 samples at 832×1216", lambda: {"width": 832, "height": 1216, "samples": 5},
     r"^samples: 5 is outside 1–4"),
    ("an empty prompt", lambda: {"prompt": _prompt("   ")}, r"prompt.*empty"),
    ("seed below 0", lambda: {"seed": -1}, r"seed"),
    ("seed above the maximum", lambda: {"seed": 4_294_967_296}, r"seed"),
    ("an unknown model", lambda: {"model": "nai-diffusion-9"}, r"nai-diffusion-9"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "pattern"), [row[1:] for row in NODE_TABLE], ids=[row[0] for row in NODE_TABLE]
)
def test_the_generate_node_refuses_bad_input_before_any_request(
    sim: Any, case: NodeCase, pattern: str
) -> None:
    with pytest.raises(errors.InputError) as caught:
        _generate(**case())
    assert re.search(pattern, str(caught.value)), str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_the_generate_node_fits_a_mask_of_another_size_instead_of_refusing_it(
    simulator: Any,
) -> None:
    # The node covers image and mask onto the canvas, so they can never differ in size there;
    # the SDK and the CLI, which take files as they are, refuse a mismatch (rows below).
    source = NODES["NovelAI_Inpaint"]().build(
        image=_image(64, 64), mask=torch.ones((1, 96, 32)), strength=0.7, noise=0.0,
        add_original_image=False,
    )[0]  # fmt: skip
    fitted = pack_module("nodes.source").fit_source(source, 256, 384)
    assert to_pil(fitted.image).size == fitted.mask.size == (256, 384)
    assert simulator.stats()["requests"] == {}


def _png(path: Path, size: tuple[int, int]) -> str:
    Image.new("RGB", size, (90, 90, 90)).save(path)
    return str(path)


CliCase = Callable[[Path], list[str]]
CLI_TABLE: list[tuple[str, CliCase, str]] = [
    ("width not a multiple of 64", lambda _: ["--width", "800"], r"settings\.width"),
    ("canvas above 3 MiP", lambda _: ["--width", "2048", "--height", "2048"], r"3145728|MiP"),
    ("steps 0", lambda _: ["--steps", "0"], r"settings\.steps"),
    ("steps 51", lambda _: ["--steps", "51"], r"settings\.steps"),
    ("7 characters on V4.5", lambda _: [a for i in range(7) for a in ("--character", f"c{i}")],
     r"at most 6"),
    ("a character on V3", lambda _: ["--model", "nai-diffusion-3", "--character", "a"],
     r"characters"),
    ("mask size different from the image", lambda d: [
        "--image", _png(d / "i.png", (256, 384)), "--mask", _png(d / "m.png", (128, 128)),
        "--model", "nai-diffusion-4-5-full-inpainting"], r"mask.*size"),
    ("5 samples at 832×1216", lambda _: ["--samples", "5"], r"n_samples"),
    ("an empty prompt", lambda _: ["--prompt", " "], r"prompt\.text"),
    ("seed below 0", lambda _: ["--seed", "-1"], r"seed"),
    ("seed above the maximum", lambda _: ["--seed", "4294967296"], r"seed"),
    ("an unknown model", lambda _: ["--model", "nai-diffusion-9"], r"unknown model"),
]  # fmt: skip
# Vibes and character references have no options on `generate`; their rules are covered above
# (node) and in test_validation (SDK).


@pytest.mark.parametrize(
    ("case", "pattern"), [row[1:] for row in CLI_TABLE], ids=[row[0] for row in CLI_TABLE]
)
def test_the_cli_refuses_bad_input_with_one_line_before_any_request(
    sim: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: CliCase, pattern: str
) -> None:
    args = case(tmp_path)
    if "--prompt" not in args:
        args = ["--prompt", "1girl", *args]
    code = main(["generate", *args, "--base-url", sim.url, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert re.search(pattern, captured.err), captured.err
    assert not list(tmp_path.glob("*_0*.png"))
