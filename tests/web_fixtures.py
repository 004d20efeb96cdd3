"""Files the frontend and its node tests read, generated from the Python side so they cannot
drift: ``web/capabilities.json`` (the capability rows the widgets follow) and
``tests/web/object_info.json`` (the node definitions, in the shape of ComfyUI's /object_info).

Regenerate with ``python -m tests.web_fixtures``; ``test_web_fixtures`` fails while they differ.
"""

from __future__ import annotations

import json
from typing import Any

from tests.comfy_harness import PACK_DIR, load_pack, pack_module

CAPABILITIES = PACK_DIR / "web" / "capabilities.json"
OBJECT_INFO = PACK_DIR / "tests" / "web" / "object_info.json"


def capabilities() -> dict[str, Any]:
    return pack_module("nodes.frontend.handlers").capabilities()[1]


def object_info() -> dict[str, Any]:
    """Each node's inputs, input order and outputs, as ComfyUI's /object_info lists them."""
    info = {}
    for name, cls in load_pack().NODE_CLASS_MAPPINGS.items():
        inputs = cls.INPUT_TYPES()
        groups = {g: inputs[g] for g in ("required", "optional") if g in inputs}
        info[name] = {
            "input": groups,
            "input_order": {g: list(v) for g, v in groups.items()},
            "output": list(cls.RETURN_TYPES),
            "output_name": list(getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES)),
        }
    return info


def rendered(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> None:
    for path, data in ((CAPABILITIES, capabilities()), (OBJECT_INFO, object_info())):
        path.write_text(rendered(data), encoding="utf-8")


if __name__ == "__main__":
    main()
