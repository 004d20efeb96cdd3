"""Test helpers that behave like ComfyUI: load the pack by path, stand-ins of comfy's runtime,
and a tiny executor for UI-format workflows (the JSON ComfyUI saves and shows as templates).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACK_DIR = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = PACK_DIR / "example_workflows"


# ComfyUI names a pack's module after its folder path with "." replaced by "_x_"; a made-up
# name of that shape proves nothing inside the pack imports itself absolutely.
PACK_MODULE_NAME = "/opt/ComfyUI/custom_nodes/comfyui-novelai_x_nodes"


def load_pack(module_name: str = PACK_MODULE_NAME) -> types.ModuleType:
    """Import the pack the way ComfyUI does: by path, as a package under a name of its own.

    Loaded once per name and reused (ComfyUI also imports each pack once).
    """
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(
        module_name, PACK_DIR / "__init__.py", submodule_search_locations=[str(PACK_DIR)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def pack_module(relative: str) -> types.ModuleType:
    """A submodule of the loaded pack, e.g. "novelai_core.errors" (the pack's own copy)."""
    return importlib.import_module(f"{load_pack().__name__}.{relative}")


# ---------------------------------------------------------------- stand-ins of ComfyUI's runtime


class InterruptProcessingException(Exception):  # noqa: N818 - ComfyUI's name
    """Stand-in of comfy.model_management.InterruptProcessingException."""


@dataclass
class ComfyRuntime:
    """What the stand-in modules recorded: progress updates, texts, and the interrupt flag."""

    updates: list[tuple[int, int, Any]] = field(default_factory=list)
    bars: list[tuple[int, Any]] = field(default_factory=list)
    texts: list[tuple[str, Any]] = field(default_factory=list)
    interrupted: threading.Event = field(default_factory=threading.Event)
    progressed: threading.Event = field(default_factory=threading.Event)  # a bar moved
    preview_size: int = 512
    executing_node: str | None = None  # what comfy_execution.utils reports as running


def _stand_in_modules(runtime: ComfyRuntime) -> dict[str, types.ModuleType]:
    comfy = types.ModuleType("comfy")
    utils = types.ModuleType("comfy.utils")
    management = types.ModuleType("comfy.model_management")
    cli_args = types.ModuleType("comfy.cli_args")
    server = types.ModuleType("server")
    execution = types.ModuleType("comfy_execution")
    execution_utils = types.ModuleType("comfy_execution.utils")

    class ProgressBar:
        def __init__(self, total: int, node_id: Any = None) -> None:
            self.total = total
            self.current = 0
            runtime.bars.append((total, node_id))

        def update_absolute(
            self, value: int, total: int | None = None, preview: Any = None
        ) -> None:
            self.current = value
            runtime.updates.append((value, self.total if total is None else total, preview))
            runtime.progressed.set()
            # ComfyUI's progress hook (main.py) starts with this: Cancel raises inside the bar.
            throw_exception_if_processing_interrupted()

        def update(self, value: int) -> None:
            self.update_absolute(self.current + value)

    def processing_interrupted() -> bool:
        return runtime.interrupted.is_set()

    def throw_exception_if_processing_interrupted() -> None:
        if runtime.interrupted.is_set():
            runtime.interrupted.clear()
            raise InterruptProcessingException()

    class PromptServer:
        instance: Any = None

        def send_progress_text(self, text: str, node_id: Any, sid: Any = None) -> None:
            runtime.texts.append((text, node_id))

    PromptServer.instance = PromptServer()
    utils.ProgressBar = ProgressBar  # type: ignore[attr-defined]
    management.processing_interrupted = processing_interrupted  # type: ignore[attr-defined]
    management.throw_exception_if_processing_interrupted = (  # type: ignore[attr-defined]
        throw_exception_if_processing_interrupted
    )
    management.InterruptProcessingException = InterruptProcessingException  # type: ignore[attr-defined]
    cli_args.args = types.SimpleNamespace(preview_size=runtime.preview_size)  # type: ignore[attr-defined]
    server.PromptServer = PromptServer  # type: ignore[attr-defined]
    execution_utils.get_executing_context = lambda: (  # type: ignore[attr-defined]
        None
        if runtime.executing_node is None
        else types.SimpleNamespace(prompt_id="p", node_id=runtime.executing_node, list_index=None)
    )
    execution.utils = execution_utils  # type: ignore[attr-defined]
    comfy.utils = utils  # type: ignore[attr-defined]
    comfy.model_management = management  # type: ignore[attr-defined]
    comfy.cli_args = cli_args  # type: ignore[attr-defined]
    return {
        "comfy": comfy,
        "comfy.utils": utils,
        "comfy.model_management": management,
        "comfy.cli_args": cli_args,
        "server": server,
        "comfy_execution": execution,
        "comfy_execution.utils": execution_utils,
    }


@contextmanager
def comfy_runtime() -> Iterator[ComfyRuntime]:
    """Install stand-ins of comfy.utils / comfy.model_management / server for the block."""
    runtime = ComfyRuntime()
    modules = _stand_in_modules(runtime)
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield runtime
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


# ------------------------------------------------------------------ calling the nodes directly

# Every input of the NovelAI Generate node: a small, cheap V4.5 image (free on Opus).
GENERATE_INPUTS: dict[str, Any] = {
    "model": "nai-diffusion-4-5-full",
    "size": "Custom",
    "width": 256,
    "height": 384,
    "seed": 42,
    "steps": 6,
    "scale": 5.0,
    "sampler": "k_euler_ancestral",
    "noise_schedule": "karras",
    "cfg_rescale": 0.0,
    "variety": False,
    "samples": 1,
    "spend_guard": "free only",
    "stream": True,
    "smea": "off",
    "decrisper": False,
    "transparent_background": False,
    "unique_id": "7",
}


def prompt_from_node(text: str = "1girl", **overrides: Any) -> Any:
    """The NAI_PROMPT of the pack's NovelAI Prompt node (quality tags on, heavy UC)."""
    inputs = {
        "prompt": text,
        "negative": "",
        "quality_tags": True,
        "quality_preset": "standard",
        "uc_preset": "heavy",
    }
    return load_pack().NODE_CLASS_MAPPINGS["NovelAI_Prompt"]().build(**{**inputs, **overrides})[0]


def run_generate_node(**overrides: Any) -> Any:
    """Run the pack's NovelAI Generate node with every input given, as ComfyUI calls it.

    The inputs are GENERATE_INPUTS and a '1girl' prompt from NovelAI Prompt; ``overrides``
    replace or add any (characters, source, vibes…). Returns the node's four outputs.
    """
    inputs = {**GENERATE_INPUTS, **overrides}
    if "prompt" not in inputs:
        inputs["prompt"] = prompt_from_node()
    return call_node(load_pack().NODE_CLASS_MAPPINGS["NovelAI_Generate"](), **inputs)


# ------------------------------------------------------------------------ the workflow executor


def widget_names(node_class: type) -> list[str]:
    """Names of the inputs that are widgets, in order, as the frontend lays them out.

    A widget is any required/optional input whose type is a combo list or a primitive
    (INT, FLOAT, STRING, BOOLEAN). An INT with control_after_generate gets one extra saved
    value right after it ("fixed", "randomize", ...), represented here by None.
    """
    names: list[str] = []
    spec = node_class.INPUT_TYPES()
    for section in ("required", "optional"):
        for name, (type_, *rest) in spec.get(section, {}).items():
            options = rest[0] if rest else {}
            if isinstance(type_, list) or type_ in ("INT", "FLOAT", "STRING", "BOOLEAN"):
                names.append(name)
                if options.get("control_after_generate"):
                    names.append(None)  # type: ignore[arg-type]
    return names


def call_node(node: Any, **inputs: Any) -> Any:
    """Call a node's FUNCTION as ComfyUI does, awaiting it when it is a coroutine (the nodes
    that wait for NovelAI are ``async def``; see nodes/runtime/async_node)."""
    result = getattr(node, node.FUNCTION)(**inputs)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def load_workflow(name: str) -> dict[str, Any]:
    return json.loads((WORKFLOWS_DIR / name).read_text(encoding="utf-8"))


ExtraNode = Callable[..., tuple[Any, ...]]


@dataclass
class WorkflowRun:
    """Outputs per node id, plus which node ids actually executed (cache misses)."""

    outputs: dict[int, tuple[Any, ...]]
    executed: list[int]
    ui: dict[int, Any]


class Executor:
    """Runs UI-format workflows through the pack's nodes in dependency order.

    Like ComfyUI it caches each node's outputs by its inputs' signature (widget values plus the
    signatures of its upstream nodes), so an unchanged re-queue executes nothing. Core nodes
    (SaveImage, PreviewImage, ...) are stood in for by ``extra_nodes``: callables taking the
    node's linked inputs as keywords.
    """

    def __init__(
        self,
        mappings: Mapping[str, type],
        extra_nodes: Mapping[str, ExtraNode] | None = None,
        *,
        validate: bool = True,
    ) -> None:
        self.mappings = mappings
        self.extra_nodes = dict(extra_nodes or {})
        # Off only for a test's own sketch graphs (made-up local nodes, no output node).
        self.validate = validate
        self._cache: dict[str, tuple[Any, ...]] = {}

    def run(self, workflow: Mapping[str, Any]) -> WorkflowRun:
        """Validate ``workflow`` as ComfyUI would (AssertionError naming each problem), run it."""
        from tests.core_nodes import CORE_NODES
        from tests.prompt_validation import api_prompt, validate_prompt

        classes = {**CORE_NODES, **self.mappings}
        problems = validate_prompt(api_prompt(workflow, classes), classes) if self.validate else []
        if problems:
            raise AssertionError("ComfyUI refuses this workflow:\n" + "\n".join(map(str, problems)))
        return asyncio.run(self.run_async(workflow))

    async def run_async(self, workflow: Mapping[str, Any]) -> WorkflowRun:
        """As ComfyUI (0.3.45+) does: a coroutine FUNCTION becomes a task, and the nodes after
        it in the order run meanwhile; a node that needs its outputs awaits it first."""
        nodes = {node["id"]: node for node in workflow["nodes"]}
        links = {link[0]: link for link in workflow["links"]}
        outputs: dict[int, tuple[Any, ...]] = {}
        signatures: dict[int, str] = {}
        executed: list[int] = []
        ui: dict[int, Any] = {}
        pending: dict[int, asyncio.Task[Any]] = {}

        async def finish(node_id: int, result: Any) -> None:
            if isinstance(result, asyncio.Task):
                result = await result
            if isinstance(result, dict):
                ui[node_id] = result.get("ui")
                result = tuple(result.get("result", ()))
            outputs[node_id] = result
            self._cache[signatures[node_id]] = result

        for node_id in self._order(nodes, links):
            node = nodes[node_id]
            for origin in self._origins(node, links):
                if origin in pending:
                    await finish(origin, pending.pop(origin))
            kwargs, upstream = self._inputs(node, links, outputs, signatures)
            # A stand-in of a core node gets no widgets: its saved values sign its run instead.
            saved = None if node["type"] in self.mappings else node.get("widgets_values")
            signature = json.dumps(
                [node["type"], _signature_of(kwargs, upstream), saved], sort_keys=True, default=str
            )
            signatures[node_id] = signature
            if signature in self._cache:
                outputs[node_id] = self._cache[signature]
                continue
            executed.append(node_id)
            result = self._execute(node, kwargs)
            if inspect.iscoroutine(result):
                task = asyncio.ensure_future(result)
                await asyncio.sleep(0)  # ComfyUI gives the task one turn before moving on
                pending[node_id] = task
                continue
            await finish(node_id, result)
        for node_id, task in pending.items():
            await finish(node_id, task)
        return WorkflowRun(outputs=outputs, executed=executed, ui=ui)

    def _execute(self, node: Mapping[str, Any], kwargs: dict[str, Any]) -> Any:
        type_ = node["type"]
        if type_ in self.extra_nodes:
            return self.extra_nodes[type_](**kwargs)
        node_class = self.mappings[type_]
        instance = node_class()
        hidden = node_class.INPUT_TYPES().get("hidden", {})
        if "unique_id" in hidden:
            kwargs["unique_id"] = str(node["id"])
        return getattr(instance, node_class.FUNCTION)(**kwargs)

    @staticmethod
    def _origins(node: Mapping[str, Any], links: Mapping[int, list[Any]]) -> list[int]:
        return [links[s["link"]][1] for s in node.get("inputs", []) if s.get("link") is not None]

    def _inputs(
        self,
        node: Mapping[str, Any],
        links: Mapping[int, list[Any]],
        outputs: Mapping[int, tuple[Any, ...]],
        signatures: Mapping[int, str],
    ) -> tuple[dict[str, Any], dict[str, str]]:
        kwargs: dict[str, Any] = {}
        if node["type"] in self.mappings:
            names = widget_names(self.mappings[node["type"]])
            values = node.get("widgets_values", [])
            if len(values) != len(names):
                raise AssertionError(
                    f"node {node['id']} ({node['type']}): {len(values)} widget values for "
                    f"{len(names)} widgets {names}"
                )
            kwargs.update({n: v for n, v in zip(names, values, strict=True) if n is not None})
        upstream: dict[str, str] = {}
        for slot in node.get("inputs", []):
            link_id = slot.get("link")
            if link_id is None:
                continue
            _, origin, origin_slot, *_ = links[link_id]
            kwargs[slot["name"]] = outputs[origin][origin_slot]
            upstream[slot["name"]] = f"{signatures[origin]}#{origin_slot}"
        return kwargs, upstream

    @staticmethod
    def _order(nodes: Mapping[int, Any], links: Mapping[int, list[Any]]) -> list[int]:
        """Topological order (Kahn), ties by node id, so runs are reproducible."""
        depends: dict[int, set[int]] = {node_id: set() for node_id in nodes}
        for _, origin, _, target, *_ in links.values():
            depends[target].add(origin)
        order: list[int] = []
        while depends:
            ready = sorted(n for n, deps in depends.items() if not deps)
            if not ready:
                raise AssertionError("the workflow has a cycle")
            for node_id in ready:
                order.append(node_id)
                del depends[node_id]
            for deps in depends.values():
                deps.difference_update(ready)
        return order


def _signature_of(kwargs: Mapping[str, Any], upstream: Mapping[str, str]) -> dict[str, Any]:
    return {
        name: upstream.get(name, value)
        for name, value in kwargs.items()
        if name in upstream or isinstance(value, str | int | float | bool | type(None))
    }
