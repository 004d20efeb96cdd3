"""Vibe, Vibe File, Export Vibe, Vibe Store and Character Reference nodes against the simulator."""

from __future__ import annotations

import base64
import io
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from novelai_core.contract.constants import PATH_ENCODE_VIBE, PATH_GENERATE_STREAM
from novelai_core.simulator.vibe_encodings import read_encoding
from tests.comfy_harness import call_node, comfy_runtime, load_pack, pack_module, run_generate_node
from tests.real_samples import REAL, requires_real_samples
from tests.tool_support import comfy_folders

PACK = load_pack()
NODES = PACK.NODE_CLASS_MAPPINGS
errors = pack_module("novelai_core.errors")
session = pack_module("nodes.runtime.session")
store_node = pack_module("nodes.vibe_store_node")
V45 = "nai-diffusion-4-5-full"
V45C = "nai-diffusion-4-5-curated"


@pytest.fixture
def comfy(sim: Any, tmp_path: Path) -> Iterator[Any]:
    """ComfyUI stand-ins (progress text, folders incl. the user folder) and the simulator."""
    with comfy_runtime() as runtime, comfy_folders(tmp_path / "comfy") as folders:
        folders.get_user_directory = lambda: str(tmp_path / "comfy" / "user")
        runtime.sim = sim
        runtime.root = tmp_path / "comfy"
        yield runtime


def _encodes(sim: Any) -> int:
    return int(sim.stats()["requests"].get(PATH_ENCODE_VIBE, 0))


def _tensor(colour: tuple[int, int, int] = (40, 140, 220), size: tuple[int, int] = (64, 48)) -> Any:
    w, h = size
    pixels = torch.tensor(colour, dtype=torch.float32) / 255
    image = pixels.expand(1, h, w, 3).clone()
    image[0, 0, 0] = torch.tensor([1.0, 0.0, 0.0])
    return image


def _vibe(image: Any, unique_id: str = "3", **kw: Any) -> tuple[Any, ...]:
    args = {"information_extracted": 0.8, "strength": 0.5, **kw}
    (chain,) = NODES["NovelAI_Vibe"]().append(image=image, unique_id=unique_id, **args)
    return chain


def _texts(runtime: Any, node_id: str) -> list[str]:
    return [text for text, nid in runtime.texts if nid == node_id]


def _restart() -> None:
    """What a ComfyUI restart forgets: the shared client and the in-memory store objects."""
    session._close(session._cached)
    session._cached = None
    store_node.forget_stores()


# --------------------------------------------------------------------------- Vibe node + store


def test_the_vibe_node_says_stored_or_will_be_encoded_before_generate_pays(comfy: Any) -> None:
    chain = _vibe(_tensor())
    [status] = _texts(comfy, "3")
    assert "will be encoded for" in status and V45 in status and "2 Anlas" in status
    assert _encodes(comfy.sim) == 0
    run_generate_node(vibes=chain, spend_guard="up to 10 Anlas", model=V45)
    assert _encodes(comfy.sim) == 1 and comfy.sim.spent() == 2
    assert any("incl. 1 vibe encoding at 2 Anlas each" in text for text in _texts(comfy, "7"))
    assert len(list((comfy.root / "user" / "novelai-nodes" / "vibes").glob("*.vibe"))) == 1

    _vibe(_tensor(), unique_id="4")
    [again] = _texts(comfy, "4")
    assert f"stored for {V45} (free)" in again and V45C in again.split("will be encoded")[1]


def test_after_a_restart_the_spend_guard_counts_no_encode_and_none_is_made(comfy: Any) -> None:
    run_generate_node(vibes=_vibe(_tensor()), spend_guard="up to 10 Anlas", seed=1)
    _restart()
    # "free only" passes: the stored encoding costs nothing (Opus, small image).
    run_generate_node(vibes=_vibe(_tensor()), spend_guard="free only", seed=2)
    assert _encodes(comfy.sim) == 1 and comfy.sim.spent() == 2
    # Another model has no stored encoding: the guard counts it before anything is sent.
    with pytest.raises(errors.SpendLimitError, match="2 Anlas"):
        run_generate_node(vibes=_vibe(_tensor()), spend_guard="free only", model=V45C, seed=3)
    assert _encodes(comfy.sim) == 1


