"""What the pack's frontend asks the server: model capabilities, a live cost estimate, the graph
of a dropped NovelAI image, tag suggestions. Pure handlers: parsed input in, (status, JSON) out.

ComfyUI may listen on a LAN, so every handler: validates its input and answers errors as JSON
with a status; never puts the token (not even masked) in an answer; never sends a paid request
(only the free /user/subscription and suggest-tags, to the configured host); never fetches a URL
or opens a path taken from the request. ``routes`` wraps them for ComfyUI's aiohttp server.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ...novelai_core.contract.capabilities import (
    GENERATION_MODEL_IDS,
    get_capability,
    inpainting_capability,
)
from ...novelai_core.contract.constants import (
    GRID_CELLS,
    GRID_VALUES,
    OPUS_TIER,
    SIZE_PRESETS,
    TIER_NAMES,
)
from ..character import AI_CHOICE, CUSTOM_XY
from ..generate import CUSTOM_SIZE, SMEA_OFF, SMEA_OPTIONS
from ..runtime import spend_guard
from ..tags import LANGUAGES

if TYPE_CHECKING:
    from ...novelai_core.metadata.params import GenerationParameters

Answer = tuple[int, dict[str, Any]]
MAX_GRAPH_NODES: Final = 5000
MAX_IMAGE_BYTES: Final = 64 * 1024 * 1024
MAX_TAG_QUERY: Final = 200
ACCOUNT_TTL_S: Final = 30.0
TAG_CACHE_SIZE: Final = 512
# Chains whose length changes the price: (Generate input, node types, the chain's own input).
_VIBE_NODES: Final = ("NovelAI_Vibe", "NovelAI_VibeFile")
_REFERENCE_NODES: Final = ("NovelAI_CharacterReference",)
_SOURCE_NODES: Final = ("NovelAI_Img2Img", "NovelAI_Inpaint")


def error(status: int, message: str) -> Answer:
    return status, {"error": message}


# --------------------------------------------------------------------------- capabilities


def capabilities() -> Answer:
    """The capability rows the widgets depend on, and the Generate/Character widget constants."""
    models = {}
    for model_id in GENERATION_MODEL_IDS:
        cap = get_capability(model_id)
        models[model_id] = {
            "family": cap.family,
            "display_name": cap.display_name,
            "smea": cap.smea,
            "decrisper": cap.decrisper,
            "variety": cap.variety_base is not None,
            "transparency": cap.transparency,
            "character_reference": cap.character_reference,
            "vibes": cap.vibe_mode != "none",
            "free_positions": cap.free_positions,
            "max_characters": cap.max_characters,
            "negative_prompt": cap.negative_prompt,
            "uc_presets": list(cap.uc_preset_names),
            "samplers": list(cap.samplers),
            "noise_schedules": list(cap.noise_schedules),
            "defaults": {
                "steps": cap.default_steps,
                "scale": cap.default_scale,
                "sampler": cap.default_sampler,
                "noise_schedule": cap.default_noise_schedule,
            },
        }
    return 200, {
        "models": models,
        "grid": {"cells": list(GRID_CELLS), "values": list(GRID_VALUES)},
        "positions": {"ai_choice": AI_CHOICE, "custom": CUSTOM_XY},
        "sizes": {name: list(size) for name, size in SIZE_PRESETS.items()},
        "custom_size": CUSTOM_SIZE,
        "smea_off": SMEA_OFF,
        "tiers": {str(k): v for k, v in TIER_NAMES.items()},
    }


# --------------------------------------------------------------------------- estimate


class _Account:
    """The account's tier and V5 usage, looked up (free) at most every ACCOUNT_TTL_S."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: tuple[Any, float, int, float | None] | None = None

    def lookup(self, client: Any) -> tuple[int, float | None]:
        now = time.monotonic()
        with self._lock:
            known = self._known
        if known is not None and known[0] is client and now - known[1] < ACCOUNT_TTL_S:
            return known[2], known[3]
        info = client.subscription()
        tier, usage = int(info.tier), info.v5_usage_percent
        with self._lock:
            self._known = (client, now, tier, usage)
        return tier, usage


ACCOUNT: Final = _Account()


