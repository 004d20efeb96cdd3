"""A pytest plugin (``-p tests.pack_folder_plugin`` in pyproject): the repository root is
collected as a plain folder, never as a Python package.

The root holds the pack's ``__init__.py`` (ComfyUI loads the pack by path, so its folder needs no
Python name; a clone is usually called ``comfyui-novelai-nodes``). pytest would import that file
as a package named after the folder, which fails for such a name. The tests load the pack the way
ComfyUI does instead (``tests.comfy_harness``). A plugin, not a conftest: the root's own
collector is chosen before any conftest applies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if path == ROOT:
        return pytest.Dir.from_parent(parent, path=path)
    return None
