""".naiv4vibe / .naiv4vibebundle import and export, alone and against the simulator."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from novelai_core.contract.constants import PATH_ENCODE_VIBE, PATH_GENERATE
from novelai_core.errors import InputError
from novelai_core.simulator import Simulator
from novelai_core.simulator.vibe_encodings import read_encoding
from novelai_core.vibes.export import build_bundle, build_vibe_file, export_vibe
from novelai_core.vibes.file_format import load_vibe_file, parse_vibe_files, seed_store, to_vibe
from novelai_core.vibes.store import DiskVibeStore
from tests.client_helpers import client_for, requests_to, small_request

V45 = "nai-diffusion-4-5-full"
V45C = "nai-diffusion-4-5-curated"
V4 = "nai-diffusion-4-full"


def _png(colour: tuple[int, int, int] = (30, 90, 160), size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _web_app_file(image: bytes | None, encodings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A file shaped like the web app's export (contract §8), built by hand."""
    doc: dict[str, Any] = {
        "identifier": "novelai-vibe-transfer",
        "version": 1,
        "type": "image" if image else "encoding",
        "id": hashlib.sha256(image or b"").hexdigest(),
        "encodings": encodings,
        "name": "sunset",
        "thumbnail": "data:image/jpeg;base64,",
        "createdAt": 1767225600000,
        "importInfo": {"model": V45, "information_extracted": 0.7, "strength": 0.45},
        **extra,
    }
    if image:
        doc["image"] = _b64(image)
    return doc


def test_export_writes_what_the_web_app_reads() -> None:
    png = _png()
    doc = build_vibe_file(
        png,
        [(V45, 0.7, b"enc-a"), (V4, 1.0, b"enc-b"), ("nai-diffusion-3", 1.0, b"skipped")],
        name="sunset",
        model=V45,
        information_extracted=0.7,
        strength=0.5,
        created_at_ms=1767225600123,
    )
    assert doc["identifier"] == "novelai-vibe-transfer" and doc["version"] == 1
    assert doc["type"] == "image" and base64.b64decode(doc["image"]) == png
    assert doc["id"] == hashlib.sha256(doc["image"].encode()).hexdigest()  # of the base64 text
    assert doc["thumbnail"].startswith("data:image/jpeg;base64,")
    assert doc["createdAt"] == 1767225600123
    assert doc["importInfo"] == {"model": V45, "information_extracted": 0.7, "strength": 0.5}
    assert set(doc["encodings"]) == {"v4-5full", "v4full"}  # V3 has no modelKey
    [(key, inner)] = doc["encodings"]["v4-5full"].items()
    assert key == hashlib.sha256(b"information_extracted:0.7").hexdigest()
    assert inner == {"encoding": _b64(b"enc-a"), "params": {"information_extracted": 0.7}}
    [key_1] = doc["encodings"]["v4full"]
    assert key_1 == hashlib.sha256(b"information_extracted:1").hexdigest()  # JS prints 1


def test_a_single_file_round_trips_through_json() -> None:
    png = _png()
    doc = build_vibe_file(
        png, [(V45, 0.7, b"enc-a")], name="n", model=V45, information_extracted=0.7
    )
    [vibe] = parse_vibe_files(json.dumps(doc))
    assert vibe.image == png and vibe.name == "n"
    assert [(e.model_key, e.model, e.information_extracted, e.data) for e in vibe.encodings] == [
        ("v4-5full", V45, 0.7, b"enc-a")
    ]
    assert (vibe.import_model, vibe.import_information, vibe.import_strength) == (V45, 0.7, 0.6)


def test_a_bundle_round_trips_and_files_without_a_name_take_the_file_name(
    tmp_path: Path,
) -> None:
    first = build_vibe_file(_png((1, 2, 3)), [], name="", model=V45, information_extracted=1.0)
    second = build_vibe_file(
        _png((4, 5, 6)), [(V4, 0.3, b"e")], name="b", model=V4, information_extracted=0.3
    )
    path = tmp_path / "pack.naiv4vibebundle"
    path.write_text(json.dumps(build_bundle([first, second])))
    vibes = load_vibe_file(path)
    assert [v.name for v in vibes] == ["pack-1", "b"]
    assert [len(v.encodings) for v in vibes] == [0, 1]
    assert vibes[1].encoding_for(V4, 0.3) is not None and vibes[1].encoding_for(V4, 0.4) is None