def test_a_vibe_picture_is_png_encoded_once_by_the_vibe_node_and_never_by_generate(
    comfy: Any, png_encodes: list[str]
) -> None:
    chain = _vibe(_tensor())
    assert png_encodes == ["png"]
    run_generate_node(vibes=chain, spend_guard="up to 10 Anlas", seed=1)  # encodes the vibe (paid)
    run_generate_node(vibes=chain, spend_guard="free only", seed=2)  # the stored encoding
    assert png_encodes == ["png"] and _encodes(comfy.sim) == 1


def test_the_store_node_lists_and_clears(comfy: Any) -> None:
    node = NODES["NovelAI_VibeStore"]
    assert math.isnan(node.IS_CHANGED(action="list"))
    run_generate_node(vibes=_vibe(_tensor()), spend_guard="up to 10 Anlas")
    listed = node().run(action="list", unique_id="9")
    (report,) = listed["result"]
    assert report.startswith("1 stored vibe encoding(s)") and V45 in report
    assert listed["ui"]["text"] == [report]
    cleared = node().run(action="clear")["result"][0]
    assert cleared.startswith("cleared 1 ")
    assert node().run(action="list")["result"][0].startswith("0 stored")


# ---------------------------------------------------------------------- Vibe File / Export Vibe


def _export(comfy: Any, chain: tuple[Any, ...], guard: str = "up to 10 Anlas") -> Path:
    result = call_node(
        NODES["NovelAI_ExportVibe"](),
        vibes=chain,
        model=V45,
        filename_prefix="vibes/mine",
        spend_guard=guard,
        unique_id="5",
    )
    return Path(result["result"][0])


def test_export_refuses_unpaid_encodes_then_writes_a_web_app_file(comfy: Any) -> None:
    chain = _vibe(_tensor())
    with pytest.raises(errors.SpendLimitError, match="2 Anlas"):
        _export(comfy, chain, guard="free only")
    assert _encodes(comfy.sim) == 0
    assert _texts(comfy, "5")[-1].startswith("Failed: ")  # the node's last word: the refusal
    path = _export(comfy, chain)
    assert _texts(comfy, "5")[-1].startswith(f"Done: wrote {path.name}")
    assert path.parent == comfy.root / "output" / "vibes" and path.suffix == ".naiv4vibe"
    doc = json.loads(path.read_text())
    assert doc["identifier"] == "novelai-vibe-transfer"
    assert doc["importInfo"] == {"model": V45, "information_extracted": 0.8, "strength": 0.5}
    [inner] = doc["encodings"]["v4-5full"].values()
    assert read_encoding(base64.b64decode(inner["encoding"]))["model"] == V45  # type: ignore[index]
    second = _export(comfy, chain, guard="free only")  # stored now: free, a new file
    assert second != path and _encodes(comfy.sim) == 1


def test_a_bundle_from_the_input_folder_generates_without_new_encodes(comfy: Any) -> None:
    chain = _vibe(_tensor((200, 30, 30))) + _vibe(_tensor((30, 200, 30)), information_extracted=1)
    bundle = _export(comfy, chain)
    assert bundle.suffix == ".naiv4vibebundle" and _encodes(comfy.sim) == 2
    target = comfy.root / "input" / "shared" / "pair.naiv4vibebundle"
    target.parent.mkdir(parents=True)
    target.write_bytes(bundle.read_bytes())
    _restart()
    for vibe_file in (comfy.root / "user").rglob("*.vibe"):
        vibe_file.unlink()  # another machine: the encodings come from the file only

    node = NODES["NovelAI_VibeFile"]
    files = node.INPUT_TYPES()["required"]["file"][0]
    assert files == ["shared/pair.naiv4vibebundle"]
    assert node.IS_CHANGED(file=files[0]) == node.IS_CHANGED(file=files[0]) != ""
    (vibes,) = node().load(
        file=files[0], use_file_settings=True, information_extracted=0.1, strength=0.1
    )
    assert [(v.information_extracted, v.strength, v.encoding_model) for v in vibes] == [
        (0.8, 0.5, V45),
        (1.0, 0.5, V45),
    ]
    run_generate_node(vibes=vibes, model=V45, spend_guard="free only")
    assert _encodes(comfy.sim) == 2
    sent = comfy.sim.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]
    assert sent["reference_strength_multiple"] == [0.5, 0.5]
    # Another model: encoded from the file's images (through the store), 2 Anlas each.
    run_generate_node(vibes=vibes, model=V45C, spend_guard="up to 10 Anlas")
    assert _encodes(comfy.sim) == 4


