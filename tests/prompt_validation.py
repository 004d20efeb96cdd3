"""ComfyUI's prompt validation, applied to UI-format workflows before the harness runs them.

A workflow ComfyUI would refuse must fail here too: ComfyUI 0.3.64 drops every output whose
upstream fails validation and still reports the prompt as run (issue 19: a STRING output linked
into a combo silently dropped Generate and Save). The rules follow ComfyUI's ``execution.py``
(``validate_prompt``, ``validate_inputs``) and ``comfy_execution/validation.py``
(``validate_node_input``), written anew from what they check:

- a prompt needs at least one output node (``OUTPUT_NODE``); only outputs and what they depend
  on are validated;
- every required input is present (a widget value or a link);
- a link's type is the origin's RETURN_TYPES entry and must match the input's type: equal
  (a combo input's type is its option list, so only a combo output of the same list matches),
  or, for type strings, "A,B" lists that share a type; a ``VALIDATE_INPUTS`` that takes
  ``input_types`` turns this check off;
- a widget value converts to INT / FLOAT / STRING / BOOLEAN, lies within min..max, and a combo
  value is one of its options (skipped for inputs a ``VALIDATE_INPUTS`` takes).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.comfy_harness import widget_names


@dataclass(frozen=True)
class Problem:
    """One validation error, worded as ComfyUI words it."""

    node_id: str
    class_type: str
    message: str
    details: str

    def __str__(self) -> str:
        return f"{self.class_type} {self.node_id}: {self.message}: {self.details}"


def api_prompt(workflow: Mapping[str, Any], classes: Mapping[str, type]) -> dict[str, Any]:
    """The API form ComfyUI's frontend queues: {id: {class_type, inputs}}; links are
    [origin id, origin slot] and take the place of the widget value of the same name."""
    links = {link[0]: link for link in workflow["links"]}
    prompt: dict[str, Any] = {}
    for node in workflow["nodes"]:
        inputs: dict[str, Any] = {}
        node_class = classes.get(node["type"])
        if node_class is not None:
            names = widget_names(node_class)
            values = node.get("widgets_values", [])
            inputs.update({n: v for n, v in zip(names, values, strict=False) if n is not None})
        for slot in node.get("inputs", []):
            link_id = slot.get("link")
            if link_id is not None:
                _, origin, origin_slot, *_ = links[link_id]
                inputs[slot["name"]] = [str(origin), origin_slot]
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt


def validate_prompt(prompt: Mapping[str, Any], classes: Mapping[str, type]) -> list[Problem]:
    """Every problem ComfyUI would report; [] when the prompt would run in full."""
    for node_id, node in prompt.items():
        if node["class_type"] not in classes:
            return [Problem(node_id, node["class_type"], "node does not exist", "")]
    outputs = [i for i, n in prompt.items() if getattr(classes[n["class_type"]], "OUTPUT_NODE", 0)]
    if not outputs:
        return [Problem("-", "prompt", "Prompt has no outputs", "")]
    problems: dict[str, list[Problem]] = {}
    for output in outputs:
        _validate_node(prompt, classes, output, problems)
    return [problem for found in problems.values() for problem in found]


def _validate_node(
    prompt: Mapping[str, Any],
    classes: Mapping[str, type],
    node_id: str,
    seen: dict[str, list[Problem]],
) -> None:
    if node_id in seen:
        return
    seen[node_id] = []
    class_type = prompt[node_id]["class_type"]
    node_class = classes[class_type]
    spec = node_class.INPUT_TYPES()
    inputs = prompt[node_id]["inputs"]
    validated_by_node, validates_all, sees_types = _custom_validation(node_class)

    def fail(message: str, details: str) -> None:
        seen[node_id].append(Problem(node_id, class_type, message, details))

    for category in ("required", "optional"):
        for name, (input_type, *rest) in spec.get(category, {}).items():
            options = rest[0] if rest else {}
            if name not in inputs:
                if category == "required":
                    fail("Required input is missing", name)
                continue
            value = inputs[name]
            if isinstance(value, list):
                origin, slot = value
                received = classes[prompt[origin]["class_type"]].RETURN_TYPES[slot]
                if not sees_types and not types_match(received, input_type):
                    fail(
                        "Return type mismatch between linked nodes",
                        f"{name}, received_type({received}) mismatch input_type({input_type})",
                    )
                    continue
                _validate_node(prompt, classes, origin, seen)
                continue
            if validates_all or name in validated_by_node:
                continue
            problem = _widget_problem(name, value, input_type, options)
            if problem is not None:
                fail(*problem)


def types_match(received: Any, wanted: Any) -> bool:
    """ComfyUI's link rule: equal, or type strings "A,B" with a type in common."""
    if received == wanted:
        return True
    if not isinstance(received, str) or not isinstance(wanted, str):
        return False
    return bool({t.strip() for t in received.split(",")} & {t.strip() for t in wanted.split(",")})


def _custom_validation(node_class: type) -> tuple[set[str], bool, bool]:
    """Inputs a VALIDATE_INPUTS checks itself, whether it takes them all (``**kwargs``), and
    whether it takes ``input_types`` (then link types are its business)."""
    function = getattr(node_class, "VALIDATE_INPUTS", None)
    if function is None:
        return set(), False, False
    spec = inspect.getfullargspec(function)
    return set(spec.args), spec.varkw is not None, "input_types" in spec.args


def _widget_problem(
    name: str, value: Any, input_type: Any, options: Mapping[str, Any]
) -> tuple[str, str] | None:
    converters = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}
    if isinstance(input_type, str) and input_type in converters:
        try:
            value = converters[input_type](value)
        except (TypeError, ValueError) as exc:
            return f"Failed to convert an input value to a {input_type} value", f"{name}, {exc}"
    if "min" in options and value < options["min"]:
        return f"Value {value} smaller than min of {options['min']}", name
    if "max" in options and value > options["max"]:
        return f"Value {value} bigger than max of {options['max']}", name
    if isinstance(input_type, list) and value not in input_type:
        return "Value not in list", f"{name}: '{value}' not in {input_type}"
    return None
