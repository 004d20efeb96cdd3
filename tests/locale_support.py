"""Builds locales/en/nodeDefs.json from the nodes' own names, descriptions and tooltips."""

from __future__ import annotations

from typing import Any


def build_node_defs(pack: Any) -> dict[str, Any]:
    """The frontend's nodeDefs format: display name, description, inputs and outputs per node."""
    defs: dict[str, Any] = {}
    for node_id, node_class in sorted(pack.NODE_CLASS_MAPPINGS.items()):
        spec = node_class.INPUT_TYPES()
        inputs = {
            name: {"name": name.replace("_", " "), "tooltip": entry[1]["tooltip"]}
            for section in ("required", "optional")
            for name, entry in spec.get(section, {}).items()
        }
        tooltips = getattr(node_class, "OUTPUT_TOOLTIPS", ())
        outputs = {
            str(index): {"name": name, **({"tooltip": tooltips[index]} if tooltips else {})}
            for index, name in enumerate(node_class.RETURN_NAMES)
        }
        defs[node_id] = {
            "display_name": pack.NODE_DISPLAY_NAME_MAPPINGS[node_id],
            "description": node_class.DESCRIPTION,
            "inputs": inputs,
            "outputs": outputs,
        }
    return defs