def test_the_vibe_file_node_explains_an_empty_input_folder(comfy: Any) -> None:
    node = NODES["NovelAI_VibeFile"]
    [placeholder] = node.INPUT_TYPES()["required"]["file"][0]
    with pytest.raises(errors.InputError, match="input folder"):
        node().load(file=placeholder, use_file_settings=True, information_extracted=1, strength=0.6)
    with pytest.raises(errors.InputError, match="outside"):
        node().load(
            file="../user/x.naiv4vibe", use_file_settings=True, information_extracted=1, strength=1
        )


@requires_real_samples
def test_the_vibe_file_node_uses_the_web_apps_encoding_only_vibes(comfy: Any) -> None:
    real = REAL / "JNovelAIAPI__mixed_vibe_bundle.naiv4vibebundle"
    (comfy.root / "input" / "mixed.naiv4vibebundle").write_bytes(real.read_bytes())
    web = json.loads(real.read_text())["vibes"][0]
    node = NODES["NovelAI_VibeFile"]
    (vibes,) = node().load(
        file="mixed.naiv4vibebundle", use_file_settings=True, information_extracted=1,
        strength=0.6, unique_id="4",
    )  # fmt: skip
    encoding_only = vibes[0]
    assert encoding_only.image is None and encoding_only.encoding_model == "nai-diffusion-4-full"
    file_encoding = web["encodings"]["v4full"]["unknown"]["encoding"]
    assert encoding_only.encoding == base64.b64decode(file_encoding)
    assert (encoding_only.information_extracted, encoding_only.strength) == (1.0, 0.6)
    # What NovelAI Generate sends: the file's encoding as it is, nothing to encode (no Anlas).
    converter = pack_module("novelai_core.converter.generation")
    user = pack_module("novelai_core.models.user")
    request = user.GenerationRequest(
        model="nai-diffusion-4-full", prompt=user.Prompt(text="cat"),
        settings=user.GenerationSettings(width=512, height=512, seed=1), vibes=(encoding_only,),
    )  # fmt: skip
    sent = converter.build_generate_request(request).body["parameters"]
    assert sent["reference_image_multiple"] == [file_encoding]
    assert _encodes(comfy.sim) == 0
    listed = [e for e in store_node.shared_store().entries() if e.name == "700f94-d2e908"]
    assert [(e.model, e.has_image) for e in listed] == [("nai-diffusion-4-full", False)]


# ---------------------------------------------------------------------- Precise Reference


def _reference(image: Any, chain: tuple[Any, ...] | None = None, **kw: Any) -> tuple[Any, ...]:
    args = {"mode": "character", "strength": 0.9, "fidelity": 0.75, **kw}
    (refs,) = NODES["NovelAI_CharacterReference"]().append(
        image=image, character_references=chain, **args
    )
    return refs


def test_a_reference_picture_is_letterboxed_and_encoded_once_by_its_node_never_by_generate(
    comfy: Any, png_encodes: list[str]
) -> None:
    refs = _reference(_tensor(size=(96, 128)))
    assert png_encodes == ["png"]
    for seed in (1, 2):
        run_generate_node(character_references=refs, spend_guard="up to 50 Anlas", seed=seed)
    assert png_encodes == ["png"]
    assert comfy.sim.spent() > 0  # both runs were sent, with the node's picture


def _decoded_size(value: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(value))).size


def test_precise_reference_requests_match_the_contract(comfy: Any) -> None:
    refs = _reference(_tensor(size=(60, 90)))
    refs = _reference(_tensor(size=(90, 60)), refs, mode="style", strength=0.4, fidelity=0.0)
    refs = _reference(_tensor(size=(70, 70)), refs, mode="character&style", fidelity=1.0)
    run_generate_node(character_references=refs, spend_guard="up to 50 Anlas")
    assert comfy.sim.spent() == 15  # 5 per reference per image, even on Opus
    params = comfy.sim.requests_seen(PATH_GENERATE_STREAM)[-1]["parameters"]
    captions = [d["caption"]["base_caption"] for d in params["director_reference_descriptions"]]
    assert captions == ["character", "style", "character&style"]
    assert all(d["legacy_uc"] is False for d in params["director_reference_descriptions"])
    assert params["director_reference_information_extracted"] == [1, 1, 1]
    assert params["director_reference_strength_values"] == [0.9, 0.4, 0.9]
    assert params["director_reference_secondary_strength_values"] == [0.25, 1.0, 0.0]
    assert "reference_image_multiple" not in params