class _UnknownError(Exception):
    """The graph does not say (an input comes from a node that is not a NovelAI config node)."""


def _graph_node(graph: Mapping[str, Any], node_id: Any) -> Mapping[str, Any]:
    node = graph.get(str(node_id))
    if not isinstance(node, Mapping) or not isinstance(node.get("inputs", {}), Mapping):
        raise _UnknownError(f"node {node_id} is not in the graph")
    return node


def _literal(node: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = node.get("inputs", {}).get(name)
    if isinstance(value, list):
        raise _UnknownError(f"{name} comes from another node")
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise _UnknownError(f"{name} is not a number")
    if not isinstance(value, kind):
        raise _UnknownError(f"{name} is missing")
    return value


def _upstream(graph: Mapping[str, Any], node: Mapping[str, Any], name: str) -> Any:
    """The node linked to input ``name``, or None when the input is not connected."""
    link = node.get("inputs", {}).get(name)
    if link is None:
        return None
    if not isinstance(link, list) or not link:
        raise _UnknownError(f"{name} is not a link")
    return _graph_node(graph, link[0])


def _chain_length(
    graph: Mapping[str, Any], node: Mapping[str, Any], name: str, kinds: tuple[str, ...]
) -> int:
    """How many NovelAI chain nodes (vibes, character references) feed input ``name``."""
    count, seen = 0, set()
    current = _upstream(graph, node, name)
    while current is not None:
        if id(current) in seen or current.get("class_type") not in kinds:
            raise _UnknownError(f"{name} comes from a node that is not a NovelAI chain node")
        seen.add(id(current))
        count += 1
        current = _upstream(graph, current, name)
    return count


def _canvas(node: Mapping[str, Any]) -> tuple[int, int]:
    size = _literal(node, "size", str)
    if size == CUSTOM_SIZE:
        return _literal(node, "width", int), _literal(node, "height", int)
    if size not in SIZE_PRESETS:
        raise _UnknownError(f"size {size!r} is not a preset")
    return SIZE_PRESETS[size]


def _chain_notes(cap: Any, vibes: int, references: int) -> tuple[str, str]:
    """(why NovelAI would refuse the chains, what the estimate leaves out) for the model."""
    from ...novelai_core.contract.cost import VIBE_ENCODE_COST

    if vibes and cap.vibe_mode == "none":
        return f"{cap.display_name} takes no vibes", ""
    if references and not cap.character_reference:
        return f"{cap.display_name} takes no character references (V4.5 does)", ""
    if vibes and cap.vibe_mode == "encoded":
        return "", f"+ {VIBE_ENCODE_COST} Anlas per vibe not yet encoded for this model"
    return "", ""


def _request_cost(
    graph: Mapping[str, Any], node: Mapping[str, Any], tier: int, usage: Any
) -> tuple[Any, str, str]:
    """The estimate, why the request would be refused ("" if not), what it leaves out."""
    from ...novelai_core.contract.cost import generation_cost

    model = _literal(node, "model", str)
    if model not in GENERATION_MODEL_IDS:
        raise _UnknownError(f"model {model!r} is not offered")
    cap = get_capability(model)
    width, height = _canvas(node)
    smea = _literal(node, "smea", str)
    source = _upstream(graph, node, "source")
    strength = 1.0
    if source is not None:
        if source.get("class_type") not in _SOURCE_NODES:
            raise _UnknownError("source is not a NovelAI Img2Img or Inpaint node")
        strength = float(_literal(source, "strength", (int, float)))
        if source.get("class_type") == "NovelAI_Inpaint":
            cap = inpainting_capability(model)
    vibes = _chain_length(graph, node, "vibes", _VIBE_NODES)
    references = _chain_length(graph, node, "character_references", _REFERENCE_NODES)
    cost = generation_cost(
        cap,
        width=width,
        height=height,
        steps=_literal(node, "steps", int),
        n_samples=_literal(node, "samples", int),
        smea=cap.smea and smea != SMEA_OFF,
        smea_dyn=cap.smea and smea == SMEA_OPTIONS[-1],
        strength=strength,
        vibes=vibes,
        character_references=references,
        tier=tier,
        v5_allowance_left=None if usage is None else usage < 100,
    )
    return (cost, *_chain_notes(cap, vibes, references))


def _tier_for(client: Any, chosen: int) -> tuple[int, Any, str]:
    """(tier, V5 usage, where the tier came from): the account's, else the chosen one."""
    if not client.has_token:
        return chosen, None, "no token"
    from ...novelai_core.errors import NovelAIError

    try:
        tier, usage = ACCOUNT.lookup(client)
    except NovelAIError as exc:
        return chosen, None, f"account lookup failed ({type(exc).__name__})"
    return tier, usage, "account"


def _estimate_problem(body: Any) -> Answer | None:
    """The error answer for a malformed estimate body, or None."""
    if not isinstance(body, Mapping):
        return error(400, "the body must be a JSON object")
    graph, node_id, chosen = body.get("prompt"), body.get("node"), body.get("tier", OPUS_TIER)
    if not isinstance(graph, Mapping) or len(graph) > MAX_GRAPH_NODES:
        return error(400, "prompt must be the graph in API form (an object of nodes)")
    if not isinstance(node_id, str | int) or isinstance(node_id, bool):
        return error(400, "node must be the id of a NovelAI Generate node")
    if isinstance(chosen, bool) or chosen not in TIER_NAMES:
        return error(400, f"tier must be one of {sorted(TIER_NAMES)}")
    node = graph.get(str(node_id))
    if not isinstance(node, Mapping) or node.get("class_type") != "NovelAI_Generate":
        return error(404, f"node {node_id} is not a NovelAI Generate node of this graph")
    return None


def estimate(body: Any, client_factory: Callable[[], Any]) -> Answer:
    """Cost of the Generate node ``body["node"]`` of the API-form graph ``body["prompt"]``.

    Only the Generate node's widgets and the NovelAI config nodes upstream (source strength,
    vibe and character-reference chains) are read; nothing runs, nothing is generated.
    """
    problem = _estimate_problem(body)
    if problem is not None:
        return problem
    graph, node_id = body["prompt"], body["node"]
    node = graph[str(node_id)]
    tier, usage, tier_source = _tier_for(client_factory(), int(body.get("tier", OPUS_TIER)))
    try:
        cost, refusal, extra = _request_cost(graph, node, tier, usage)
        guard = _literal(node, "spend_guard", str)
    except _UnknownError as exc:
        return 200, {"known": False, "text": f"cost unknown: {exc}", "tier_source": tier_source}
    answer = _describe(cost, guard, tier, tier_source, refusal)
    if extra:
        answer["text"] += f" {extra}"
    return 200, answer


def _describe(
    cost: Any, guard: str, tier: int, tier_source: str, problem: str = ""
) -> dict[str, Any]:
    limit = spend_guard.LIMITS.get(guard)
    refused = guard in spend_guard.LIMITS and limit is not None and cost.total > limit
    # 'fit to free' lowers size, steps and samples on Opus; extras (references…) stay paid.
    fitted = refused and guard == spend_guard.FIT_TO_FREE and tier == OPUS_TIER and not cost.extras
    refused = refused and not fitted
    tier_name = TIER_NAMES[tier]
    if problem:
        text = f"refused: {problem}"
    elif cost.over_per_image_limit:
        text = f"refused by NovelAI: ≈ {cost.per_image} Anlas per image is above its limit"
    elif fitted:
        text = f"≈ {cost.total} Anlas as set; fit to free lowers it to Opus' free image"
    elif refused:
        text = f"refused: ≈ {cost.total} Anlas is above the spend guard ({guard})"
    elif cost.total == 0:
        text = f"free ({tier_name})"
    else:
        text = f"≈ {cost.total} Anlas"
    if tier_source != "account":
        text += f" — {tier_source}: priced for {tier_name} (Settings → NovelAI)"
    return {
        "known": True,
        "text": text,
        "total": cost.total,
        "per_image": cost.per_image,
        "free": cost.total == 0,
        "refused": bool(problem) or refused or cost.over_per_image_limit,
        "tier": tier_name,
        "tier_source": tier_source,
        "note": cost.note,
    }


# --------------------------------------------------------------------------- dropped image


def _has_comfy_workflow(data: bytes) -> bool:
    """True when the file carries a ComfyUI workflow or prompt (ComfyUI's own handling then)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            texts = [v for k, v in image.info.items() if k in ("workflow", "prompt")]
            exif = image.getexif()
            texts += [v for v in exif.values() if isinstance(v, str | bytes)]
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    for value in texts:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        json_like = text.startswith(("workflow:", "prompt:")) or text.lstrip().startswith("{")
        if json_like and ('"nodes"' in text or '"class_type"' in text):
            return True
    return False


def _smea_label(params: GenerationParameters) -> str:
    if params.smea_dyn:
        return SMEA_OPTIONS[-1]
    return SMEA_OPTIONS[1] if params.smea else SMEA_OFF


def _settings(params: GenerationParameters) -> dict[str, Any]:
    """The recorded settings in the Generate node's widget values (SMEA as its label)."""
    return {
        "smea": _smea_label(params),
        "transparent_background": bool(params.transparent_background),
    }


def image_graph(data: Any) -> Answer:
    """What a dropped image says: {"comfy_workflow": True} (ComfyUI's own handling), or the
    NovelAI parameters the frontend builds the graph from, or {"novelai": False}."""
    from ...novelai_core.errors import NovelAIError
    from ...novelai_core.metadata.params import generation_parameters
    from ...novelai_core.metadata.reader import read_metadata
    from ..runtime.tensors import decode_image

    if not isinstance(data, bytes | bytearray) or not data:
        return error(400, "send the image file as the request body")
    if len(data) > MAX_IMAGE_BYTES:
        return error(413, f"the image is larger than {MAX_IMAGE_BYTES // 1048576} MB")
    data = bytes(data)
    if _has_comfy_workflow(data):
        return 200, {"comfy_workflow": True, "novelai": False}
    try:
        meta = read_metadata(data)
    except (NovelAIError, ValueError, OSError) as exc:
        return error(400, f"not a readable image: {type(exc).__name__}")
    if meta is None:
        return 200, {"comfy_workflow": False, "novelai": False}
    try:
        picture = decode_image(data)  # V5 transparency shows in the alpha channel
    except (OSError, ValueError, SyntaxError):
        picture = None
    recorded = generation_parameters(meta, picture)
    params = recorded.as_json()
    params.update(_settings(recorded))
    return 200, {"comfy_workflow": False, "novelai": True, "parameters": params}


# --------------------------------------------------------------------------- tag suggestions


class _TagCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str, str], list[dict[str, Any]]] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> list[dict[str, Any]] | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple[str, str, str], value: list[dict[str, Any]]) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > TAG_CACHE_SIZE:
                self._items.popitem(last=False)


