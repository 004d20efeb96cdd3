"""NovelAI metadata: a simulator PNG read back (text chunks and, stripped, the stealth alpha),
Load NovelAI PNG rebuilding the generation, and Save NovelAI PNG keeping the original bytes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from novelai_core.client import NovelAIClient
from novelai_core.contract.constants import PATH_GENERATE, PATH_GENERATE_STREAM
from novelai_core.metadata.params import generation_parameters
from novelai_core.metadata.reader import read_metadata, read_stealth, read_text_chunks
from novelai_core.models.user import Character, GenerationRequest, GenerationSettings, Prompt
from tests.comfy_harness import comfy_runtime, pack_module, prompt_from_node, run_generate_node
from tests.real_samples import REAL, requires_real_samples
from tests.simulator_support import SIM_TOKEN
from tests.tool_support import comfy_folders, gradient, novelai_png

metadata_nodes = pack_module("nodes.metadata_nodes")
originals = pack_module("nodes.runtime.originals")
errors = pack_module("novelai_core.errors")
MODEL = "nai-diffusion-4-5-full"
PackCharacter = pack_module("novelai_core.models.user").Character


@pytest.fixture
def folders(tmp_path: Path) -> Iterator[Any]:
    with comfy_folders(tmp_path / "comfy") as module:
        yield module


def _request() -> GenerationRequest:
    return GenerationRequest(
        model=MODEL,
        prompt=Prompt(text="2girls, park", negative="blurry"),
        settings=GenerationSettings(
            width=256, height=384, steps=7, scale=4.5, sampler="k_dpmpp_2m", seed=1234
        ),
        characters=(
            Character(prompt="girl, red hair", uc="hat", position="B2"),
            Character(prompt="girl, blue hair", position="D4"),
        ),
    )


def _simulator_png(sim: Any) -> tuple[bytes, dict[str, Any]]:
    with NovelAIClient(SIM_TOKEN, base_url=sim.url) as client:
        result = client.generate(_request())
    (body,) = sim.requests_seen(PATH_GENERATE)
    return result.images[0].png, body


def _strip_text(png: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).save(buf, "PNG")  # PIL writes no text chunks unless asked
    return buf.getvalue()


def _expect_parameters(params: Any, body: dict[str, Any]) -> None:
    wire = body["parameters"]
    assert params.prompt == body["input"] and params.negative == wire["negative_prompt"]
    assert (params.seed, params.steps, params.scale, params.sampler) == (1234, 7, 4.5, "k_dpmpp_2m")
    assert (params.width, params.height, params.model) == (256, 384, MODEL)
    assert [(c.prompt, c.uc, c.center) for c in params.characters] == [
        ("girl, red hair", "hat", (0.3, 0.3)),
        ("girl, blue hair", "", (0.7, 0.7)),
    ]


def test_a_simulator_png_reads_back_the_parameters_it_was_made_with(sim: Any) -> None:
    png, body = _simulator_png(sim)
    meta = read_metadata(png)
    assert meta is not None and meta.origin == "text"
    _expect_parameters(generation_parameters(meta), body)


def test_with_the_text_chunks_stripped_the_stealth_alpha_gives_the_same_parameters(
    sim: Any,
) -> None:
    png, body = _simulator_png(sim)
    stripped = _strip_text(png)
    assert "Comment" not in read_text_chunks(stripped)
    meta = read_metadata(stripped)
    assert meta is not None and meta.origin == "stealth"
    _expect_parameters(generation_parameters(meta), body)


def test_the_model_comes_from_the_source_hash_when_the_comment_has_none() -> None:
    png = novelai_png({"prompt": "cat", "seed": 5, "steps": 28, "width": 64, "height": 96})
    meta = read_metadata(png)
    assert meta is not None
    params = generation_parameters(meta)
    assert (params.model, params.model_candidates) == ("nai-diffusion-4-5-full", ())


def test_an_unlisted_hash_gives_no_model_but_the_family_it_may_be() -> None:
    png = novelai_png({"prompt": "cat", "seed": 5}, source="NovelAI Diffusion V4.5 0BADF00D")
    meta = read_metadata(png)
    assert meta is not None
    params = generation_parameters(meta)
    assert params.model is None and params.source == "NovelAI Diffusion V4.5 0BADF00D"
    assert sorted(params.model_candidates) == [
        "nai-diffusion-4-5-curated",
        "nai-diffusion-4-5-full",
    ]


def test_a_model_named_by_the_comment_is_no_guess() -> None:
    meta = read_metadata(novelai_png({"prompt": "cat", "model": "nai-diffusion-4-5-curated"}))
    assert meta is not None
    params = generation_parameters(meta)
    assert (params.model, params.model_candidates) == ("nai-diffusion-4-5-curated", ())


def test_load_novelai_png_says_under_the_node_when_the_model_is_unknown(folders: Any) -> None:
    inputs = Path(folders.get_input_directory())
    unknown = novelai_png({"prompt": "cat", "seed": 5}, source="NovelAI Diffusion V4.5 0BADF00D")
    (inputs / "unknown.png").write_bytes(unknown)
    (inputs / "named.png").write_bytes(novelai_png({"prompt": "cat", "model": MODEL}))
    with comfy_runtime() as runtime:
        runtime.executing_node = "5"
        model = metadata_nodes.NovelAILoadPNG().load(image="unknown.png")[5]
        metadata_nodes.NovelAILoadPNG().load(image="named.png")
    assert model == ""
    ((text, node),) = runtime.texts
    assert node == "5"
    assert "0BADF00D" in text and "nai-diffusion-4-5-curated" in text and MODEL in text


def test_load_novelai_png_outputs_image_and_parameters_and_rebuilds_the_request(
    sim: Any, folders: Any
) -> None:
    png, body = _simulator_png(sim)
    (Path(folders.get_input_directory()) / "made.png").write_bytes(_strip_text(png))
    assert metadata_nodes.NovelAILoadPNG.INPUT_TYPES()["required"]["image"][0] == ["made.png"]

    out = metadata_nodes.NovelAILoadPNG().load(image="made.png")
    image, mask, prompt, negative, seed, model, width, height, steps, scale, sampler = out[:11]
    chars = out[11]
    assert image.dtype == torch.float32 and tuple(image.shape) == (1, 384, 256, 3)
    assert tuple(mask.shape) == (1, 384, 256)
    assert (prompt, negative) == (body["input"], body["parameters"]["negative_prompt"])
    assert (seed, model, width, height, steps, scale, sampler) == (
        1234, MODEL, 256, 384, 7, 4.5, "k_dpmpp_2m",
    )  # fmt: skip
    assert all(isinstance(c, pack_module("novelai_core.models.user").Character) for c in chars)

    # Rebuild: quality tags and UC preset off, so the recorded texts go out unchanged.
    rebuilt_prompt = prompt_from_node(
        prompt, negative=negative, quality_tags=False, uc_preset="none"
    )
    run_generate_node(
        prompt=rebuilt_prompt, model=model, width=width, height=height, seed=seed, steps=steps,
        scale=scale, sampler=sampler, characters=chars, unique_id=None,
    )  # fmt: skip
    (again,) = sim.requests_seen(PATH_GENERATE_STREAM)
    assert again["input"] == body["input"]
    for key in ("negative_prompt", "seed", "steps", "scale", "sampler", "width", "height"):
        assert again["parameters"][key] == body["parameters"][key], key
    assert again["parameters"]["v4_prompt"] == body["parameters"]["v4_prompt"]
    assert again["parameters"]["v4_negative_prompt"] == body["parameters"]["v4_negative_prompt"]


_NODE_CASES: dict[str, dict[str, Any]] = {
    "V3 SMEA DYN, decrisper, Variety+, light UC": {
        "model": "nai-diffusion-3",
        "smea": "SMEA+DYN",
        "decrisper": True,
        "variety": True,
        "noise_schedule": "native",
        "uc_preset": "light",
        "quality_tags": True,
    },
    "V4.5 curated, characters, exponential": {
        "model": "nai-diffusion-4-5-curated",
        "noise_schedule": "exponential",
        "uc_preset": "humanFocus",
        "quality_tags": False,
        "characters": (
            PackCharacter(prompt="girl, red hair", uc="hat", position="B2"),
            PackCharacter(prompt="boy", position="D4"),
        ),
    },
    "V5 transparent, light quality": {
        "model": "nai-diffusion-5-full",
        "transparent_background": True,
        "quality_tags": True,
        "quality_preset": "light",
        "uc_preset": "none",
    },
}


def _node_generate(sim: Any, prompt: Any, **widgets: Any) -> tuple[Any, dict[str, Any]]:
    settings = {"seed": 777, "steps": 8, "scale": 4.0, "cfg_rescale": 0.3, **widgets}
    images = run_generate_node(prompt=prompt, unique_id=None, **settings)[0]
    return images, sim.requests_seen(PATH_GENERATE_STREAM)[-1]


@pytest.mark.parametrize("case", list(_NODE_CASES))
def test_load_novelai_png_into_generate_sends_the_request_the_image_was_made_with(
    sim: Any, folders: Any, case: str
) -> None:
    spec = dict(_NODE_CASES[case])
    prompt = prompt_from_node(
        "1girl, garden", negative="blurry", quality_tags=spec.pop("quality_tags"),
        quality_preset=spec.pop("quality_preset", "standard"), uc_preset=spec.pop("uc_preset"),
    )  # fmt: skip
    images, original = _node_generate(sim, prompt, **spec)
    # The user's path: Save NovelAI PNG writes the original file, Load NovelAI PNG reads it.
    (entry,) = metadata_nodes.NovelAISavePNG().save(images=images, filename_prefix="rt")["ui"][
        "images"
    ]
    png = (Path(folders.get_output_directory()) / entry["filename"]).read_bytes()
    (Path(folders.get_input_directory()) / "made.png").write_bytes(png)
    out = metadata_nodes.NovelAILoadPNG().load(image="made.png")
    names = metadata_nodes.NovelAILoadPNG.RETURN_NAMES
    got = dict(zip(names, out, strict=True))
    _, again = _node_generate(
        sim, got["novelai_prompt"], model=got["model"], width=got["width"],
        height=got["height"], seed=got["seed"], steps=got["steps"], scale=got["scale"],
        sampler=got["sampler"], noise_schedule=got["noise_schedule"],
        cfg_rescale=got["cfg_rescale"], variety=got["variety"], smea=got["smea"],
        decrisper=got["decrisper"], transparent_background=got["transparent_background"],
        characters=got["characters"] or None,
    )  # fmt: skip
    assert again == original


def test_loading_a_png_without_novelai_metadata_says_so(folders: Any) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    (Path(folders.get_input_directory()) / "plain.png").write_bytes(buf.getvalue())
    with pytest.raises(errors.InputError, match="no NovelAI metadata"):
        metadata_nodes.NovelAILoadPNG().load(image="plain.png")


def test_save_writes_the_original_novelai_bytes_plus_comfyuis_prompt_and_workflow(
    sim: Any, folders: Any
) -> None:
    images, _, seed, _ = run_generate_node(
        model=MODEL, width=128, height=192, seed=9, steps=5, samples=2,
        spend_guard="no limit", stream=False, unique_id=None,
    )  # fmt: skip
    graph = {"1": {"class_type": "NovelAI_Generate"}}
    workflow = {"nodes": [{"id": 1}], "links": []}
    result = metadata_nodes.NovelAISavePNG().save(
        images=images, filename_prefix="nai/run", prompt=graph,
        extra_pnginfo={"workflow": workflow},
    )  # fmt: skip
    files = result["ui"]["images"]
    assert [f["subfolder"] for f in files] == ["nai", "nai"]
    for index, entry in enumerate(files):
        data = (Path(folders.get_output_directory()) / "nai" / entry["filename"]).read_bytes()
        chunks = read_text_chunks(data)
        assert json.loads(chunks["prompt"]) == graph
        assert json.loads(chunks["workflow"]) == workflow
        comment = json.loads(chunks["Comment"])
        assert comment["seed"] == seed + index and chunks["Software"] == "NovelAI"
        saved = Image.open(io.BytesIO(data))
        assert saved.mode == "RGBA" and read_stealth(saved) is not None  # alpha copy intact


def test_an_image_without_a_novelai_original_is_saved_plain_and_the_node_says_so(
    folders: Any,
) -> None:
    originals.clear()
    with comfy_runtime() as runtime:
        result = metadata_nodes.NovelAISavePNG().save(
            images=gradient(32, 16), filename_prefix="x", prompt={"a": 1}, unique_id="3"
        )
    (entry,) = result["ui"]["images"]
    data = (Path(folders.get_output_directory()) / entry["filename"]).read_bytes()
    assert read_metadata(data) is None and json.loads(read_text_chunks(data)["prompt"]) == {"a": 1}
    assert any("1 plain PNG" in text for text, node in runtime.texts if node == "3")


def test_the_metadata_example_workflow_regenerates_with_the_recorded_characters(
    sim: Any, folders: Any
) -> None:
    from tests.comfy_harness import Executor, load_pack, load_workflow
    from tests.tool_support import EXAMPLE_COMMENT, write_example_inputs

    chars = [{"char_caption": "girl, red hair", "centers": [{"x": 0.3, "y": 0.7}]}]
    write_example_inputs(Path(folders.get_input_directory()), characters=chars)
    previews: list[Any] = []

    def preview(images: Any) -> tuple[()]:
        previews.append(images)
        return ()

    run = Executor(load_pack().NODE_CLASS_MAPPINGS, {"PreviewImage": preview}).run(
        load_workflow("NovelAI regenerate a PNG.json")
    )
    (body,) = sim.requests_seen(PATH_GENERATE_STREAM)
    assert body["input"] == EXAMPLE_COMMENT["prompt"]
    assert body["parameters"]["negative_prompt"] == EXAMPLE_COMMENT["uc"]
    assert body["parameters"]["v4_prompt"]["caption"]["char_captions"] == chars
    assert body["parameters"]["v4_prompt"]["use_coords"] is True
    assert len(previews) == 1 and tuple(previews[0].shape) == (1, 768, 512, 3)
    (saved,) = [ui for ui in run.ui.values() if ui and "images" in ui]
    data = (Path(folders.get_output_directory()) / saved["images"][0]["filename"]).read_bytes()
    assert json.loads(read_text_chunks(data)["Comment"])["seed"] == EXAMPLE_COMMENT["seed"]


def test_the_metadata_example_reproduces_the_source_images_request_exactly(
    sim: Any, folders: Any
) -> None:
    """Every recorded setting differs from the example's widgets: the links must carry them."""
    from tests.comfy_harness import Executor, load_pack, load_workflow
    from tests.tool_support import EXAMPLE_COMMENT, EXAMPLE_INPUT, novelai_png

    recorded = {
        **EXAMPLE_COMMENT,
        "seed": 4242, "steps": 9, "scale": 6.5, "sampler": "k_dpmpp_2m", "width": 576,
        "height": 832, "model": "nai-diffusion-4-5-curated",
    }  # fmt: skip
    (Path(folders.get_input_directory()) / EXAMPLE_INPUT).write_bytes(
        novelai_png(recorded, width=576, height=832)
    )
    Executor(load_pack().NODE_CLASS_MAPPINGS, {"PreviewImage": lambda images: ()}).run(
        load_workflow("NovelAI regenerate a PNG.json")
    )
    (body,) = sim.requests_seen(PATH_GENERATE_STREAM)
    sent = body["parameters"]
    assert body["model"] == recorded["model"] and body["input"] == recorded["prompt"]
    assert sent["negative_prompt"] == recorded["uc"]
    for name in ("seed", "steps", "scale", "sampler", "width", "height"):
        assert sent[name] == recorded[name], name


