"""The SDK's public API: every name in ``novelai_core.__all__`` imports lazily from the package."""

from __future__ import annotations

import subprocess
import sys

import pytest

import novelai_core
from novelai_core.client import NovelAIClient
from novelai_core.errors import NovelAIError
from novelai_core.models.user import GenerationRequest, Prompt


def test_every_public_name_resolves_to_the_object_its_module_defines() -> None:
    for name in novelai_core.__all__:
        assert getattr(novelai_core, name) is not None, name
    assert novelai_core.NovelAIClient is NovelAIClient
    assert novelai_core.GenerationRequest is GenerationRequest
    assert novelai_core.Prompt is Prompt
    assert novelai_core.NovelAIError is NovelAIError


def test_the_public_list_and_the_lazy_table_name_the_same_things() -> None:
    exported = set(novelai_core._EXPORTS)
    assert set(novelai_core.__all__) == exported | {"__version__"}
    assert exported <= set(dir(novelai_core))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        novelai_core.NoSuchThing  # noqa: B018


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, novelai_core;"
        "names = ('pydantic', 'PIL', 'requests', 'numpy', 'torch');"
        "heavy = [m for m in names if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_readme_import_line_works_from_the_package() -> None:
    code = (
        "from novelai_core import NovelAIClient, GenerationRequest, Prompt, Character;"
        "r = GenerationRequest(prompt=Prompt(text='1girl'), characters=(Character(prompt='a'),));"
        "print(r.model)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("nai-diffusion")
