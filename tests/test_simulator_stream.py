"""Simulator contract: generate-image-stream in msgpack and SSE framings, and stream faults."""

from __future__ import annotations

import base64
import json
import struct
import time
from typing import Any

import msgpack

from novelai_core.simulator import Simulator
from tests.simulator_support import body, session

STREAM = "/ai/generate-image-stream"


def msgpack_events(data: bytes) -> list[dict[str, Any]]:
    events, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        events.append(msgpack.unpackb(data[offset + 4 : offset + 4 + length], raw=False))
        offset += 4 + length
    return events


def sse_events(data: bytes) -> list[dict[str, Any]]:
    events = []
    for block in data.split(b"\n\n"):
        lines = [line[5:].strip() for line in block.split(b"\n") if line.startswith(b"data:")]
        if lines:
            event = json.loads(b"".join(lines))
            if "image" in event:
                event["image"] = base64.b64decode(event["image"])
            events.append(event)
    return events


def stream(sim: Simulator, mode: str, **params: Any) -> tuple[int, str, bytes]:
    b = body(stream=mode, **params)
    with session(sim).post(sim.url + STREAM, json=b, stream=True, timeout=10) as r:
        data = b"".join(r.iter_content(chunk_size=None))
        return r.status_code, r.headers.get("Content-Type", ""), data


def _check_order(events: list[dict[str, Any]], steps: int, samples: int) -> None:
    inter = [e for e in events if e["event_type"] == "intermediate"]
    finals = [e for e in events if e["event_type"] == "final"]
    assert len(inter) == steps * samples
    assert [e["samp_ix"] for e in inter[:samples]] == list(range(samples))  # interleaved
    assert [e["step_ix"] for e in inter[::samples]] == list(range(steps))
    assert all(e["image"].startswith(b"\xff\xd8") for e in inter)
    assert sorted(e["samp_ix"] for e in finals) == list(range(samples))
    assert all(e["image"].startswith(b"\x89PNG") for e in finals)
    assert events[-samples:] == finals


def test_msgpack_stream_sends_each_step_per_sample_then_final_pngs(simulator: Simulator) -> None:
    status, ctype, data = stream(simulator, "msgpack", steps=5, n_samples=2)
    assert (status, ctype) == (200, "application/msgpack")
    _check_order(msgpack_events(data), steps=5, samples=2)


def test_sse_stream_sends_the_same_events_base64_encoded(simulator: Simulator) -> None:
    status, ctype, data = stream(simulator, "sse", steps=4, n_samples=2)
    assert (status, ctype) == (200, "text/event-stream")
    assert data.startswith(b"data: {")
    _check_order(sse_events(data), steps=4, samples=2)


def test_steps_arrive_step_ms_apart(simulator: Simulator) -> None:
    simulator.set_step_ms(30)
    start = time.monotonic()
    stream(simulator, "msgpack", steps=5)
    assert time.monotonic() - start >= 0.15


def test_a_stream_is_charged_like_a_generation(simulator: Simulator) -> None:
    simulator.set_tier(1)
    stream(simulator, "msgpack", steps=28, width=832, height=1216)
    assert simulator.balance() == 10_000 - 20


def test_stream_no_final_ends_after_intermediates_and_charges_nothing(
    simulator: Simulator,
) -> None:
    simulator.set_tier(1)
    simulator.set_fault("stream_no_final")
    status, _, data = stream(simulator, "msgpack", steps=3)
    events = msgpack_events(data)
    assert status == 200
    assert [e["event_type"] for e in events] == ["intermediate"] * 3
    assert simulator.balance() == 10_000


def test_stream_error_event_arrives_inside_a_200_stream(simulator: Simulator) -> None:
    simulator.set_tier(1)
    simulator.set_fault("stream_error_event")
    status, _, data = stream(simulator, "sse", steps=6)
    events = sse_events(data)
    assert status == 200
    assert events[-1]["event_type"] == "error"
    assert events[-1]["message"]
    assert not any(e["event_type"] == "final" for e in events)
    assert simulator.balance() == 10_000


def test_an_unknown_stream_framing_is_refused(simulator: Simulator) -> None:
    status, _, data = stream(simulator, "carrier-pigeon")
    assert status == 400
    assert json.loads(data)["statusCode"] == 400
