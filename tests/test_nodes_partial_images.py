"""When a generation fails after some (paid) images arrived, the Generate node saves them, as
NovelAI sent them, to ComfyUI's output folder (a temp folder outside ComfyUI) and raises the error
with where they are; nothing is dropped silently and the failure is not swallowed."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from novelai_core.contract.constants import PATH_GENERATE, PATH_GENERATE_STREAM
from tests.comfy_harness import load_pack, pack_module, run_generate_node
from tests.tool_support import comfy_folders

NODES = load_pack().NODE_CLASS_MAPPINGS
errors = pack_module("novelai_core.errors")
SEED = 42


@pytest.fixture(autouse=True)
def _temp_folder_in_tmp_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Outside ComfyUI the fallback is the system temp folder: point it into the test's folder.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()


def _generate(*, stream: bool, samples: int = 3) -> Any:
    return run_generate_node(
        seed=SEED, samples=samples, spend_guard="up to 10 Anlas", stream=stream
    )


def _saved(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("NovelAI_partial_*"))


@pytest.mark.parametrize(
    ("stream", "path", "error"),
    [(True, PATH_GENERATE_STREAM, "StreamError"), (False, PATH_GENERATE, "DecodeError")],
)
def test_images_received_before_a_failure_are_saved_to_the_output_folder_and_the_error_says_where(
    sim: Any, tmp_path: Path, stream: bool, path: str, error: str
) -> None:
    sim.set_fault("missing_last_image", path=path)  # 2 of 3 samples arrive
    with comfy_folders(tmp_path / "comfy") as folders:
        with pytest.raises(getattr(errors, error)) as caught:
            _generate(stream=stream)
        output = Path(folders.get_output_directory())
    names = ["NovelAI_partial_42_0.png", "NovelAI_partial_43_1.png"]
    assert _saved(output) == names
    message = str(caught.value)
    assert "2 of 3 images arrived" in message
    assert str(output) in message and all(name in message for name in names)
    for image, name in zip(caught.value.partial, names, strict=True):
        assert (output / name).read_bytes() == image.png  # the original bytes, metadata intact
        assert Image.open(io.BytesIO(image.png)).size == (256, 384)
    assert sim.stats()["requests"][path] == 1  # raised, not retried


def test_outside_comfyui_the_received_images_go_to_a_temp_folder(sim: Any, tmp_path: Path) -> None:
    sim.set_fault("missing_last_image", path=PATH_GENERATE_STREAM)
    with pytest.raises(errors.StreamError) as caught:
        _generate(stream=True, samples=2)
    (folder,) = (tmp_path / "tmp").iterdir()
    assert _saved(folder) == ["NovelAI_partial_42_0.png"]
    assert str(folder) in str(caught.value)


def test_an_output_folder_that_cannot_be_written_falls_back_to_the_temp_folder(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_fault("missing_last_image", path=PATH_GENERATE_STREAM)
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")  # a file where the output folder should be
    with comfy_folders(tmp_path / "comfy") as folders:
        monkeypatch.setattr(folders, "get_output_directory", lambda: str(blocked))
        with pytest.raises(errors.StreamError) as caught:
            _generate(stream=True, samples=2)
    (folder,) = (tmp_path / "tmp").iterdir()
    assert _saved(folder) == ["NovelAI_partial_42_0.png"]
    assert str(folder) in str(caught.value)


def test_a_second_failure_does_not_overwrite_the_images_saved_by_the_first(
    sim: Any, tmp_path: Path
) -> None:
    sim.set_fault("missing_last_image", count=2, path=PATH_GENERATE_STREAM)
    with comfy_folders(tmp_path / "comfy") as folders:
        for _ in range(2):
            with pytest.raises(errors.StreamError):
                _generate(stream=True, samples=2)
        output = Path(folders.get_output_directory())
    assert _saved(output) == ["NovelAI_partial_42_0-2.png", "NovelAI_partial_42_0.png"]


def test_a_failure_before_any_image_saves_nothing_and_keeps_its_message(
    sim: Any, tmp_path: Path
) -> None:
    sim.set_fault("stream_no_final", path=PATH_GENERATE_STREAM)  # no final at all
    with comfy_folders(tmp_path / "comfy") as folders:
        with pytest.raises(errors.StreamError) as caught:
            _generate(stream=True, samples=1)
        output = Path(folders.get_output_directory())
    assert _saved(output) == []
    assert "saved" not in str(caught.value).lower()
