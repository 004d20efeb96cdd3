"""Every example workflow runs through the nodes against the simulator, and NovelAI receives
what the graph says: model, size, seed, prompt, characters, source, vibes, references."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image, ImageChops, ImageStat

from novelai_core.contract.capabilities import inpainting_capability
from novelai_core.contract.constants import PATH_GENERATE_STREAM, SIZE_PRESETS, grid_center
from tests.comfy_harness import (
    WORKFLOWS_DIR,
    Executor,
    WorkflowRun,
    load_pack,
    load_workflow,
    widget_names,
)
from tests.core_nodes import CORE_NODES, STAND_INS
from tests.prompt_validation import api_prompt, validate_prompt
from tests.template_support import (
    THUMBNAIL_SIDE,
    minimum_size,
    overlapping,
    template_image,
    thumbnail_jpeg,
)
from tests.tool_support import comfy_folders, write_example_inputs

PACK = load_pack()
MAPPINGS = PACK.NODE_CLASS_MAPPINGS
WORKFLOWS = sorted(p.name for p in WORKFLOWS_DIR.glob("*.json"))
SOURCE_ACTIONS = {"NovelAI_Img2Img": "img2img", "NovelAI_Inpaint": "infill"}
WRITTEN = {"positive": "2girls, hug, cherry blossoms, dusk, watercolor", "negative": "rain"}


@pytest.fixture
def sim(sim: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Any]:
    """conftest's ``sim``, with ComfyUI's input/output folders for the load/save nodes (the
    example's input PNG in place), the text endpoints, and what the text model answers a Prompt
    Writer (the simulator's own answer is not a prompt)."""
    monkeypatch.setenv("NAI_TEXT_BASE_URL", sim.url)
    sim.queue_text_reply(json.dumps(WRITTEN))
    with comfy_folders(tmp_path / "comfy") as folders:
        write_example_inputs(Path(folders.get_input_directory()))
        yield sim


class Saved:
    """Stand-in of ComfyUI's SaveImage / PreviewImage: keeps what it was given."""

    def __init__(self) -> None:
        self.images: list[torch.Tensor] = []

    def __call__(self, images: torch.Tensor) -> tuple[()]:
        self.images.append(images)
        return ()


def _executor(saved: Saved) -> Executor:
    return Executor(MAPPINGS, {**STAND_INS, "SaveImage": saved, "PreviewImage": saved})


def _widgets(node: dict[str, Any]) -> dict[str, Any]:
    names = widget_names(MAPPINGS[node["type"]])
    return {n: v for n, v in zip(names, node["widgets_values"], strict=True) if n is not None}


def _upstream(workflow: dict[str, Any], node: dict[str, Any], name: str) -> dict[str, Any] | None:
    link_id = next((i["link"] for i in node["inputs"] if i["name"] == name), None)
    if link_id is None:
        return None
    origin = next(link[1] for link in workflow["links"] if link[0] == link_id)
    return next(n for n in workflow["nodes"] if n["id"] == origin)


def _chain(workflow: dict[str, Any], node: dict[str, Any] | None, name: str) -> list[dict]:
    """The nodes of a chain (characters, vibes, references) from first to last."""
    out: list[dict[str, Any]] = []
    # Chain links take the chain as an input; a source such as Load NovelAI PNG ends the walk.
    while node is not None and any(i["name"] == name for i in node.get("inputs", [])):
        out.insert(0, node)
        node = _upstream(workflow, node, name)
    return out


def _check_tensor(images: torch.Tensor, width: int, height: int) -> None:
    assert images.dtype == torch.float32 and images.device.type == "cpu"
    assert images.dim() == 4 and images.shape[1:] == (height, width, 3)
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert float(images.std()) > 0.01  # a real picture, never a blank placeholder


def _expect_body(
    workflow: dict[str, Any], node: dict[str, Any], body: dict[str, Any], run: WorkflowRun
) -> None:
    w = _widgets(node)
    params = body["parameters"]
    width, height = SIZE_PRESETS[w["size"]] if w["size"] != "Custom" else (w["width"], w["height"])
    source = _upstream(workflow, node, "source")
    model = w["model"]
    if source is not None and source["type"] == "NovelAI_Inpaint":
        model = inpainting_capability(model).id
    assert (body["model"], params["width"], params["height"]) == (model, width, height)
    assert (params["seed"], params["steps"], params["n_samples"]) == (
        w["seed"],
        w["steps"],
        w["samples"],
    )
    prompt_node = _upstream(workflow, node, "prompt")
    assert prompt_node is not None
    prompt_text = _widgets(prompt_node)["prompt"]
    link_id = next((i["link"] for i in prompt_node["inputs"] if i["name"] == "prompt"), None)
    if link_id is not None:  # the widget is an input fed by another node (a Prompt Writer…)
        _, origin, slot, *_ = next(link for link in workflow["links"] if link[0] == link_id)
        prompt_text = run.outputs[origin][slot]
    assert body["input"].startswith(prompt_text)
    assert body["action"] == (SOURCE_ACTIONS[source["type"]] if source else "generate")

    characters = [
        _widgets(c) for c in _chain(workflow, _upstream(workflow, node, "characters"), "characters")
    ]
    captions = params.get("v4_prompt", {}).get("caption", {}).get("char_captions", [])
    assert [c["char_caption"] for c in captions] == [c["prompt"] for c in characters]
    for caption, character in zip(captions, characters, strict=True):
        x, y = grid_center(character["position"])
        assert caption["centers"] == [{"x": x, "y": y}]

    refs = [
        _widgets(r)
        for r in _chain(
            workflow, _upstream(workflow, node, "character_references"), "character_references"
        )
    ]
    descriptions = params.get("director_reference_descriptions", [])
    assert [d["caption"]["base_caption"] for d in descriptions] == [r["mode"] for r in refs]
    assert params.get("director_reference_strength_values", []) == [r["strength"] for r in refs]

    vibes = [_widgets(v) for v in _chain(workflow, _upstream(workflow, node, "vibes"), "vibes")]
    assert params.get("reference_strength_multiple", []) == [v["strength"] for v in vibes]
    assert len(params.get("reference_image_multiple", [])) == len(vibes)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_example_workflow_runs_against_the_simulator_and_sends_what_the_graph_says(
    name: str, sim: Any
) -> None:
    workflow = load_workflow(name)
    saved = Saved()
    run = _executor(saved).run(workflow)

    generate_nodes = [
        next(n for n in workflow["nodes"] if n["id"] == node_id)
        for node_id in run.executed
        if next(n for n in workflow["nodes"] if n["id"] == node_id)["type"] == "NovelAI_Generate"
    ]
    bodies = sim.requests_seen(PATH_GENERATE_STREAM)
    assert generate_nodes and len(bodies) == len(generate_nodes)
    for node, body in zip(generate_nodes, bodies, strict=True):
        _expect_body(workflow, node, body, run)
        images, mask, seed, metadata = run.outputs[node["id"]]
        params = body["parameters"]
        _check_tensor(images, params["width"], params["height"])
        assert mask.shape == images.shape[:3] and mask.dtype == torch.float32
        assert seed == params["seed"] and f'"seed": {seed}' in metadata
    assert saved.images, "the workflow ends in a SaveImage/PreviewImage"
    for images in saved.images:
        assert images.dtype == torch.float32 and images.shape[-1] == 3
    # The template's thumbnail is this run's picture (tests/template_support.py made it).
    shipped = Image.open(WORKFLOWS_DIR / name.replace(".json", ".jpg"))
    made = Image.open(io.BytesIO(thumbnail_jpeg(template_image(workflow, run))))
    assert shipped.format == "JPEG" and shipped.size == made.size
    assert max(shipped.size) == THUMBNAIL_SIDE
    difference = ImageChops.difference(shipped.convert("RGB"), made.convert("RGB"))
    assert max(ImageStat.Stat(difference).mean) < 2  # JPEG noise only


def test_every_shipped_workflow_is_covered() -> None:
    wanted = {
        "text to image", "several characters", "character reference", "vibe transfer",
        "image to image", "inpaint the background",
    }  # fmt: skip
    assert {n.removeprefix("NovelAI ").removesuffix(".json") for n in WORKFLOWS} >= wanted


def test_template_titles_read_as_titles_and_each_has_its_thumbnail() -> None:
    # ComfyUI's template browser (frontend 1.27) shows a pack's template by its file name, as
    # title and (with - and _ as spaces) as description, and <name>.jpg as its thumbnail.
    for name in WORKFLOWS:
        title = name.removesuffix(".json")
        assert title.startswith("NovelAI ") and not set(title) & set("-_"), title
        assert (WORKFLOWS_DIR / f"{title}.jpg").stat().st_size < 20_000
    assert sorted(p.name for p in WORKFLOWS_DIR.iterdir()) == sorted(
        [*WORKFLOWS, *(n.replace(".json", ".jpg") for n in WORKFLOWS)]
    )


def test_the_inpaint_example_repaints_the_transparent_background_of_a_v5_image(sim: Any) -> None:
    workflow = load_workflow("NovelAI inpaint the background.json")
    run = _executor(Saved()).run(workflow)
    first = next(n for n in workflow["nodes"] if n["type"] == "NovelAI_Generate")
    _, mask, _, _ = run.outputs[first["id"]]
    # V5 transparency: alpha → MASK, 1 where transparent (the background), 0 on the subject.
    assert float(mask.max()) == 1.0 and float(mask.min()) == 0.0
    infill = sim.requests_seen(PATH_GENERATE_STREAM)[-1]
    assert infill["action"] == "infill" and infill["model"] == "nai-diffusion-5-full-inpainting"


def test_a_fixed_seed_requeue_hits_the_cache_and_sends_nothing(sim: Any) -> None:
    workflow = load_workflow("NovelAI text to image.json")
    executor = _executor(Saved())
    first = executor.run(workflow)
    sent = sim.stats()["requests"].get(PATH_GENERATE_STREAM, 0)
    again = executor.run(workflow)
    assert sent == 1 and again.executed == []
    assert sim.stats()["requests"].get(PATH_GENERATE_STREAM, 0) == sent
    generate = next(n for n in workflow["nodes"] if n["type"] == "NovelAI_Generate")
    assert torch.equal(again.outputs[generate["id"]][0], first.outputs[generate["id"]][0])

    names = widget_names(MAPPINGS["NovelAI_Generate"])
    seed = generate["widgets_values"][names.index("seed")]
    generate["widgets_values"][names.index("seed")] = seed + 1  # what "increment" does
    changed = executor.run(workflow)
    assert generate["id"] in changed.executed
    assert sim.stats()["requests"][PATH_GENERATE_STREAM] == sent + 1
    assert sim.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]["seed"] == seed + 1


@pytest.mark.parametrize("name", WORKFLOWS)
def test_example_generations_on_v5_use_the_web_apps_guidance_of_7(name: str) -> None:
    # R3: every V5 web capture sends scale 7 (shared/novelai-api-2026.md).
    for node in load_workflow(name)["nodes"]:
        if node["type"] in MAPPINGS and "scale" in widget_names(MAPPINGS[node["type"]]):
            widgets = _widgets(node)
            if str(widgets.get("model", "")).startswith("nai-diffusion-5"):
                assert widgets["scale"] == 7.0, (name, node["id"])


# ------------------------------------------------------------ ComfyUI's prompt validation


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_example_workflow_passes_comfyuis_prompt_validation(name: str, sim: Any) -> None:
    classes = {**CORE_NODES, **MAPPINGS}
    prompt = api_prompt(load_workflow(name), classes)
    assert validate_prompt(prompt, classes) == []


def test_a_string_output_linked_into_a_combo_is_refused_as_comfyui_refuses_it() -> None:
    classes = {**CORE_NODES, **MAPPINGS}
    prompt = api_prompt(load_workflow("NovelAI text to image.json"), classes)
    generate = next(i for i, n in prompt.items() if n["class_type"] == "NovelAI_Generate")
    prompt["99"] = {"class_type": "NovelAI_Prompt", "inputs": {}}
    prompt[generate]["inputs"]["sampler"] = ["99", 0]  # NAI_PROMPT into the sampler combo
    problems = [str(p) for p in validate_prompt(prompt, classes)]
    assert any("Return type mismatch between linked nodes: sampler" in p for p in problems)


def test_missing_inputs_and_values_outside_the_widget_are_refused() -> None:
    classes = {**CORE_NODES, **MAPPINGS}
    prompt = api_prompt(load_workflow("NovelAI text to image.json"), classes)
    generate = next(i for i, n in prompt.items() if n["class_type"] == "NovelAI_Generate")
    del prompt[generate]["inputs"]["prompt"]
    prompt[generate]["inputs"]["steps"] = 0
    prompt[generate]["inputs"]["size"] = "Huge"
    details = {(p.message, p.details) for p in validate_prompt(prompt, classes)}
    assert ("Required input is missing", "prompt") in details
    assert ("Value 0 smaller than min of 1", "steps") in details
    assert any(m == "Value not in list" and d.startswith("size: 'Huge'") for m, d in details)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_example_workflow_has_no_clipped_or_overlapping_node(name: str) -> None:
    classes = {**CORE_NODES, **MAPPINGS}
    nodes = load_workflow(name)["nodes"]
    for node in nodes:
        width, height = minimum_size(node, classes)
        assert node["size"][0] >= width and node["size"][1] >= height, (node["type"], node["id"])
    for index, node in enumerate(nodes):
        for other in nodes[index + 1 :]:
            assert not overlapping(node, other), (node["id"], other["id"])


def test_the_local_upscale_example_saves_novelais_image_enlarged_by_the_local_model(
    sim: Any,
) -> None:
    saved = Saved()
    run = _executor(saved).run(load_workflow("NovelAI then a local upscale model.json"))
    (generated, *_) = run.outputs[2]
    (upscaled,) = saved.images
    assert upscaled.shape[1:3] == (generated.shape[1] * 2, generated.shape[2] * 2)


def test_the_checkpoint_example_sends_the_local_image_to_novelai_img2img(sim: Any) -> None:
    run = _executor(Saved()).run(load_workflow("NovelAI img2img of a local checkpoint image.json"))
    body = sim.requests_seen(PATH_GENERATE_STREAM)[-1]
    assert body["action"] == "img2img" and run.outputs[6][0].shape[1:3] == (512, 512)
    assert body["parameters"]["strength"] == 0.6


def test_the_prompt_writer_example_draws_what_the_text_model_wrote(sim: Any) -> None:
    run = _executor(Saved()).run(load_workflow("NovelAI Prompt Writer beside a local branch.json"))
    body = sim.requests_seen(PATH_GENERATE_STREAM)[-1]
    assert body["input"].startswith(WRITTEN["positive"])
    assert run.outputs[1][:2] == (WRITTEN["positive"], WRITTEN["negative"])
    assert set(run.executed) == set(range(1, 12))  # the local branch ran too