def test_precise_reference_letterboxes_onto_the_three_canvases() -> None:
    converter = pack_module("novelai_core.converter.generation")
    user = pack_module("novelai_core.models.user")
    refs = tuple(
        user.CharacterReference(image=Image.new("RGB", size, (255, 255, 255)))
        for size in ((60, 100), (100, 60), (70, 80))
    )
    request = user.GenerationRequest(
        model=V45, prompt=user.Prompt(text="x"), character_references=refs
    )
    body = converter.build_generate_request(converter.resolve_seed(request)).body
    images = body["parameters"]["director_reference_images"]
    assert [_decoded_size(i) for i in images] == [(1024, 1536), (1536, 1024), (1472, 1472)]
    for image in images:  # white pictures, black letterbox bars, centred
        pil = Image.open(io.BytesIO(base64.b64decode(image))).convert("RGB")
        w, h = pil.size
        assert pil.getpixel((0, 0)) == (0, 0, 0) and pil.getpixel((w // 2, h // 2)) == (255,) * 3


def test_precise_reference_allows_16_and_is_refused_where_the_contract_says(comfy: Any) -> None:
    refs: tuple[Any, ...] = ()
    for index in range(17):
        refs = _reference(_tensor((index * 10, 0, 0)), refs or None)
    with pytest.raises(errors.InputError, match="at most 16"):
        run_generate_node(character_references=refs, spend_guard="no limit")
    for model in ("nai-diffusion-4-full", "nai-diffusion-3", "nai-diffusion-5-full"):
        with pytest.raises(errors.InputError, match="no character reference"):
            run_generate_node(character_references=refs[:1], model=model, spend_guard="no limit")
    with pytest.raises(errors.InputError, match="cannot be combined"):
        run_generate_node(
            character_references=refs[:1], vibes=_vibe(_tensor()), spend_guard="no limit"
        )
    assert comfy.sim.spent() == 0 and _encodes(comfy.sim) == 0


def test_the_shared_store_is_remembered_per_location_and_follows_a_changed_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_node.forget_stores()
    monkeypatch.setenv("NAI_CACHE_DIR", str(tmp_path / "first"))
    first = store_node.shared_store()
    assert store_node.shared_store() is first
    monkeypatch.setenv("NAI_CACHE_DIR", str(tmp_path / "second"))
    second = store_node.shared_store()
    assert second is not first and second.root == tmp_path / "second" / "vibes"
    monkeypatch.setenv("NAI_CACHE_DIR", str(tmp_path / "first"))
    assert store_node.shared_store() is first
    store_node.forget_stores()


def test_the_vibe_store_node_takes_the_hidden_unique_id_comfyui_passes_to_is_changed() -> None:
    # ComfyUI calls IS_CHANGED with every input, hidden ones included (a real ComfyUI warned
    # "unexpected keyword argument 'unique_id'" and skipped the check).
    store_node = PACK.NODE_CLASS_MAPPINGS["NovelAI_VibeStore"]
    assert math.isnan(store_node.IS_CHANGED(action="list", unique_id="7"))  # NaN: always runs


# ----------------------------------------------- where newer ComfyUI keeps a pack's own data


def _system_user_folders(folders: Any, user: Path) -> None:
    """Newer ComfyUI's folder_paths: system user folders "<user>/__<name>", made on demand."""

    def get_system_user_directory(name: str = "system") -> str:
        path = user / f"__{name}"
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    folders.get_system_user_directory = get_system_user_directory


def test_newer_comfyui_keeps_the_store_in_the_packs_system_user_folder(
    comfy: Any, tmp_path: Path
) -> None:
    user = comfy.root / "user"
    _system_user_folders(sys.modules["folder_paths"], user)
    store_node.forget_stores()
    store = store_node.shared_store()
    assert Path(store.root) == user / "__novelai_nodes" / "novelai-nodes" / "vibes"


def test_a_store_at_the_old_place_is_moved_once_with_its_encodings(
    comfy: Any, tmp_path: Path
) -> None:
    user = comfy.root / "user"
    old = user / "novelai-nodes" / "vibes"
    old.mkdir(parents=True)
    (old / "paid.vibe").write_bytes(b"an encoding that cost 2 Anlas")
    _system_user_folders(sys.modules["folder_paths"], user)
    store_node.forget_stores()
    root = Path(store_node.shared_store().root)
    assert (root / "paid.vibe").read_bytes() == b"an encoding that cost 2 Anlas"
    assert not old.exists()