TAG_CACHE: Final = _TagCache()


def _tag_query_problem(prompt: str, model: str, lang: str) -> Answer | None:
    if not prompt or len(prompt) > MAX_TAG_QUERY:
        return error(400, f"prompt must be 1 to {MAX_TAG_QUERY} characters")
    if model not in GENERATION_MODEL_IDS:
        return error(400, "model must be a NovelAI generation model id")
    if lang not in LANGUAGES:
        return error(400, f"lang must be one of {', '.join(LANGUAGES)}")
    return None


def suggest_tags(query: Mapping[str, str], client_factory: Callable[[], Any]) -> Answer:
    """NovelAI's free tag suggestions for ``query["prompt"]`` (the tag being typed)."""
    from ...novelai_core.errors import NovelAIError

    prompt = str(query.get("prompt", "")).strip()
    model, lang = query.get("model", ""), query.get("lang", LANGUAGES[0])
    problem = _tag_query_problem(prompt, model, lang)
    if problem is not None:
        return problem
    key = (model, lang, prompt)
    cached = TAG_CACHE.get(key)
    if cached is not None:
        return 200, {"tags": cached}
    client = client_factory()
    if not client.has_token:
        return 200, {"tags": [], "note": "no NovelAI token: no suggestions"}
    try:
        found = client.suggest_tags(prompt, model=model, lang=lang)
    except NovelAIError as exc:
        return error(502, f"NovelAI suggest-tags failed: {type(exc).__name__}")
    tags = [{"tag": t.tag, "count": t.count, "confidence": t.confidence} for t in found]
    TAG_CACHE.put(key, tags)
    return 200, {"tags": tags}