def test_web_app_inner_keys_and_model_keys_are_read_by_value() -> None:
    png = _png()
    encodings = {
        "v4-5full": {"unknown": {"encoding": _b64(b"x1"), "params": {"information_extracted": 1}}},
        "v4-5curated": {
            "3f2a": {"encoding": _b64(b"x2"), "params": {"information_extracted": 0.7}}
        },
        "v7future": {"default": {"encoding": _b64(b"x3"), "params": {}}},
    }
    [vibe] = parse_vibe_files(json.dumps(_web_app_file(png, encodings)))
    found = {(e.model_key, e.model, e.information_extracted) for e in vibe.encodings}
    assert found == {("v4-5full", V45, 1.0), ("v4-5curated", V45C, 0.7), ("v7future", None, 1.0)}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not JSON"),
        ('{"identifier": "something-else"}', "not a NovelAI vibe"),
        ('{"identifier": "novelai-vibe-transfer-bundle", "vibes": []}', "no vibes"),
        ('{"identifier": "novelai-vibe-transfer", "version": 1}', "neither an image"),
        ('{"identifier": "novelai-vibe-transfer", "image": "!!!"}', "not valid base64"),
    ],
)
def test_files_that_are_not_vibes_give_one_readable_error(text: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        parse_vibe_files(text, source="x.naiv4vibe")


def test_import_uses_the_files_encoding_for_the_model_else_the_image() -> None:
    png = _png()
    enc = {"v4-5full": {"k": {"encoding": _b64(b"E"), "params": {"information_extracted": 0.7}}}}
    [vibe_file] = parse_vibe_files(json.dumps(_web_app_file(png, enc)))
    vibe = to_vibe(vibe_file)  # importInfo: V4.5 full, 0.7, 0.45
    assert (vibe.encoding, vibe.encoding_model, vibe.strength) == (b"E", V45, 0.45)
    other = to_vibe(vibe_file, model=V45C, strength=0.2)
    assert (other.encoding, other.image, other.strength) == (None, png, 0.2)
    assert to_vibe(vibe_file, information_extracted=0.5).encoding is None


def test_an_encoding_only_file_for_another_model_is_a_clear_error() -> None:
    enc = {"v4-5full": {"k": {"encoding": _b64(b"E"), "params": {"information_extracted": 0.7}}}}
    [vibe_file] = parse_vibe_files(json.dumps(_web_app_file(None, enc)))
    assert to_vibe(vibe_file).encoding == b"E"
    with pytest.raises(InputError, match=r"no encoding for nai-diffusion-4-full.*no image"):
        to_vibe(vibe_file, model=V4)


# ----------------------------------------------------------------------- against the simulator


def test_an_exported_vibe_imported_elsewhere_generates_without_a_new_encode(
    simulator: Simulator, tmp_path: Path
) -> None:
    client = client_for(simulator, vibe_store=DiskVibeStore(tmp_path / "a"))
    doc, cached = export_vibe(
        client.vibe_store,  # type: ignore[arg-type]
        _png(),
        model=V45,
        information_extracted=0.6,
        encode=lambda png, m, i: client.encode_vibe(png, model=m, information_extracted=i),
        name="mine",
    )
    assert cached is False and requests_to(simulator, PATH_ENCODE_VIBE) == 1
    [inner] = doc["encodings"]["v4-5full"].values()
    assert read_encoding(base64.b64decode(inner["encoding"]))["model"] == V45  # type: ignore[index]
    path = tmp_path / "mine.naiv4vibe"
    path.write_text(json.dumps(doc))

    other_store = DiskVibeStore(tmp_path / "b")  # another machine: empty store
    [vibe_file] = load_vibe_file(path)
    assert seed_store(vibe_file, other_store) == 1
    other = client_for(simulator, vibe_store=other_store)
    other.generate(small_request(V45, vibes=(to_vibe(vibe_file, model=V45),)))
    assert requests_to(simulator, PATH_ENCODE_VIBE) == 1  # still only the export's
    sent = simulator.requests_seen(PATH_GENERATE)[-1]["parameters"]
    assert len(sent["reference_image_multiple"]) == 1
    assert "reference_information_extracted_multiple" not in sent


def test_a_vibe_encoded_for_one_model_is_re_encoded_from_its_image_for_another(
    simulator: Simulator, tmp_path: Path
) -> None:
    client = client_for(simulator, vibe_store=DiskVibeStore(tmp_path))
    enc = client.encode_vibe(_png(), model=V45, information_extracted=1.0)
    doc = build_vibe_file(_png(), [(V45, 1.0, enc)], name="v", model=V45, information_extracted=1)
    [vibe_file] = parse_vibe_files(json.dumps(doc))
    vibe = to_vibe(vibe_file)
    assert vibe.encoding_model == V45
    client.generate(small_request(V45C, vibes=(vibe,)))  # the simulator 500s a foreign encoding
    assert requests_to(simulator, PATH_ENCODE_VIBE) == 2
    assert client.vibe_store.get(_png(), V45C, 1.0) is not None  # type: ignore[union-attr]


def test_an_encoding_without_image_for_another_model_fails_before_any_request(
    simulator: Simulator, tmp_path: Path
) -> None:
    client = client_for(simulator, vibe_store=DiskVibeStore(tmp_path))
    enc = {"v4-5full": {"k": {"encoding": _b64(b"E"), "params": {"information_extracted": 1}}}}
    [vibe_file] = parse_vibe_files(json.dumps(_web_app_file(None, enc)))
    vibe = to_vibe(vibe_file)
    before = simulator.stats()["requests"]
    with pytest.raises(InputError, match=r"encoding was made for nai-diffusion-4-5-full"):
        client.generate(small_request(V45C, vibes=(vibe,)))
    after = simulator.stats()["requests"]
    assert {k: v for k, v in after.items() if k.startswith("/ai/")} == {
        k: v for k, v in before.items() if k.startswith("/ai/")
    }
