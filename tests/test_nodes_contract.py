"""Every node honours ComfyUI's classic node contract, and the widget schema is pinned."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.comfy_harness import PACK_DIR, load_pack

SNAPSHOT = Path(__file__).parent / "snapshots" / "node_schema.json"
PRIMITIVES = {"INT", "FLOAT", "STRING", "BOOLEAN"}
SOCKETS = {
    "IMAGE",
    "MASK",
    "NAI_PROMPT",
    "NAI_CHARACTERS",
    "NAI_CHARREF",
    "NAI_VIBES",
    "NAI_SOURCE",
}
HIDDEN_TYPES = {"UNIQUE_ID", "PROMPT", "EXTRA_PNGINFO", "DYNPROMPT"}

PACK = load_pack()
NODES = sorted(PACK.NODE_CLASS_MAPPINGS.items())


def _inputs(node_class: type) -> dict[str, Any]:
    return {
        **node_class.INPUT_TYPES().get("required", {}),
        **node_class.INPUT_TYPES().get("optional", {}),
    }


def test_the_pack_exports_prefixed_nodes_with_display_names() -> None:
    mappings = PACK.NODE_CLASS_MAPPINGS
    assert len(mappings) >= 8
    assert all(node_id.startswith("NovelAI_") for node_id in mappings)
    assert set(PACK.NODE_DISPLAY_NAME_MAPPINGS) == set(mappings)


@pytest.mark.parametrize(("node_id", "node_class"), NODES)
def test_input_types_has_only_comfyui_sections_with_well_formed_specs(
    node_id: str, node_class: type
) -> None:
    spec = node_class.INPUT_TYPES()
    assert isinstance(spec, dict) and "required" in spec
    assert set(spec) <= {"required", "optional", "hidden"}
    for name, entry in _inputs(node_class).items():
        assert isinstance(entry, tuple) and 1 <= len(entry) <= 2, (node_id, name)
        type_, options = entry[0], (entry[1] if len(entry) == 2 else {})
        assert isinstance(options, dict), (node_id, name)
        assert isinstance(type_, list) or type_ in PRIMITIVES | SOCKETS, (node_id, name, type_)
        assert isinstance(options.get("tooltip"), str) and options["tooltip"], (node_id, name)
    for name, type_ in spec.get("hidden", {}).items():
        assert type_ in HIDDEN_TYPES, (node_id, name)


@pytest.mark.parametrize(("node_id", "node_class"), NODES)
def test_widget_defaults_fit_their_limits_and_combos_contain_their_default(
    node_id: str, node_class: type
) -> None:
    for name, (type_, *rest) in _inputs(node_class).items():
        options = rest[0] if rest else {}
        where = f"{node_id}.{name}"
        if isinstance(type_, list):
            assert type_ and all(isinstance(o, str) for o in type_), where
            assert len(set(type_)) == len(type_), where
            assert options.get("default", type_[0]) in type_, where
        elif type_ in ("INT", "FLOAT"):
            number = int if type_ == "INT" else (int, float)
            for key in ("default", "min", "max", "step"):
                if key == "step" and key not in options:
                    continue  # optional in ComfyUI
                assert isinstance(options.get(key), number) and not isinstance(
                    options.get(key), bool
                ), f"{where}: {key}"
            assert options["min"] <= options["default"] <= options["max"], where
            assert options.get("step", 1) > 0, where
        elif type_ == "BOOLEAN":
            assert isinstance(options.get("default"), bool), where
        elif type_ == "STRING":
            assert isinstance(options.get("default"), str), where


@pytest.mark.parametrize(("node_id", "node_class"), NODES)
def test_function_accepts_every_input_and_returns_match_their_names(
    node_id: str, node_class: type
) -> None:
    function = getattr(node_class, node_class.FUNCTION)
    parameters = inspect.signature(function).parameters
    spec = node_class.INPUT_TYPES()
    expected = {*_inputs(node_class), *spec.get("hidden", {})}
    assert expected <= set(parameters), f"{node_id}: missing {expected - set(parameters)}"
    for name in spec.get("optional", {}) | spec.get("hidden", {}):
        assert parameters[name].default is not inspect.Parameter.empty, (node_id, name)
    assert isinstance(node_class.RETURN_TYPES, tuple)
    assert len(node_class.RETURN_NAMES) == len(node_class.RETURN_TYPES)
    assert len(getattr(node_class, "OUTPUT_TOOLTIPS", node_class.RETURN_TYPES)) == len(
        node_class.RETURN_TYPES
    )
    assert node_class.CATEGORY.startswith("NovelAI")
    assert isinstance(node_class.DESCRIPTION, str) and len(node_class.DESCRIPTION) > 40


def test_prompt_widgets_are_multiline_and_keep_novelai_syntax_from_the_frontend() -> None:
    text_widgets = [
        (node_id, name, entry[1])
        for node_id, node_class in NODES
        for name, entry in _inputs(node_class).items()
        if entry[0] == "STRING"
    ]
    assert text_widgets
    for node_id, name, options in text_widgets:
        # File name prefixes are one line, as in ComfyUI's Save Image; the rest is prompt text.
        assert options.get("multiline") is (name != "filename_prefix"), (node_id, name)
        assert options.get("dynamicPrompts") is False, (node_id, name)


def test_no_node_takes_the_token_as_an_input() -> None:
    for node_id, node_class in NODES:
        for name in _inputs(node_class):
            assert not any(word in name.lower() for word in ("token", "key", "password")), (
                node_id,
                name,
            )


def test_the_generate_seed_uses_control_after_generate_over_novelais_seed_range() -> None:
    seed = _inputs(PACK.NODE_CLASS_MAPPINGS["NovelAI_Generate"])["seed"][1]
    assert seed["control_after_generate"] is True
    assert (seed["min"], seed["max"]) == (0, 4_294_967_295)


def test_the_generate_node_is_cacheable_no_is_changed() -> None:
    # Without IS_CHANGED ComfyUI reuses outputs for unchanged inputs: a fixed-seed re-queue
    # must cost nothing. (The Account node re-reads the balance on purpose; it is free.)
    assert not hasattr(PACK.NODE_CLASS_MAPPINGS["NovelAI_Generate"], "IS_CHANGED")


def _schema() -> dict[str, Any]:
    """Per node: inputs in order as "section name: TYPE", then the outputs.

    Combo options are not pinned (the capability table grows with NovelAI's releases and a new
    option does not break a saved workflow); the order, names and types of inputs are, and the
    limits of number widgets (a narrower range refuses values saved in workflows; many limits
    come from the core's models, so a model change shows up here).
    """
    schema: dict[str, Any] = {}
    for node_id, node_class in NODES:
        spec = node_class.INPUT_TYPES()
        schema[node_id] = [
            f"{section} {name}: {_type_name(entry)}"
            for section in ("required", "optional", "hidden")
            for name, entry in spec.get(section, {}).items()
        ] + ["-> " + ", ".join(_output_type(r) for r in node_class.RETURN_TYPES)]
    return schema


def _output_type(entry: Any) -> str:
    """An output's type as the frontend names it: a combo's option list is "COMBO"."""
    return "COMBO" if isinstance(entry, list) else str(entry)


def _type_name(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    type_, options = entry[0], (entry[1] if len(entry) > 1 else {})
    name = "COMBO" if isinstance(type_, list) else str(type_)
    if "min" in options or "max" in options:
        name += f" {options.get('min')}..{options.get('max')}"
    return name + (" +control_after_generate" if options.get("control_after_generate") else "")


def test_the_node_schema_matches_the_snapshot() -> None:
    current = _schema()
    if os.environ.get("UPDATE_NODE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    if current != recorded:
        changed = sorted(
            node for node in set(current) | set(recorded) if current.get(node) != recorded.get(node)
        )
        pytest.fail(
            "The node schema changed for: "
            + ", ".join(changed)
            + ". Saved workflows store widget values by POSITION, so reordering, renaming or "
            "removing inputs breaks users' workflows. If the change is deliberate (append new "
            "widgets at the end), update the snapshot: UPDATE_NODE_SNAPSHOT=1 python -m pytest "
            "tests/test_nodes_contract.py, and update example_workflows/ to match."
        )


def test_importing_the_pack_loads_neither_comfy_nor_torch_and_writes_nothing(
    tmp_path: Path,
) -> None:
    script = textwrap.dedent(
        f"""
        import importlib.util, json, os, sys
        spec = importlib.util.spec_from_file_location(
            "some_custom_node_folder", {str(PACK_DIR / "__init__.py")!r},
            submodule_search_locations=[{str(PACK_DIR)!r}])
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        heavy = sorted(m for m in sys.modules
                       if m.split(".")[0] in ("torch", "comfy", "server", "folder_paths",
                                              "requests", "pydantic"))
        print(json.dumps({{"nodes": len(module.NODE_CLASS_MAPPINGS), "heavy": heavy}}))
        """
    )
    before = _tree_state()
    done = subprocess.run(
        [sys.executable, "-B", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    assert report["nodes"] >= 8
    assert report["heavy"] == []
    assert _tree_state() == before
    assert list(tmp_path.iterdir()) == []


def _tree_state() -> set[str]:
    return {
        str(p.relative_to(PACK_DIR))
        for p in PACK_DIR.rglob("*")
        if not any(part in p.parts for part in (".git", "__pycache__", ".pytest_cache"))
        and p.is_file()
    }


def test_the_english_locale_matches_the_nodes_names_and_tooltips() -> None:
    from tests.locale_support import build_node_defs

    path = PACK_DIR / "locales" / "en" / "nodeDefs.json"
    current = build_node_defs(PACK)
    if os.environ.get("UPDATE_NODE_SNAPSHOT"):
        path.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    recorded = json.loads(path.read_text(encoding="utf-8"))
    assert recorded == current, (
        "locales/en/nodeDefs.json is out of date with the nodes' tooltips; regenerate it with "
        "UPDATE_NODE_SNAPSHOT=1 python -m pytest tests/test_nodes_contract.py"
    )


# Widgets that mirror a field of a core model: (node id, input, model, field, other fields).
IMAGE_AND_MASK = {"image": b"i", "mask": b"m"}
MIRRORED = [
    ("NovelAI_Vibe", "strength", "Vibe", "strength", {"encoding": b"e"}),
    ("NovelAI_Vibe", "information_extracted", "Vibe", "information_extracted", {"encoding": b"e"}),
    ("NovelAI_VibeFile", "strength", "Vibe", "strength", {"encoding": b"e"}),
    ("NovelAI_CharacterReference", "strength", "CharacterReference", "strength", {"image": b"i"}),
    ("NovelAI_CharacterReference", "fidelity", "CharacterReference", "fidelity", {"image": b"i"}),
    ("NovelAI_Img2Img", "strength", "Img2ImgSource", "strength", {"image": b"i"}),
    ("NovelAI_Img2Img", "noise", "Img2ImgSource", "noise", {"image": b"i"}),
    ("NovelAI_Inpaint", "strength", "InpaintSource", "img2img_strength", IMAGE_AND_MASK),
    ("NovelAI_Inpaint", "noise", "InpaintSource", "noise", IMAGE_AND_MASK),
    ("NovelAI_Generate", "cfg_rescale", "GenerationSettings", "cfg_rescale", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("node_id", "name", "model", "field", "others"),
    MIRRORED,
    ids=[f"{m[0]}.{m[1]}" for m in MIRRORED],
)
def test_a_widget_offers_exactly_the_range_its_model_field_accepts(
    node_id: str, name: str, model: str, field: str, others: dict[str, Any]
) -> None:
    from pydantic import ValidationError

    from tests.comfy_harness import pack_module

    model_class = getattr(pack_module("novelai_core.models.user"), model)
    options = _inputs(PACK.NODE_CLASS_MAPPINGS[node_id])[name][1]
    for value in (options["min"], options["default"], options["max"]):
        model_class(**others, **{field: value})
    for value in (options["min"] - 0.001, options["max"] + 0.001):
        with pytest.raises(ValidationError):
            model_class(**others, **{field: value})


def test_the_main_nodes_have_search_aliases_newer_comfyui_can_send() -> None:
    main = {"NovelAI_Generate", "NovelAI_Prompt", "NovelAI_Upscale", "NovelAI_RemoveBackground"}
    for node_id, node_class in NODES:
        aliases = getattr(node_class, "SEARCH_ALIASES", ())
        assert node_id not in main or aliases, node_id
        # Sent in /object_info as a JSON list of words: plain lowercase strings, no repeats.
        assert json.loads(json.dumps(aliases)) == [a.lower() for a in dict.fromkeys(aliases)]


def test_pyproject_declares_the_comfyui_versions_it_supports() -> None:
    import tomllib

    comfy = tomllib.loads((PACK_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "comfy"
    ]
    assert comfy["requires-comfyui"] == ">=0.3.34"  # send_progress_text: the node texts


def test_the_readme_node_table_names_every_node() -> None:
    readme = (PACK_DIR / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| node | what it does |") :].split("\n\n", 1)[0]
    rows = " ".join(line.split("|")[1] for line in table.splitlines()[2:])
    for name in PACK.NODE_DISPLAY_NAME_MAPPINGS.values():
        assert name in rows, name
