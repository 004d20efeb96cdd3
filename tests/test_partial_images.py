"""Images that arrived before a generation failed are handed over on the error, never dropped:
NovelAI may have charged for them (a stream cut after some finals, a ZIP short of images)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from novelai_core.contract.constants import PATH_GENERATE, PATH_GENERATE_STREAM
from novelai_core.errors import DecodeError, StreamError
from novelai_core.simulator import Simulator
from tests.client_helpers import client_for, requests_to, small_request

SEED = 500


@pytest.mark.parametrize("stream", ["msgpack", "sse"])
def test_a_stream_cut_after_some_finals_keeps_them_on_the_stream_error(
    simulator: Simulator, stream: str
) -> None:
    simulator.set_fault("missing_last_image", path=PATH_GENERATE_STREAM)
    request = small_request(samples=3, seed=SEED)
    with pytest.raises(StreamError, match="2 of 3 images arrived") as info:
        client_for(simulator).generate(request, stream=stream)
    partial = info.value.partial
    assert [(image.index, image.seed) for image in partial] == [(0, SEED), (1, SEED + 1)]
    for image in partial:
        assert Image.open(io.BytesIO(image.png)).size == (256, 384)
    assert requests_to(simulator, PATH_GENERATE_STREAM) == 1  # not resent


def test_a_zip_short_of_images_is_a_decode_error_that_carries_the_ones_that_came(
    simulator: Simulator,
) -> None:
    simulator.set_fault("missing_last_image", path=PATH_GENERATE)
    with pytest.raises(DecodeError, match="1 of 2 images") as info:
        client_for(simulator).generate(small_request(samples=2, seed=SEED))
    assert [(image.index, image.seed) for image in info.value.partial] == [(0, SEED)]
    assert info.value.partial[0].png.startswith(b"\x89PNG")
    assert requests_to(simulator, PATH_GENERATE) == 1


def test_a_complete_generation_carries_every_sample_and_errors_have_no_partial(
    simulator: Simulator,
) -> None:
    result = client_for(simulator).generate(small_request(samples=2, seed=SEED))
    assert [image.seed for image in result.images] == [SEED, SEED + 1]
    assert StreamError("x").partial == ()