@requires_real_samples
def test_load_novelai_png_lists_and_reads_novelais_webp_and_jpeg(folders: Any) -> None:
    real = REAL
    inputs = Path(folders.get_input_directory())
    (inputs / "three.webp").write_bytes(
        (real / "sd-metadata__novelai-full-3char.webp").read_bytes()
    )
    (inputs / "notes.txt").write_text("not an image")
    (inputs / "plain.jpg").write_bytes(b"\xff\xd8\xff")
    files = metadata_nodes.NovelAILoadPNG.INPUT_TYPES()["required"]["image"][0]
    assert files == ["plain.jpg", "three.webp"]
    out = metadata_nodes.NovelAILoadPNG().load(image="three.webp")
    got = dict(zip(metadata_nodes.NovelAILoadPNG.RETURN_NAMES, out, strict=True))
    assert (got["model"], got["seed"], got["variety"]) == (
        "nai-diffusion-4-5-full",
        447042893,
        True,
    )
    assert [c.position for c in got["characters"]] == [(0.5, 0.3), (0.7, 0.7), (0.3, 0.7)]
    assert got["not_in_metadata"] == "" and tuple(got["image"].shape) == (1, 1024, 1024, 3)


@requires_real_samples
def test_load_novelai_png_names_what_a_rebuild_must_be_given(folders: Any) -> None:
    real = REAL
    inputs = Path(folders.get_input_directory())
    (inputs / "ref.png").write_bytes((real / "sd-metadata__novelai-ref.png").read_bytes())
    out = metadata_nodes.NovelAILoadPNG().load(image="ref.png")
    got = dict(zip(metadata_nodes.NovelAILoadPNG.RETURN_NAMES, out, strict=True))
    assert "character reference" in got["not_in_metadata"]
