"""Vibe files as the NovelAI web app writes them (real bundles from ``../shared/real-samples``).

Export keeps the picture's own bytes (a JPEG stays a JPEG), the web app's ``id`` and encoding
keys and a 256 px thumbnail; import stores encoding-only vibes too and lists them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from novelai_core.vibes.export import build_vibe_file, encoding_key
from novelai_core.vibes.file_format import load_vibe_file, seed_store, to_vibe
from novelai_core.vibes.store import DiskVibeStore
from tests.real_samples import REAL, requires_real_samples
from tests.test_vibe_cli import _cli, _json

IMAGE_BUNDLE = REAL / "JNovelAIAPI__image_vibe_bundle.naiv4vibebundle"
MIXED_BUNDLE = REAL / "JNovelAIAPI__mixed_vibe_bundle.naiv4vibebundle"
V4 = "nai-diffusion-4-full"


def _web_vibes(path: Path) -> list[dict[str, Any]]:
    vibes: list[dict[str, Any]] = json.loads(path.read_text())["vibes"]
    return vibes


def _thumbnail_size(doc: dict[str, Any]) -> tuple[int, int]:
    data = base64.b64decode(doc["thumbnail"].split(",", 1)[1])
    size: tuple[int, int] = Image.open(io.BytesIO(data)).size
    return size


@requires_real_samples
def test_the_web_apps_ids_and_encoding_keys_are_what_we_compute() -> None:
    for web in _web_vibes(IMAGE_BUNDLE):
        assert web["id"] == hashlib.sha256(web["image"].encode()).hexdigest()
        for inner in web["encodings"].values():
            for key, entry in inner.items():
                assert key == encoding_key(entry["params"]["information_extracted"])


@requires_real_samples
def test_rebuilding_a_web_app_vibe_gives_its_id_keys_thumbnail_and_size() -> None:
    [vibe, small] = load_vibe_file(IMAGE_BUNDLE)
    for parsed, web in zip((vibe, small), _web_vibes(IMAGE_BUNDLE), strict=True):
        assert parsed.image is not None
        doc = build_vibe_file(
            parsed.image,
            [(e.model, e.information_extracted, e.data) for e in parsed.encodings if e.model],
            name=parsed.name,
            model=V4,
            information_extracted=1.0,
            created_at_ms=web["createdAt"],
        )
        assert doc["image"] == web["image"]  # the JPEG's own bytes
        assert (doc["id"], doc["encodings"], doc["importInfo"]) == (
            web["id"], web["encodings"], web["importInfo"],
        )  # fmt: skip
        assert _thumbnail_size(doc) == _thumbnail_size(web)  # longer side 256, small ones grow
        original, ours = len(json.dumps(web)), len(json.dumps(doc))
        assert ours <= 1.3 * original, (ours, original)


@requires_real_samples
def test_an_encoding_only_vibe_is_stored_listed_and_usable(tmp_path: Path) -> None:
    store = DiskVibeStore(tmp_path / "store")
    vibes = load_vibe_file(MIXED_BUNDLE)
    assert sum(seed_store(v, store) for v in vibes) == 2
    [listed] = [e for e in store.entries() if not e.has_image]
    assert (listed.name, listed.model, listed.information_extracted) == (
        "700f94-d2e908", V4, 1.0,
    )  # fmt: skip
    usable = to_vibe(vibes[0])
    assert usable.image is None and usable.encoding_model == V4 and usable.encoding
    assert store.get_without_image(vibes[0].id, V4, 1.0) == usable.encoding


@requires_real_samples
def test_the_cli_imports_encoding_only_vibes_and_exports_a_stored_web_vibe_at_its_size(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    imported = _json(_cli(["vibe", "import", str(MIXED_BUNDLE)], cache, token=None))
    assert imported["stored"] == 2
    listed = _json(_cli(["vibe", "list"], cache, token=None))
    names = {
        (e["name"], e["model"], e["information_extracted"], e["has_image"])
        for e in listed["entries"]
    }
    assert names == {("700f94-d2e908", V4, 1.0, False), ("7380e3-8a50f2", V4, 1.0, True)}

    _cli(["vibe", "import", str(IMAGE_BUNDLE)], cache, token=None)
    web = _web_vibes(IMAGE_BUNDLE)[0]
    picture = tmp_path / "700f94.jpg"
    picture.write_bytes(base64.b64decode(web["image"]))
    out = tmp_path / "again.naiv4vibe"
    exported = _json(
        _cli(["vibe", "export", str(picture), "--model", V4, "--out", str(out)], cache, token=None)
    )
    assert (exported["cached"], exported["anlas_spent"]) == (True, 0)  # no token, nothing sent
    doc = json.loads(out.read_text())
    assert (doc["id"], doc["encodings"]) == (web["id"], web["encodings"])
    assert out.stat().st_size <= 1.3 * len(json.dumps(web))
