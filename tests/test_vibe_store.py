"""The on-disk vibe encoding store: keys, persistence, corruption, LRU eviction, atomic writes."""

from __future__ import annotations

import io
import os
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from novelai_core.vibes.store import DiskVibeStore, default_store_dir, image_digest, open_store

V45 = "nai-diffusion-4-5-full"
V4 = "nai-diffusion-4-full"


def _picture(colour: tuple[int, int, int] = (10, 120, 200), size: int = 24) -> Image.Image:
    image = Image.new("RGB", (size, size), colour)
    image.putpixel((1, 2), (255, 0, 0))
    return image


def _png(image: Image.Image, *, note: str | None = None, mode: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if note is not None:
        info.add_text("Comment", note)
    buffer = io.BytesIO()
    (image.convert(mode) if mode else image).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_the_same_picture_hits_whatever_file_or_object_it_arrives_as(tmp_path: Path) -> None:
    store = DiskVibeStore(tmp_path)
    picture = _picture()
    store.put(_png(picture), V45, 0.7, b"encoding-1")
    assert store.get(_png(picture, note="other metadata"), V45, 0.7) == b"encoding-1"
    assert store.get(picture, V45, 0.7) == b"encoding-1"
    assert store.get(_png(picture, mode="RGBA"), V45, 0.7) == b"encoding-1"  # opaque alpha
    assert image_digest(picture) == image_digest(_png(picture, note="x"))


def test_model_and_information_extracted_are_part_of_the_key(tmp_path: Path) -> None:
    store = DiskVibeStore(tmp_path)
    png = _png(_picture())
    store.put(png, V45, 0.7, b"enc")
    assert store.get(png, V45, 0.1 * 7) == b"enc"  # 0.7000000000000001: float noise only
    assert store.get(png, V45, 0.71) is None
    assert store.get(png, V4, 0.7) is None
    assert store.get(_png(_picture((11, 120, 200))), V45, 0.7) is None


def test_entries_survive_a_new_store_object_on_the_same_folder(tmp_path: Path) -> None:
    DiskVibeStore(tmp_path).put(_png(_picture()), V45, 1.0, b"kept")
    again = DiskVibeStore(tmp_path)
    assert again.get(_png(_picture()), V45, 1.0) == b"kept"
    [entry] = again.entries()
    assert (entry.model, entry.information_extracted, entry.size > 4) == (V45, 1.0, True)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_corrupted_entry_is_ignored_and_replaced_by_the_next_put(
    tmp_path: Path, damage: str
) -> None:
    store = DiskVibeStore(tmp_path)
    png = _png(_picture())
    store.put(png, V45, 1.0, b"A" * 100)
    [path] = tmp_path.glob("*.vibe")
    blob = path.read_bytes()
    damaged = {
        "truncate": blob[:-10],
        "flip": blob[:-1] + bytes([blob[-1] ^ 0xFF]),
        "garbage": b"not an entry at all",
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    assert store.get(png, V45, 1.0) is None
    assert not store.contains(png, V45, 1.0)
    store.put(png, V45, 1.0, b"B" * 100)
    assert store.get(png, V45, 1.0) == b"B" * 100


def test_the_least_recently_used_entry_is_evicted_above_the_entry_limit(tmp_path: Path) -> None:
    store = DiskVibeStore(tmp_path, max_entries=3)
    pngs = [_png(_picture((i * 40, 0, 0))) for i in range(4)]
    for png in pngs[:3]:
        store.put(png, V45, 1.0, b"x" * 50)
    assert store.get(pngs[0], V45, 1.0) is not None  # now the most recently used
    store.put(pngs[3], V45, 1.0, b"x" * 50)
    present = [store.contains(png, V45, 1.0) for png in pngs]
    assert present == [True, False, True, True]
    assert len(store.entries()) == 3


def test_the_total_size_stays_under_the_byte_limit(tmp_path: Path) -> None:
    store = DiskVibeStore(tmp_path, max_bytes=2500)
    pngs = [_png(_picture((0, i * 30, 0))) for i in range(5)]
    for png in pngs:
        store.put(png, V45, 1.0, os.urandom(900))
    assert store.total_bytes() <= 2500
    assert store.contains(pngs[-1], V45, 1.0)  # the newest is always kept
    assert not store.contains(pngs[0], V45, 1.0)


def test_list_is_most_recent_first_and_clear_removes_everything(tmp_path: Path) -> None:
    store = DiskVibeStore(tmp_path)
    first, second = _png(_picture((1, 1, 1))), _png(_picture((2, 2, 2)))
    store.put(first, V45, 0.5, b"one")
    store.put(second, V4, 0.25, b"two")
    assert [(e.model, e.information_extracted) for e in store.entries()] == [
        (V4, 0.25),
        (V45, 0.5),
    ]
    assert [e.model for e, _ in store.for_image(first)] == [V45]
    assert store.clear() == 2
    assert store.entries() == [] and _files(tmp_path) == []


def test_concurrent_writers_and_readers_never_see_a_partial_entry(tmp_path: Path) -> None:
    store = DiskVibeStore(tmp_path)
    png = _png(_picture())
    payloads = [bytes([i]) * 60_000 for i in range(1, 7)]
    store.put(png, V45, 1.0, payloads[0])
    seen: list[bytes | None] = []
    stop = threading.Event()

    def write(data: bytes) -> None:
        for _ in range(8):
            DiskVibeStore(tmp_path).put(png, V45, 1.0, data)  # separate objects, like processes

    def read() -> None:
        while not stop.is_set():
            seen.append(store.get(png, V45, 1.0))

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    # A reader opens either the old complete file or the new one: never a miss, never a mix.
    assert seen and all(item in payloads for item in seen)
    assert store.get(png, V45, 1.0) in payloads
    assert [name for name in _files(tmp_path) if not name.endswith(".vibe")] == []


def test_a_store_that_cannot_write_misses_instead_of_failing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store folder should be")
    store = DiskVibeStore(blocker / "vibes")
    store.put(_png(_picture()), V45, 1.0, b"lost")  # logged, not raised
    assert store.get(_png(_picture()), V45, 1.0) is None
    assert store.entries() == []


def test_the_folder_is_comfyuis_user_dir_then_nai_cache_dir_then_a_per_user_default(
    tmp_path: Path,
) -> None:
    env = {"NAI_CACHE_DIR": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert (
        default_store_dir(tmp_path / "user", env) == tmp_path / "user" / "novelai-nodes" / "vibes"
    )
    assert default_store_dir(None, env) == tmp_path / "cache" / "vibes"
    fallback = default_store_dir(None, {"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert fallback.parts[-2:] == ("novelai-nodes", "vibes")
    if os.name != "nt" and sys.platform != "darwin":
        assert fallback == tmp_path / "xdg" / "novelai-nodes" / "vibes"


def test_the_size_bound_can_be_set_from_the_environment(tmp_path: Path) -> None:
    store = open_store(None, {"NAI_CACHE_DIR": str(tmp_path), "NAI_VIBE_STORE_MAX_MB": "0.5"})
    assert store.max_bytes == 512 * 1024 and store.root == tmp_path / "vibes"
    with pytest.raises(ValueError):
        DiskVibeStore(tmp_path, max_entries=0)
