"""Property-based fuzzing of what the existing format tests leave out: the typed stream-event
layer above the framing, well-formed but odd archives, image bytes given to GeneratedImage,
and NovelAI metadata whose Comment JSON is any JSON at all. Any input yields results or the
typed DecodeError (StreamError for a stream that NovelAI ends early or fails), nothing else.

Raw-byte fuzzing of the framing, the ZIP reader and the PNG/stealth readers lives in
test_streaming.py, test_archive.py and test_metadata.py.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from novelai_core.errors import DecodeError, StreamError
from novelai_core.metadata.params import generation_parameters
from novelai_core.metadata.reader import NovelAIMetadata, add_text_chunks, read_metadata
from novelai_core.results import FinalImage, GeneratedImage, Preview
from novelai_core.transport.archive import build_zip, read_zip
from novelai_core.transport.events import read_events
from novelai_core.transport.framing import decoder_for, encode_msgpack_event, encode_sse_event

FAST = settings(max_examples=60, deadline=None)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.binary(max_size=24),
)
EVENT_TYPES = st.sampled_from(["intermediate", "final", "error", "other", ""])
KEYS = st.sampled_from(
    ["event_type", "samp_ix", "step_ix", "gen_id", "sigma", "image", "message", "extra"]
)
EVENTS = st.dictionaries(KEYS, SCALARS, max_size=8).flatmap(
    lambda event: st.one_of(
        st.just(event), EVENT_TYPES.map(lambda kind: {**event, "event_type": kind})
    )
)


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(body)) for cut in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


@FAST
@given(
    st.sampled_from(["msgpack", "sse"]),
    st.lists(EVENTS, max_size=6),
    st.lists(st.integers(0, 4000), max_size=5),
    st.integers(0, 3),
)
def test_any_sequence_of_stream_events_yields_typed_events_or_a_typed_error(
    framing: str, events: list[dict[str, Any]], cuts: list[int], samples: int
) -> None:
    encode = encode_msgpack_event if framing == "msgpack" else encode_sse_event
    body = b"".join(encode(event) for event in events)
    try:
        for event in read_events(
            _split(body, cuts), decoder_for(framing), n_samples=samples, seed=5
        ):
            assert isinstance(event, Preview | FinalImage)
            assert isinstance(event.sample, int)
    except (DecodeError, StreamError):
        pass


@FAST
@given(st.sampled_from(["msgpack", "sse"]), st.integers(1, 3), st.randoms(use_true_random=False))
def test_finals_in_any_order_between_previews_give_one_image_per_sample(
    framing: str, samples: int, rng: Any
) -> None:
    events: list[dict[str, Any]] = [
        {"event_type": "intermediate", "samp_ix": i, "step_ix": s, "gen_id": "g", "sigma": 1.0,
         "image": b"\xff\xd8jpeg"} for i in range(samples) for s in range(3)
    ] + [{"event_type": "final", "samp_ix": i, "gen_id": "g", "image": b"png%d" % i}
         for i in range(samples)]  # fmt: skip
    rng.shuffle(events)
    encode = encode_msgpack_event if framing == "msgpack" else encode_sse_event
    body = b"".join(encode(event) for event in events)
    cuts = [rng.randrange(len(body)) for _ in range(4)]
    out = list(read_events(_split(body, cuts), decoder_for(framing), n_samples=samples, seed=9))
    finals = sorted((e.sample, e.png, e.seed) for e in out if isinstance(e, FinalImage))
    assert finals == [(i, b"png%d" % i, 9 + i) for i in range(samples)]
    assert sum(isinstance(e, Preview) for e in out) == 3 * samples


NAMES = st.one_of(
    st.integers(0, 20).map(lambda i: f"image_{i}.png"),
    st.text(alphabet="abc_./0123456789", min_size=1, max_size=12).filter(
        lambda name: not name.endswith("/")
    ),
)


@FAST
@given(st.dictionaries(NAMES, st.binary(max_size=64), min_size=1, max_size=6))
def test_any_well_formed_archive_reads_back_every_file_images_first_by_index(
    files: dict[str, bytes],
) -> None:
    try:
        entries = read_zip(build_zip(list(files.items())))
    except DecodeError:
        return  # e.g. names zipfile normalises into duplicates or directories
    assert sorted(entries) == sorted(
        (name, data) for name, data in files.items() if name in dict(entries)
    )
    indices = [int(n[6:-4]) for n, _ in entries if n.startswith("image_") and n.endswith(".png")]
    assert indices == sorted(indices)


def _png(mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (16, 8), (1, 2, 3, 255) if mode == "RGBA" else (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()


@FAST
@given(st.binary(max_size=200), st.integers(0, 400))
def test_image_bytes_of_any_kind_decode_or_raise_decode_error(noise: bytes, cut: int) -> None:
    for data in (noise, _png()[:cut] + noise, b"\x89PNG\r\n\x1a\n" + noise):
        image = GeneratedImage(0, data, 1, "image_0.png")
        assert image.format in ("png", "webp", "jpeg", "unknown")
        with contextlib.suppress(DecodeError):
            assert image.image.size[0] > 0
        with contextlib.suppress(DecodeError):
            assert image.metadata is None or isinstance(image.metadata, NovelAIMetadata)


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
COMMENT_KEYS = st.sampled_from(
    ["prompt", "uc", "seed", "steps", "scale", "sampler", "width", "height", "v4_prompt",
     "v4_negative_prompt", "characterPrompts", "caption", "char_captions", "centers"]
)  # fmt: skip


@FAST
@given(
    st.one_of(JSON, st.dictionaries(COMMENT_KEYS, JSON, max_size=8)),
    # PNG text holds no NUL and no lone surrogate (not encodable at all)
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30),
)
def test_metadata_with_any_comment_json_reads_as_values_or_as_none(
    comment: Any, source: str
) -> None:
    chunks = {"Comment": json.dumps(comment), "Source": source or "x", "Software": "NovelAI"}
    meta = read_metadata(add_text_chunks(_png(), chunks))
    if meta is None:
        assert not isinstance(comment, dict)  # a non-object Comment is not NovelAI's
        return
    params = generation_parameters(meta)  # never raises on odd values
    assert params.model is None or isinstance(params.model, str)
    for value in (meta.prompt, meta.negative, meta.sampler, meta.model, meta.source):
        assert value is None or isinstance(value, str)
    for number in (meta.seed, meta.steps, meta.width, meta.height):
        assert number is None or isinstance(number, int)
    assert meta.scale is None or isinstance(meta.scale, float | int)
    assert all(isinstance(character, dict) for character in meta.characters)
