"""The example workflows as ComfyUI's template browser shows them: layout and thumbnails.

Layout: the frontend draws a node's title bar (30 px) above ``pos``, one 20 px row per socket,
about 24 px per widget, at least 60 px per multiline text box (and at least 400 px of width
for such a node), and a 58 px text box for progress text once the node sends some; the pack's
extension adds its panels. A node smaller than that clips its widgets; nodes whose boxes meet
overlap on the canvas.

Thumbnails: the template browser loads ``<name>.jpg`` beside ``<name>.json`` (frontend 1.27:
``/api/workflow_templates/<pack folder>/<name>.jpg``). Run this file to make them from a real
run of each example on the simulator:  python tests/template_support.py
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Final

TITLE_H: Final = 30
SLOT_H: Final = 20
WIDGET_H: Final = 24
MULTILINE_H: Final = 60
MULTILINE_MIN_W: Final = 400
PROGRESS_TEXT_H: Final = 80  # the frontend's minimum is 58 px: 3 lines of node text
LONG_TEXT_H: Final = 130  # the vibe nodes' status names every model: about 6 lines
MARGIN: Final = 10
GAP: Final = 20  # between two nodes' boxes
THUMBNAIL_SIDE: Final = 384
# Nodes that show a text under them while or after they run (send_progress_text).
TEXT_NODES: Final = frozenset(
    {
        "NovelAI_Generate", "NovelAI_Enhance", "NovelAI_Upscale", "NovelAI_RemoveBackground",
        "NovelAI_LineArt", "NovelAI_Sketch", "NovelAI_Colorize", "NovelAI_Emotion",
        "NovelAI_Declutter", "NovelAI_LoadPNG", "NovelAI_SavePNG", "NovelAI_Account",
    }
)  # fmt: skip
LONG_TEXT_NODES: Final = frozenset({"NovelAI_Vibe", "NovelAI_ExportVibe", "NovelAI_VibeStore"})
# Nodes whose images come from NovelAI (a template's thumbnail shows the last one's).
PAID_NODES: Final = frozenset(
    {
        "NovelAI_Generate", "NovelAI_Enhance", "NovelAI_Upscale", "NovelAI_RemoveBackground",
        "NovelAI_LineArt", "NovelAI_Sketch", "NovelAI_Colorize", "NovelAI_Emotion",
        "NovelAI_Declutter",
    }
)  # fmt: skip
# Panels the pack's frontend extension (web/novelai.js) adds: Generate's cost line (34 px) and
# Character's position picker (158 px), each with 4 px margins above and below.
EXTENSION_PANELS: Final = {"NovelAI_Generate": 34 + 8, "NovelAI_Character": 158 + 8}
# Output nodes of ComfyUI that show the images: room for a picture.
IMAGE_NODES: Final = {"SaveImage": (300, 300), "PreviewImage": (300, 300)}


def minimum_size(node: Mapping[str, Any], classes: Mapping[str, type]) -> tuple[int, int]:
    """The smallest (width, height) at which nothing of ``node`` is clipped."""
    if node["type"] in IMAGE_NODES:
        return IMAGE_NODES[node["type"]]
    spec = classes[node["type"]].INPUT_TYPES()
    sockets = widgets = multiline = 0
    for section in ("required", "optional"):
        for type_, *rest in spec.get(section, {}).values():
            options = rest[0] if rest else {}
            if isinstance(type_, list) or type_ in ("INT", "FLOAT", "STRING", "BOOLEAN"):
                if options.get("multiline"):
                    multiline += 1
                else:
                    widgets += 1 + bool(options.get("control_after_generate"))
            else:
                sockets += 1
    rows = max(sockets, len(classes[node["type"]].RETURN_TYPES))
    height = rows * SLOT_H + widgets * WIDGET_H + multiline * MULTILINE_H + MARGIN
    height += EXTENSION_PANELS.get(node["type"], 0)
    if node["type"] in LONG_TEXT_NODES:
        height += LONG_TEXT_H
    elif node["type"] in TEXT_NODES:
        height += PROGRESS_TEXT_H
    width = MULTILINE_MIN_W if multiline else 300
    return width, height


def box(node: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) on the canvas, title bar included."""
    x, y = node["pos"]
    w, h = node["size"]
    return x, y - TITLE_H, x + w, y + h


def overlapping(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two nodes' boxes come closer than GAP."""
    al, at, ar, ab = box(a)
    bl, bt, br, bb = box(b)
    return al < br + GAP and bl < ar + GAP and at < bb + GAP and bt < ab + GAP


def thumbnail_jpeg(images: Any) -> bytes:
    """The first image of an IMAGE batch as a small JPEG (longest side THUMBNAIL_SIDE)."""
    from PIL import Image

    array = (images[0].clamp(0, 1) * 255).round().byte().cpu().numpy()
    picture = Image.fromarray(array, "RGB")
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


def main() -> None:
    """Run every example on a fresh simulator and write <name>.jpg beside it."""
    import os
    import tempfile
    from pathlib import Path

    from novelai_core.simulator import run_simulator
    from tests.comfy_harness import WORKFLOWS_DIR, Executor, load_pack, load_workflow
    from tests.core_nodes import STAND_INS
    from tests.simulator_support import SIM_TOKEN
    from tests.tool_support import comfy_folders, write_example_inputs

    mappings = load_pack().NODE_CLASS_MAPPINGS
    with tempfile.TemporaryDirectory() as temp:
        os.environ.update(
            NAI_ACCESS_TOKEN=SIM_TOKEN,
            NAI_TOKEN_FILE=str(Path(temp) / "no-token-file"),
            NAI_CACHE_DIR=str(Path(temp) / "cache"),
        )
        os.environ.pop("NOVELAI_API_KEY", None)
        for path in sorted(WORKFLOWS_DIR.glob("*.json")):
            with (
                run_simulator(token=SIM_TOKEN, anlas=10_000, tier=3) as sim,
                comfy_folders(Path(temp) / path.stem) as folders,
            ):
                os.environ["NAI_IMAGE_BASE_URL"] = os.environ["NAI_TEXT_BASE_URL"] = sim.url
                sim.queue_text_reply(PROMPT_WRITER_ANSWER)  # the simulator's own is not a prompt
                write_example_inputs(Path(folders.get_input_directory()))
                workflow = load_workflow(path.name)
                shown = {**STAND_INS, "SaveImage": _shown, "PreviewImage": _shown}
                run = Executor(mappings, shown).run(workflow)
            images = template_image(workflow, run)
            path.with_suffix(".jpg").write_bytes(thumbnail_jpeg(images))
            print(f"{path.with_suffix('.jpg').name}: {tuple(images.shape)}")


PROMPT_WRITER_ANSWER = (
    '{"positive": "2girls, hug, cherry blossoms, dusk, watercolor", "negative": "rain"}'
)


def _shown(images: Any, **_: Any) -> tuple[()]:
    return ()


def template_image(workflow: Mapping[str, Any], run: Any) -> Any:
    """What a template shows: the first image output of the last node that called NovelAI."""
    types = {node["id"]: node["type"] for node in workflow["nodes"]}
    paid = [i for i in run.executed if types[i] in PAID_NODES]
    return run.outputs[paid[-1]][0]


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the pack's folder
    main()
