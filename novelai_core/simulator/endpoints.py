"""The generation endpoints: generate-image, generate-image-stream, encode-vibe, subscription."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from typing import Any, Final

from ..contract.cost import VIBE_ENCODE_COST
from ..transport.archive import build_zip
from ..transport.framing import (
    StreamFormat,
    content_type_for,
    encode_msgpack_event,
    encode_sse_event,
)
from .context import ZIP_HEADERS, RequestContext, Response, json_response
from .faults import MISSING_LAST_IMAGE, STREAM_ERROR_EVENT, STREAM_NO_FINAL
from .go_decoding import ENCODE_VIBE_REQUEST, decode
from .ledger import generation_price
from .refusals import SimError, internal_error, validation_error
from .render import encode_image, preview_base, preview_jpeg, render_sample
from .request_checks import GenPlan, get_model, image_bytes, number, open_image, plan_generation
from .vibe_encodings import make_encoding

STREAM_MODES: Final = ("msgpack", "sse")
_SUBSCRIPTION_DAYS: Final = 30


def _plan_and_price(ctx: RequestContext) -> tuple[GenPlan, int, int]:
    body, parts = ctx.request()
    plan = plan_generation(body, parts, multipart=ctx.multipart)
    ledger = ctx.state.ledger
    price, free = generation_price(plan, ledger.tier, ledger.v5_allowance_left(ctx.key))
    return plan, price, free


def generate(ctx: RequestContext) -> Response:
    """POST /ai/generate-image → ZIP of image_0.png, image_1.png, …; with ``Accept:
    application/json`` the schema's ``{"images": [{image, index, seed}]}`` instead (R13)."""
    plan, price, free = _plan_and_price(ctx)
    with ctx.state.generating(ctx.key):
        ctx.state.ledger.check(ctx.key, price)
        start = time.monotonic()
        ctx.work(plan.steps)
        pixels = [render_sample(plan, i) for i in range(plan.n_samples)]
        seconds = time.monotonic() - start
        files = [
            (f"image_{i}.{plan.image_format}", encode_image(plan, rgba, i, seconds))
            for i, rgba in enumerate(pixels)
        ]
        if ctx.fault_name == MISSING_LAST_IMAGE:
            files.pop()
        ctx.charge(price, free)
    if ctx.wants_json:
        images = [
            {"image": base64.b64encode(data).decode("ascii"), "index": i, "seed": plan.seed + i}
            for i, (_, data) in enumerate(files)
        ]
        return json_response(ctx.created_status(), {"images": images})
    return Response(200, build_zip(files), dict(ZIP_HEADERS))


def generate_stream(ctx: RequestContext) -> Response:
    """POST /ai/generate-image-stream → intermediate JPEG events per step, then final PNGs."""
    plan, price, free = _plan_and_price(ctx)
    mode: StreamFormat = "sse" if plan.stream == "sse" else "msgpack"
    if plan.stream not in (None, *STREAM_MODES):
        raise validation_error("stream must be msgpack or sse")
    ctx.state.acquire_generation(ctx.key)
    try:
        ctx.state.ledger.check(ctx.key, price)
    except SimError:
        ctx.state.release_generation(ctx.key)
        raise
    frames = _framed(_stream_events(ctx, plan, price, free), mode)
    return Response(200, headers={"Content-Type": content_type_for(mode)}, stream=frames)


def _framed(events: Iterator[dict[str, Any]], mode: StreamFormat) -> Iterator[bytes]:
    encode = encode_msgpack_event if mode == "msgpack" else encode_sse_event
    try:
        for event in events:
            yield encode(event)
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def _stream_events(
    ctx: RequestContext, plan: GenPlan, price: int, free: int
) -> Iterator[dict[str, Any]]:
    """Events in NovelAI's order; holds the generation lock until the stream is closed."""
    state, gen_id = ctx.state, uuid.uuid4().hex
    try:
        start = time.monotonic()
        if not state.wait(state.latency_ms):
            return
        pixels = [render_sample(plan, i) for i in range(plan.n_samples)]
        smalls = [preview_base(rgba) for rgba in pixels]
        for step in range(plan.steps):
            if not state.wait(state.step_ms):
                return
            if ctx.fault_name == STREAM_ERROR_EVENT and step >= plan.steps // 2:
                message = internal_error("injected stream error").message
                yield {"event_type": "error", "gen_id": gen_id, "message": message}
                return
            sigma = round(14.6 * (1 - step / plan.steps) ** 3 + 0.03, 4)
            for i, small in enumerate(smalls):
                yield {
                    "event_type": "intermediate",
                    "samp_ix": i,
                    "step_ix": step,
                    "gen_id": gen_id,
                    "sigma": sigma,
                    "image": preview_jpeg(small, (step + 1) / (plan.steps + 1)),
                }
        if ctx.fault_name == STREAM_NO_FINAL:
            return
        seconds = time.monotonic() - start
        finals = [encode_image(plan, rgba, i, seconds) for i, rgba in enumerate(pixels)]
        if ctx.fault_name == MISSING_LAST_IMAGE:
            finals.pop()  # the body ends after the other finals, as a cut stream would
        ctx.charge(price, free)
        for i, png in enumerate(finals):
            yield {"event_type": "final", "samp_ix": i, "gen_id": gen_id, "image": png}
    finally:
        state.release_generation(ctx.key)


def encode_vibe(ctx: RequestContext) -> Response:
    """POST /ai/encode-vibe → opaque bytes naming the model; 2 Anlas, never deterministic.

    Takes the schema's JSON (base64 image) or the web app's multipart form (image part).
    """
    body = decode(ctx.json(), ENCODE_VIBE_REQUEST)
    cap = get_model(body)
    if cap.vibe_mode != "encoded":
        raise internal_error(f"{cap.id} does not take encoded vibes")
    _, parts = ctx.request()
    image = image_bytes(body.get("image"), "image", parts, ctx.multipart)
    open_image(image, "image")
    info = number(body, "information_extracted", 1.0, 0.0, 1.0)  # schema: min 0, max 1
    ctx.state.ledger.check(ctx.key, VIBE_ENCODE_COST)
    ctx.work(0)
    data = make_encoding(cap.id, info, image)
    ctx.charge(VIBE_ENCODE_COST)
    return Response(ctx.created_status(), data, {"Content-Type": "application/binary"})


def subscription(ctx: RequestContext) -> Response:
    """GET /user/subscription: tier, perks, Anlas (fixed + purchased) and V5 usage."""
    tier = ctx.state.ledger.tier
    data: dict[str, Any] = {
        "tier": tier,
        "active": True,
        "expiresAt": int(time.time()) + _SUBSCRIPTION_DAYS * 86400,
        "perks": {
            "maxPriorityActions": 1000 if tier else 0,
            "startPriority": 10,
            "moduleTrainingSteps": 10000 if tier == 3 else 0,
            "unlimitedMaxPriority": tier == 3,
            "voiceGeneration": tier > 0,
            "imageGeneration": True,
            "unlimitedImageGeneration": tier == 3,
            "unlimitedImageGenerationLimits": [
                {"resolution": 4194304, "maxPrompts": 0},
                {"resolution": 1048576, "maxPrompts": 1},
            ],
            "contextTokens": 8192,
        },
        "paymentProcessorData": None,
        "accountType": 0,
        "isGracePeriod": False,
        "simulator": True,
    }
    data.update(ctx.state.ledger.subscription(ctx.key))
    return json_response(200, data)
