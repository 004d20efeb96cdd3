"""The folders show the architecture: a package per concern, unique names, one-way imports."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORE = REPO / "novelai_core"


def _tracked_modules() -> list[Path]:
    skip = {".venv", ".venv-fresh", "build", "node_modules"}
    return [
        path
        for path in REPO.rglob("*.py")
        if not skip & set(path.relative_to(REPO).parts) and "egg-info" not in str(path)
    ]


def test_no_two_modules_share_a_base_name() -> None:
    names = Counter(
        p.name for p in _tracked_modules() if p.name not in ("__init__.py", "__main__.py")
    )
    assert [name for name, count in names.items() if count > 1] == []


def test_the_core_is_a_few_flat_modules_and_one_package_per_concern() -> None:
    packages = [p for p in CORE.iterdir() if (p / "__init__.py").exists()]
    flat = list(CORE.glob("*.py"))
    assert len(packages) >= 5, packages
    assert len(flat) <= 12, flat


def _imported_modules(path: Path, *, relative: bool) -> set[str]:
    """Absolute imports; with ``relative``, also relative ones (their dots dropped)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and (relative or not node.level):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_core_imports_neither_the_nodes_nor_torch_nor_comfy() -> None:
    for path in CORE.rglob("*.py"):
        roots = {name.split(".")[0] for name in _imported_modules(path, relative=False)}
        assert not roots & {"nodes", "torch", "comfy", "folder_paths", "server"}, path


def test_no_node_module_imports_the_command_line() -> None:
    for path in (REPO / "nodes").rglob("*.py"):
        imported = _imported_modules(path, relative=True)
        cli = [n for n in imported if n == "novelai_core.cli" or n.startswith("novelai_core.cli.")]
        assert cli == [], path


# Private names of requests, urllib3 and Pillow that earlier versions of this project used, plus
# the private-module imports a regression would most likely bring back.
_DEPENDENCY_PRIVATES = re.compile(
    r"\._get_conn\b|\._fp\b|\._connection\b|\bload_read\b|\bdecodermaxblock\b"
    r"|get_connection_with_tls_context|pool_classes_by_scheme|\.im\s*=|\._im\b"
    r"|from (?:requests|urllib3|PIL)(?:\.\w+)* import _\w"
)


def test_no_module_reaches_into_private_names_of_its_dependencies() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in _tracked_modules()
        if path.name != "test_layout.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _DEPENDENCY_PRIVATES.search(line)
    ]
    assert offenders == []
